// Autoscaling on what a socket server spends: connected sockets per task (the nodes' EMF
// metric) and CPU for the API; queue backlog for the workers. Limits: lib/capacity.ts.
import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as cap from './capacity';
import { SCALE_IN_COOLDOWN_S, SCALE_OUT_COOLDOWN_S } from './timing';

/** A metric the nodes publish as EMF lines (server/src/http/emf-metrics.ts), namespace Chat. */
export function chatMetric(name: string, service: 'chat-api' | 'chat-workers', statistic: string, period = Duration.minutes(1)): cloudwatch.Metric {
  return new cloudwatch.Metric({ namespace: 'Chat', metricName: name, dimensionsMap: { Service: service }, statistic, period });
}

export function scaleApi(api: ecs.FargateService): void {
  const scaling = api.autoScaleTaskCount({ minCapacity: cap.API_SCALING.min, maxCapacity: cap.API_SCALING.max });
  // Every task writes its count each interval with the same dimensions, so Average is the mean per task.
  scaling.scaleToTrackCustomMetric('ConnectionsPerTask', {
    metric: chatMetric('ConnectedSockets', 'chat-api', 'Average'),
    targetValue: cap.CONNECTIONS_PER_TASK_TARGET,
    scaleInCooldown: Duration.seconds(SCALE_IN_COOLDOWN_S),
    scaleOutCooldown: Duration.seconds(SCALE_OUT_COOLDOWN_S),
  });
  scaling.scaleOnCpuUtilization('Cpu', {
    targetUtilizationPercent: cap.CPU_TARGET_PERCENT,
    scaleInCooldown: Duration.seconds(SCALE_IN_COOLDOWN_S),
    scaleOutCooldown: Duration.seconds(SCALE_OUT_COOLDOWN_S),
  });
}

export function scaleWorkers(workers: ecs.FargateService): void {
  const scaling = workers.autoScaleTaskCount({ minCapacity: cap.WORKER_SCALING.min, maxCapacity: cap.WORKER_SCALING.max });
  // Every worker reads the same BullMQ counts, so Maximum is the backlog itself.
  scaling.scaleOnMetric('QueueBacklog', {
    metric: chatMetric('QueueBacklog', 'chat-workers', 'Maximum'),
    adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
    scalingSteps: [
      { upper: 0, change: -1 },
      { lower: cap.WORKER_BACKLOG_STEPS.addOneAt, change: +1 },
      { lower: cap.WORKER_BACKLOG_STEPS.addThreeAt, change: +3 },
    ],
    cooldown: Duration.seconds(SCALE_OUT_COOLDOWN_S),
    evaluationPeriods: 2,
  });
}
