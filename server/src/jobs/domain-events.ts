// Outbound domain events → background jobs (see workers/). Without Redis: none yet.
import type { Deps } from '../app';
import { noDomainEvents, type DomainEvents } from '../domain/notifier';

export interface JobsProducer {
  events: DomainEvents;
  close(): Promise<void>;
}

export function createJobsProducer(_deps: Deps): JobsProducer {
  return { events: noDomainEvents, close: async () => {} };
}
