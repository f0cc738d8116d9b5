// On ECS a stopping task is first deregistered from the ALB; SIGTERM comes only after the
// deregistration delay, when the ALB has already closed every remaining socket at once. The
// task metadata endpoint says DesiredStatus STOPPED from the start, so watching it lets the
// node run its spread drain (cluster/drain.ts) while the ALB still holds the connections.
import type { Logger } from '../logger';

export interface TaskStopWatch {
  stop(): void;
}

export interface TaskStopWatchOptions {
  /** ECS_CONTAINER_METADATA_URI_V4 (the agent sets it in every container). */
  metadataUri: string;
  onStopping: () => void;
  log: Logger;
  intervalMs?: number;
}

/** Polls `<metadataUri>/task`; calls onStopping once when the task's DesiredStatus is STOPPED. */
export function watchEcsTaskStop(opts: TaskStopWatchOptions): TaskStopWatch {
  let done = false;
  let polling = false;
  const check = async () => {
    if (polling || done) return;
    polling = true;
    try {
      const res = await fetch(`${opts.metadataUri}/task`, { signal: AbortSignal.timeout(2000) });
      const body = res.ok ? ((await res.json()) as { DesiredStatus?: unknown }) : null;
      if (body?.DesiredStatus === 'STOPPED' && !done) {
        done = true;
        clearInterval(timer);
        opts.log.info('ECS marked this task to stop: draining now, while the load balancer deregisters it');
        opts.onStopping();
      }
    } catch (err) {
      // The endpoint is local to the task; a failed poll is retried on the next tick, SIGTERM still works.
      opts.log.debug({ err }, 'task metadata poll failed');
    } finally {
      polling = false;
    }
  };
  const timer = setInterval(() => void check(), opts.intervalMs ?? 2000);
  timer.unref();
  return {
    stop() {
      done = true;
      clearInterval(timer);
    },
  };
}
