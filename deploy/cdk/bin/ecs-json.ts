// `npm run deploy:ecs-json`: regenerates deploy/ecs/*.json from the synthesised stack.
// test/deploy/chat-stack.test.ts fails while they differ from what the stack would produce.
import fs from 'node:fs';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ChatStack, REFERENCE_STACK_PROPS } from '../lib/chat-stack';
import { renderEcsJson } from '../lib/ecs-json';

const stack = new ChatStack(new App(), 'ChatStack', REFERENCE_STACK_PROPS);
const dir = path.join(__dirname, '..', '..', 'ecs');
for (const [file, text] of Object.entries(renderEcsJson(Template.fromStack(stack).toJSON() as never, stack.region))) {
  fs.writeFileSync(path.join(dir, file), text);
  process.stdout.write(`wrote deploy/ecs/${file}\n`);
}
