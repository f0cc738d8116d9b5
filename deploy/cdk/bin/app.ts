// CDK app entry. `npm run cdk:synth` (or `npx cdk synth` from deploy/cdk, cdk.json points here)
// writes the CloudFormation template to deploy/cdk/cdk.out; it needs no AWS account or network.
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { ChatStack, chatStackPropsFromContext } from '../lib/chat-stack';

// Run by the CDK CLI, CDK_OUTDIR is set; run directly, the assembly goes beside this app.
const app = new App(process.env.CDK_OUTDIR ? {} : { outdir: path.join(__dirname, '..', 'cdk.out') });
const region = app.node.tryGetContext('region') ?? process.env.CDK_DEFAULT_REGION ?? 'eu-west-1';
new ChatStack(app, 'ChatStack', { ...chatStackPropsFromContext(app.node), env: { region } });
app.synth();
