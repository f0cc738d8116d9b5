// The whole production shape of the chat backend on AWS: VPC, ALB, ECS Fargate services for
// the API and the workers (one image), ElastiCache Redis, secrets, logs, autoscaling, alarms.
// Synthesised offline (npm run cdk:synth); deployed with `cdk deploy` (docs/operations.md).
import { Annotations, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ChatAlarms } from './alarms';
import { DataStores } from './data-stores';
import { suppressJustifiedFindings } from './nag-suppressions';
import { scaleApi, scaleWorkers } from './scaling';
import { ChatServices } from './services';

export interface ChatStackProps extends StackProps {
  /** ECR repository the CI pushes the image to, and the tag to run (a git sha; rollback = the previous one). */
  imageRepositoryName?: string;
  imageTag?: string;
  certificateArn?: string;
  /** CORS_ORIGINS: the web app's origins, comma-separated ("*" is refused in production). */
  corsOrigins?: string;
  /** Secrets Manager name of the Atlas connection string (created by hand, see the runbook). */
  mongodbUriSecretName?: string;
  redisNodeType?: string;
  notifyWebhookUrl?: string;
  eventsWebhookUrl?: string;
}

export class ChatStack extends Stack {
  readonly services: ChatServices;
  readonly stores: DataStores;
  readonly alarms: ChatAlarms;

  constructor(scope: Construct, id: string, props: ChatStackProps = {}) {
    super(scope, id, props);
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      // One NAT per AZ: the tasks reach Atlas, ECR and AWS APIs through it; one AZ down keeps the other.
      natGateways: 2,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
    });
    vpc.addFlowLog('FlowLogs', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(this, 'FlowLogGroup', { retention: logs.RetentionDays.ONE_MONTH })),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });

    this.stores = new DataStores(this, 'Data', {
      vpc,
      redisNodeType: props.redisNodeType ?? 'cache.r7g.large',
      mongodbUriSecretName: props.mongodbUriSecretName ?? 'chat/mongodb-uri',
    });
    this.services = new ChatServices(this, 'Services', {
      vpc,
      stores: this.stores,
      imageRepositoryName: props.imageRepositoryName ?? 'chat',
      imageTag: props.imageTag ?? 'latest',
      certificateArn: props.certificateArn,
      // Production refuses "*" (config.ts fails closed); a placeholder keeps offline synthesis working.
      corsOrigins: props.corsOrigins ?? 'https://<YOUR_APP_ORIGIN>',
      notifyWebhookUrl: props.notifyWebhookUrl,
      eventsWebhookUrl: props.eventsWebhookUrl,
    });
    if (!props.corsOrigins) Annotations.of(this).addWarning('corsOrigins not set: CORS_ORIGINS is a placeholder; deploy with -c corsOrigins=https://your.app');
    scaleApi(this.services.api);
    scaleWorkers(this.services.workers);
    this.alarms = new ChatAlarms(this, 'Alarms', {
      targetGroup: this.services.targetGroup,
      alb: this.services.alb,
      redisNodeIds: this.stores.redisNodeIds,
    });
    suppressJustifiedFindings(this, {
      taskDefinitions: [this.services.apiTask, this.services.workersTask],
      executionRoles: [this.services.apiTask.obtainExecutionRole(), this.services.workersTask.obtainExecutionRole()],
      albSecurityGroup: this.services.albSecurityGroup,
      accessLogBucket: this.services.accessLogBucket,
      redis: this.stores.redis,
    });

    new CfnOutput(this, 'LoadBalancerDns', { value: this.services.alb.loadBalancerDnsName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
    new CfnOutput(this, 'JwtSecretArn', { value: this.stores.jwt.secretArn });
  }
}

/**
 * The settings the tests synthesise and deploy/ecs/*.json is generated with: the production
 * shape (HTTPS listener), with a certificate placeholder. Region: any real one (ALB access logs
 * need it); the generated files show it as <REGION>.
 */
export const REFERENCE_STACK_PROPS: ChatStackProps = {
  env: { region: 'eu-west-1' },
  certificateArn: 'arn:aws:acm:eu-west-1:111111111111:certificate/reference',
  imageTag: '<TAG>',
  corsOrigins: 'https://<YOUR_APP_ORIGIN>',
};

/** Stack settings from `cdk synth -c key=value` (or cdk.json's context). */
export function chatStackPropsFromContext(node: Construct['node']): ChatStackProps {
  const get = (key: string): string | undefined => {
    const v = node.tryGetContext(key);
    return typeof v === 'string' && v.length > 0 ? v : undefined;
  };
  return {
    imageRepositoryName: get('imageRepositoryName'),
    imageTag: get('imageTag'),
    certificateArn: get('certificateArn'),
    mongodbUriSecretName: get('mongodbUriSecretName'),
    redisNodeType: get('redisNodeType'),
    corsOrigins: get('corsOrigins'),
    notifyWebhookUrl: get('notifyWebhookUrl'),
    eventsWebhookUrl: get('eventsWebhookUrl'),
  };
}
