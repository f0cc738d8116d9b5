// Synthesises the CDK stack once (offline) and checks the template: ports, health checks, the
// timing relations between ALB, ECS and the node, environment names, secrets, autoscaling,
// alarms, cdk-nag's AwsSolutions rules, and that deploy/ecs/*.json match it.
import fs from 'node:fs';
import path from 'node:path';
import { App, Aspects } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../../server/src/config';
import * as cap from '../../deploy/cdk/lib/capacity';
import { ChatStack, REFERENCE_STACK_PROPS } from '../../deploy/cdk/lib/chat-stack';
import { renderEcsJson } from '../../deploy/cdk/lib/ecs-json';
import * as t from '../../deploy/cdk/lib/timing';

const root = path.join(__dirname, '..', '..');
type Container = { Name: string; Command: string[]; Environment: Array<{ Name: string; Value: string }>; Secrets: Array<{ Name: string }>; StopTimeout: number; PortMappings?: Array<{ ContainerPort: number }>; HealthCheck: { Command: string[] } };

let stack: ChatStack;
let template: Template;

function container(family: string): Container {
  const defs = template.findResources('AWS::ECS::TaskDefinition', { Properties: { Family: family } });
  const [def] = Object.values(defs);
  return def.Properties.ContainerDefinitions[0];
}
const env = (c: Container) => Object.fromEntries(c.Environment.map((e) => [e.Name, e.Value]));

beforeAll(() => {
  const app = new App();
  stack = new ChatStack(app, 'ChatStack', REFERENCE_STACK_PROPS);
  Aspects.of(app).add(new AwsSolutionsChecks());
  template = Template.fromStack(stack); // the one synthesis of this file
}, 120_000);

describe('CDK stack: load balancer', () => {
  it('listens on 443 (TLS) and redirects 80, forwarding to the API target group', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 443, Protocol: 'HTTPS' });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 80, DefaultActions: [Match.objectLike({ Type: 'redirect' })] });
  });

  it('health-checks /readyz on the API port over HTTP/1.1, with stickiness and the deregistration delay', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: t.API_PORT,
      Protocol: 'HTTP',
      ProtocolVersion: 'HTTP1',
      TargetType: 'ip',
      HealthCheckPath: '/readyz',
      HealthCheckIntervalSeconds: 5,
      UnhealthyThresholdCount: 2,
      TargetGroupAttributes: Match.arrayWith([
        { Key: 'deregistration_delay.timeout_seconds', Value: String(t.DEREGISTRATION_DELAY_S) },
        { Key: 'stickiness.enabled', Value: 'true' },
        { Key: 'stickiness.type', Value: 'lb_cookie' },
      ]),
    });
  });

  it('keeps the ALB idle timeout between Socket.IO\'s ping interval and Node\'s keepAliveTimeout (server/src/app.ts)', () => {
    const appTs = fs.readFileSync(path.join(root, 'server/src/app.ts'), 'utf8');
    const keepAliveMs = Number(/server\.keepAliveTimeout = ([\d_]+)/.exec(appTs)![1].replace(/_/g, ''));
    expect(keepAliveMs / 1000).toBe(t.NODE_KEEP_ALIVE_TIMEOUT_S);
    expect(t.ALB_IDLE_TIMEOUT_S).toBeLessThan(keepAliveMs / 1000);
    expect(t.ALB_IDLE_TIMEOUT_S).toBeGreaterThan(25); // Socket.IO pingInterval
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'idle_timeout.timeout_seconds', Value: String(t.ALB_IDLE_TIMEOUT_S) }]),
    });
  });
});

describe('CDK stack: tasks and services', () => {
  it('runs the API and the workers from one image with their own commands', () => {
    const api = container('chat-api');
    const workers = container('chat-workers');
    expect(api.Command).toEqual(['node', 'dist/server/src/main.js']);
    expect(workers.Command).toEqual(['node', 'dist/workers/src/main.js']);
    expect((api as unknown as { Image: unknown }).Image).toEqual((workers as unknown as { Image: unknown }).Image);
    expect(api.PortMappings).toEqual([expect.objectContaining({ ContainerPort: t.API_PORT })]);
    expect(env(api).PORT).toBe(String(t.API_PORT));
    expect(env(workers).WORKERS_METRICS_PORT).toBe(String(t.WORKERS_METRICS_PORT));
    expect(api.HealthCheck.Command.join(' ')).toContain(`127.0.0.1:${t.API_PORT}/healthz`);
    expect(workers.HealthCheck.Command.join(' ')).toContain(`127.0.0.1:${t.WORKERS_METRICS_PORT}/healthz`);
  });

  it('gives each task a stop timeout beyond the drain grace plus the force-quit margin, and the ALB a delay the drain fits in', () => {
    for (const c of [container('chat-api'), container('chat-workers')]) {
      const graceMs = Number(env(c).SHUTDOWN_GRACE_MS);
      expect(graceMs).toBe(t.SHUTDOWN_GRACE_MS);
      expect(c.StopTimeout * 1000).toBeGreaterThanOrEqual(graceMs + t.FORCE_QUIT_MARGIN_MS);
    }
    // The ALB cuts at the end of the delay: by then the node (poll + hard stop of its drain) closed everything.
    expect(t.DEREGISTRATION_DELAY_S * 1000).toBe(t.SHUTDOWN_GRACE_MS);
    expect(t.DEREGISTRATION_DELAY_S * 1000).toBeGreaterThanOrEqual(t.TASK_STOP_POLL_MS + t.DRAIN_HARD_STOP_SHARE * t.SHUTDOWN_GRACE_MS);
    expect(env(container('chat-api')).DRAIN_ON_TASK_STOP).toBe('true');
  });

  it('uses only environment names that server/src/config.ts reads, secrets only through Secrets Manager', () => {
    for (const c of [container('chat-api'), container('chat-workers')]) {
      const names = [...c.Environment.map((e) => e.Name), ...c.Secrets.map((s) => s.Name)];
      expect(names.filter((n) => !CONFIG_VARIABLES.includes(n))).toEqual([]);
      const secrets = c.Secrets.map((s) => s.Name);
      expect(secrets).toEqual(expect.arrayContaining(['MONGODB_URI', 'REDIS_URL', 'JWT_SECRET', 'JWT_KEY_ID', 'JWT_VERIFY_KEYS', 'METRICS_TOKEN']));
      expect(Object.keys(env(c)).filter((n) => /SECRET|TOKEN|URI|URL|KEY/.test(n) && !/^(NOTIFY|EVENTS)_WEBHOOK_URL$/.test(n))).toEqual([]);
      expect(env(c)).toMatchObject({ NODE_ENV: 'production', METRICS_EMF_INTERVAL_MS: String(t.EMF_INTERVAL_MS) });
    }
    expect(container('chat-workers').Secrets.map((s) => s.Name)).toEqual(expect.arrayContaining(['NOTIFY_WEBHOOK_SECRET', 'EVENTS_WEBHOOK_SECRET']));
  });

  it('deploys rolling with the circuit breaker, in private subnets', () => {
    for (const name of ['chat-api', 'chat-workers']) {
      template.hasResourceProperties('AWS::ECS::Service', {
        ServiceName: name,
        LaunchType: 'FARGATE',
        DeploymentConfiguration: { MinimumHealthyPercent: 100, MaximumPercent: 200, DeploymentCircuitBreaker: { Enable: true, Rollback: true } },
        NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
      });
    }
  });

  it('runs Redis with a replica, failover, TLS, AUTH and noeviction', () => {
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      NumCacheClusters: 2,
      AutomaticFailoverEnabled: true,
      MultiAZEnabled: true,
      TransitEncryptionEnabled: true,
      AtRestEncryptionEnabled: true,
      AuthToken: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::ElastiCache::ParameterGroup', { Properties: { 'maxmemory-policy': 'noeviction' } });
  });

  it('keeps the JWT key, its id and the verification keys in one secret (one rotation step is atomic per task)', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'chat/jwt',
      GenerateSecretString: Match.objectLike({ GenerateStringKey: 'JWT_SECRET', SecretStringTemplate: JSON.stringify({ JWT_KEY_ID: 'k1', JWT_VERIFY_KEYS: '{}' }) }),
    });
  });
});

describe('CDK stack: autoscaling and alarms', () => {
  it('tracks connections per task and CPU on the API, with a slow scale-in', () => {
    expect(cap.CONNECTIONS_PER_TASK_TARGET).toBe(9000); // from the measured 30,671 B per socket; see lib/capacity.ts
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: cap.API_SCALING.min, MaxCapacity: cap.API_SCALING.max, ResourceId: Match.objectLike({}) });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: cap.CONNECTIONS_PER_TASK_TARGET,
        ScaleInCooldown: t.SCALE_IN_COOLDOWN_S,
        ScaleOutCooldown: t.SCALE_OUT_COOLDOWN_S,
        CustomizedMetricSpecification: { Namespace: 'Chat', MetricName: 'ConnectedSockets', Statistic: 'Average', Dimensions: [{ Name: 'Service', Value: 'chat-api' }] },
      },
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        TargetValue: cap.CPU_TARGET_PERCENT,
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
        ScaleInCooldown: t.SCALE_IN_COOLDOWN_S,
      }),
    });
    // A scale-in step waits for the previous one's drains (deregistration delay) to finish.
    expect(t.SCALE_IN_COOLDOWN_S).toBeGreaterThan(t.DEREGISTRATION_DELAY_S);
  });

  it('scales the workers in steps on the queue backlog', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'StepScaling',
      StepScalingPolicyConfiguration: Match.objectLike({
        AdjustmentType: 'ChangeInCapacity',
        // Bounds are relative to the alarm threshold (addOneAt).
        StepAdjustments: Match.arrayWith([Match.objectLike({ ScalingAdjustment: 3, MetricIntervalLowerBound: cap.WORKER_BACKLOG_STEPS.addThreeAt - cap.WORKER_BACKLOG_STEPS.addOneAt })]),
      }),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'QueueBacklog', Namespace: 'Chat', Dimensions: [{ Name: 'Service', Value: 'chat-workers' }] });
  });

  it('alarms on ack latency, shed requests, dead letters, event-loop delay, unhealthy tasks and Redis', () => {
    const expectAlarm = (name: string, props: Record<string, unknown>) =>
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: `chat-${name}`, AlarmActions: [Match.anyValue()], ...props });
    expectAlarm('send-ack-p99', { Namespace: 'Chat', MetricName: 'SendAckLatencyP99', Threshold: cap.SEND_ACK_P99_ALARM_MS });
    expectAlarm('shed-requests', { Namespace: 'Chat', MetricName: 'ShedRequests', Statistic: 'Sum', Threshold: 0 });
    expectAlarm('dead-letters', { Namespace: 'Chat', MetricName: 'DeadLetters', Dimensions: [{ Name: 'Service', Value: 'chat-workers' }] });
    expectAlarm('event-loop-delay', { MetricName: 'EventLoopDelayP99', Threshold: cap.EVENT_LOOP_DELAY_ALARM_MS });
    expectAlarm('unhealthy-api-tasks', { Namespace: 'AWS/ApplicationELB', MetricName: 'UnHealthyHostCount' });
    for (const node of stack.stores.redisNodeIds) {
      expectAlarm(`redis-memory-${node}`, { Namespace: 'AWS/ElastiCache', MetricName: 'DatabaseMemoryUsagePercentage', Dimensions: [{ Name: 'CacheClusterId', Value: node }] });
      expectAlarm(`redis-cpu-${node}`, { MetricName: 'EngineCPUUtilization' });
    }
  });

  it('publishes under the names the alarms and policies read (server/src/http/emf-metrics.ts)', async () => {
    const { API_EMF_SOURCES, WORKER_EMF_SOURCES } = await import('../../server/src/http/emf-metrics');
    const published = new Set([...API_EMF_SOURCES, ...WORKER_EMF_SOURCES].map((s) => s.name).concat('EventLoopDelayP99'));
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const read = alarms.filter((a) => a.Namespace === 'Chat').map((a) => a.MetricName as string);
    expect(read.filter((n) => !published.has(n))).toEqual([]);
    expect(published.has('ConnectedSockets')).toBe(true);
  });
});

describe('CDK stack: checks', () => {
  it('passes cdk-nag AwsSolutions (every accepted finding is justified in lib/nag-suppressions.ts)', () => {
    const findings = [
      ...Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
      ...Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
    ].map((f) => `${f.id}: ${String(f.entry.data).split('\n')[0]}`);
    expect(findings).toEqual([]);
  });

  it('deploy/ecs/*.json are what the stack synthesises (run npm run deploy:ecs-json after changing it)', () => {
    const rendered = renderEcsJson(template.toJSON() as never, stack.region);
    expect(Object.keys(rendered).sort()).toEqual(['service.json', 'target-group-attributes.json', 'target-group.json', 'task-definition.json', 'workers-task-definition.json']);
    for (const [file, text] of Object.entries(rendered)) {
      expect(fs.readFileSync(path.join(root, 'deploy/ecs', file), 'utf8'), `deploy/ecs/${file} is out of date: npm run deploy:ecs-json`).toBe(text);
    }
  });
});
