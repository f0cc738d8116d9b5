// cdk-nag AwsSolutions findings accepted on purpose, each on the construct it concerns and with
// its reason. Anything not listed here fails the template test (test/deploy/chat-stack.test.ts).
import type { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { NagSuppressions } from 'cdk-nag';

export interface Suppressed {
  taskDefinitions: IConstruct[];
  executionRoles: IConstruct[];
  albSecurityGroup: IConstruct;
  accessLogBucket: IConstruct;
  redis: IConstruct;
}

export function suppressJustifiedFindings(stack: Stack, c: Suppressed): void {
  NagSuppressions.addStackSuppressions(stack, [
    {
      id: 'AwsSolutions-SMG4',
      reason: 'No automatic rotation: the JWT key rotates in three deploy steps so no session is cut (docs/operations.md, "Rotate the JWT key"); the Redis AUTH token and webhook/metrics secrets are rotated by hand with a rolling deploy; MONGODB_URI is owned by Atlas.',
    },
  ]);
  for (const task of c.taskDefinitions) {
    NagSuppressions.addResourceSuppressions(task, [{
      id: 'AwsSolutions-ECS2',
      reason: 'Only non-secret settings (ports, timings, log level) are plain environment variables; every secret comes from Secrets Manager through `secrets`.',
    }]);
  }
  for (const role of c.executionRoles) {
    NagSuppressions.addResourceSuppressions(role, [{
      id: 'AwsSolutions-IAM5',
      reason: 'ecr:GetAuthorizationToken (added by CDK for the ECR image) exists only on "*"; the role\'s other grants name their resources.',
      appliesTo: ['Resource::*'],
    }], true);
  }
  NagSuppressions.addResourceSuppressions(c.albSecurityGroup, [{
    id: 'AwsSolutions-EC23',
    reason: 'The ALB is the public entry point: it accepts 80/443 from any address. The tasks and Redis accept only their peers\' security groups.',
  }]);
  NagSuppressions.addResourceSuppressions(c.accessLogBucket, [{
    id: 'AwsSolutions-S1',
    reason: 'The bucket holds the ALB access logs; server access logs of a log bucket would need yet another log bucket.',
  }]);
  NagSuppressions.addResourceSuppressions(c.redis, [{
    id: 'AwsSolutions-AEC5',
    reason: 'Redis keeps its default port: access is limited by security group, AUTH token and TLS; another port adds no protection.',
  }]);
}
