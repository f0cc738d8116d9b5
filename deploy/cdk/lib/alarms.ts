// CloudWatch alarms the runbook explains (docs/operations.md, "Alarms"), sent to one SNS topic.
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import * as cap from './capacity';
import { chatMetric } from './scaling';

export interface AlarmsProps {
  targetGroup: elbv2.ApplicationTargetGroup;
  alb: elbv2.ApplicationLoadBalancer;
  redisNodeIds: string[];
}

export class ChatAlarms extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'chat alarms',
      enforceSSL: true,
      masterKey: kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
    });
    const alarm = (name: string, metric: cloudwatch.IMetric, threshold: number, description: string, opts: { evaluationPeriods?: number; datapointsToAlarm?: number } = {}) => {
      const a = new cloudwatch.Alarm(this, name, {
        alarmName: `chat-${name}`,
        alarmDescription: `${description} Runbook: docs/operations.md, "Alarms".`,
        metric,
        threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: opts.evaluationPeriods ?? 5,
        datapointsToAlarm: opts.datapointsToAlarm ?? 3,
        // No line means no sends or no sheds in that minute: not an alarm.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(new actions.SnsAction(this.topic));
      a.addOkAction(new actions.SnsAction(this.topic));
      return a;
    };

    alarm('send-ack-p99', chatMetric('SendAckLatencyP99', 'chat-api', 'Maximum'), cap.SEND_ACK_P99_ALARM_MS, 'p99 of message:send acks above the target on some task (ms).');
    alarm('event-loop-delay', chatMetric('EventLoopDelayP99', 'chat-api', 'Maximum'), cap.EVENT_LOOP_DELAY_ALARM_MS, 'An API task\'s event loop is blocked (p99 delay, ms).');
    alarm('shed-requests', chatMetric('ShedRequests', 'chat-api', 'Sum'), 0, 'API tasks are refusing work to protect themselves (overload).', { evaluationPeriods: 3, datapointsToAlarm: 2 });
    alarm('dead-letters', chatMetric('DeadLetters', 'chat-workers', 'Sum', Duration.minutes(5)), 0, 'Jobs failed their last attempt (npm run jobs -- list-dead).', { evaluationPeriods: 1, datapointsToAlarm: 1 });
    alarm('unhealthy-api-tasks', props.targetGroup.metrics.unhealthyHostCount({ statistic: 'Maximum', period: Duration.minutes(1) }), 0, 'A task fails /readyz (MongoDB or Redis down for it, or stuck draining).', { evaluationPeriods: 2, datapointsToAlarm: 2 });
    alarm('api-5xx', props.alb.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { statistic: 'Sum', period: Duration.minutes(1) }), 10, 'REST 5xx answers from the tasks.');
    for (const node of props.redisNodeIds) {
      const redis = (metricName: string, statistic = 'Average') =>
        new cloudwatch.Metric({ namespace: 'AWS/ElastiCache', metricName, dimensionsMap: { CacheClusterId: node }, statistic, period: Duration.minutes(1) });
      alarm(`redis-cpu-${node}`, redis('EngineCPUUtilization'), 80, `Redis ${node}: engine CPU (%) near its single thread's limit.`);
      // noeviction: at 100 % writes fail (sends, presence, queues).
      alarm(`redis-memory-${node}`, redis('DatabaseMemoryUsagePercentage'), 80, `Redis ${node}: memory (%) nearing maxmemory (noeviction: writes will fail).`);
      alarm(`redis-replication-lag-${node}`, redis('ReplicationLag', 'Maximum'), 5, `Redis ${node}: replica lag (s); a failover would lose that much.`);
    }
  }
}
