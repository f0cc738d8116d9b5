// Timing that the load balancer, ECS and the node must agree on (docs/operations.md,
// "Rolling deploys and draining"). The template tests check each relation.

/** The container port of the API (PORT). */
export const API_PORT = 3000;
/** The workers' /metrics and /healthz (WORKERS_METRICS_PORT). */
export const WORKERS_METRICS_PORT = 9464;
/** Readiness: 503 while draining or while MongoDB/Redis is down (server/src/http/health.router.ts). */
export const HEALTH_CHECK_PATH = '/readyz';

/** SHUTDOWN_GRACE_MS: the node's drain budget. */
export const SHUTDOWN_GRACE_MS = 10_000;
/** The node force-quits this long after the grace period (server/src/process-lifecycle.ts). */
export const FORCE_QUIT_MARGIN_MS = 5_000;
/** The node polls the task metadata this often (server/src/cluster/ecs-task-stop.ts). */
export const TASK_STOP_POLL_MS = 2_000;
/** The drain closes every connection still open at this share of the grace (cluster/drain.ts). */
export const DRAIN_HARD_STOP_SHARE = 0.8;
/**
 * ALB deregistration delay = SHUTDOWN_GRACE_MS: the node starts its spread drain when ECS marks
 * the task to stop (DRAIN_ON_TASK_STOP), which is when deregistration starts, and has closed its
 * last socket by poll + 80 % of the grace, before the ALB would cut anything.
 */
export const DEREGISTRATION_DELAY_S = SHUTDOWN_GRACE_MS / 1000;
/** ECS stopTimeout: SIGTERM → SIGKILL; must cover grace + force-quit margin. */
export const STOP_TIMEOUT_S = 30;

/** Node's server.keepAliveTimeout (server/src/app.ts): above the ALB idle timeout, so the ALB closes idle connections first. */
export const NODE_KEEP_ALIVE_TIMEOUT_S = 76;
/** ALB idle timeout: above Socket.IO's 25 s ping interval and below Node's keep-alive timeout. */
export const ALB_IDLE_TIMEOUT_S = 75;

/** How often the nodes write their CloudWatch EMF line (METRICS_EMF_INTERVAL_MS). */
export const EMF_INTERVAL_MS = 10_000;
/** Scale-in waits this long between steps, so one step's drains finish before the next. */
export const SCALE_IN_COOLDOWN_S = 300;
export const SCALE_OUT_COOLDOWN_S = 60;
