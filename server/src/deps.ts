// What every factory may receive: the process-wide resources the composition root
// (app.ts) builds first. A module of its own so that nothing imports app.ts for a type.
import type { Connection } from 'mongoose';
import type Redis from 'ioredis';
import type { Config } from './config';
import type { Logger } from './logger';
import type { TokenService } from './domain/auth/token.service';
import type { Metrics } from './http/metrics';
import type { Admission } from './overload/admission';

export interface Deps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  db: Connection;
  /** Null in single-node mode (no REDIS_URL). */
  redis: Redis | null;
  tokens: TokenService;
  isDraining(): boolean;
  /** Admission control: bounds on the work this node holds, request budgets, shed counts. */
  admission: Admission;
}
