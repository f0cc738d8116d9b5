// The generator's single clock. Every latency is a difference of two readings of
// this monotonic clock taken in this process, so wall-clock jumps and the
// server's clock never enter a measurement.
import { performance } from 'node:perf_hooks';

/** Milliseconds, monotonic, with sub-millisecond resolution. */
export const now = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
