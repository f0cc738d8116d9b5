// The workers ask the cluster's presence store who has a socket anywhere: the same
// factory the API nodes use (server/src/cluster), so both sides read the same keys.
import type { Connection } from 'mongoose';
import type Redis from 'ioredis';
import type { Deps } from '../../../server/src/app';
import type { Config } from '../../../server/src/config';
import { createPresenceStore } from '../../../server/src/cluster';
import { createTokenService } from '../../../server/src/domain/auth/token.service';
import type { PresenceStore } from '../../../server/src/domain/presence/presence.store';
import { createMetrics } from '../../../server/src/http/metrics';
import type { Logger } from '../../../server/src/logger';
import { createAdmission } from '../../../server/src/overload/admission';

/** Only `onlineOf` is ever called on it: the workers never register sockets. */
export function clusterPresence(base: { config: Config; log: Logger; db: Connection; redis: Redis }): PresenceStore {
  const deps: Deps = {
    ...base,
    // The factory takes the API's deps; these are never used for reading presence.
    metrics: createMetrics({ node: base.config.nodeId }),
    tokens: createTokenService(base.config.jwt),
    isDraining: () => false,
    admission: createAdmission(base.config.overload),
  };
  return createPresenceStore(deps);
}
