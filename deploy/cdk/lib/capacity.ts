// The capacity model of one API task, from the figures measured in docs/benchmarks.md, and the
// autoscaling limits derived from it. Re-measure (docs/operations.md, "Capacity model") and
// change MEASURED; everything below follows.

/** Figures from docs/benchmarks.md ("Measured figures"); nothing here is estimated. */
export const MEASURED = {
  /** connect scenario, 1000 idle authenticated WebSockets: RSS (after − before) ÷ sockets. */
  rssBytesPerSocket: 30_671,
  /** Same run: RSS of the node before the ramp (MiB). */
  baseRssMiB: 152,
  /**
   * chat scenario on the embedded database: 5 msg/s in 10 rooms of 20 kept ack p99 at 222 ms;
   * 20 msg/s did not (the database saturated, the node process used 6 % of a core). The node's
   * own message ceiling on a real MongoDB is not measured yet, so CPU tracks it (below).
   */
  messagesPerSecondWithinAckTarget: 5,
} as const;

/** One API task (Fargate). */
export const API_TASK = { cpu: 1024, memoryMiB: 2048 } as const;
/** One workers task: jobs wait on webhooks and MongoDB, not on CPU. */
export const WORKER_TASK = { cpu: 512, memoryMiB: 1024 } as const;

/** Share of task memory idle sockets may take; the rest is send buffers, bursts and GC headroom. */
const SOCKET_MEMORY_SHARE = 0.5;
/**
 * Target tracking holds the *average*; sockets do not move when tasks are added, so one task can
 * hold twice the average after a scale-out, and a failed task's clients land on the others.
 */
const IMBALANCE_FACTOR = 3;

/** Sockets one API task can hold in memory (≈ 29,800 for 2 GiB). */
export const socketsPerTaskByMemory = Math.floor(
  ((API_TASK.memoryMiB * SOCKET_MEMORY_SHARE - MEASURED.baseRssMiB) * 1024 * 1024) / MEASURED.rssBytesPerSocket,
);

/** The scaling target: average connected sockets per task (rounded down to a thousand). */
export const CONNECTIONS_PER_TASK_TARGET = Math.floor(socketsPerTaskByMemory / IMBALANCE_FACTOR / 1000) * 1000;

/** CPU target: messages cost CPU (and database time); 60 % leaves room for a reconnect storm. */
export const CPU_TARGET_PERCENT = 60;

/** Alarm, not a scaling signal: a blocked loop delays every socket of the task. */
export const EVENT_LOOP_DELAY_ALARM_MS = 200;
/** The operations alert on message:send (docs/operations.md, "Metrics"). */
export const SEND_ACK_P99_ALARM_MS = 250;

/** Workers: waiting jobs per step of the step-scaling policy. */
export const WORKER_BACKLOG_STEPS = { addOneAt: 100, addThreeAt: 1000 } as const;

export const API_SCALING = { min: 2, max: 20 } as const;
export const WORKER_SCALING = { min: 1, max: 10 } as const;
