// Per-node cache of each user's room ids (the connect and room:list paths read it on every
// connection). An entry is dropped when the user's rooms change on this node, on every
// other node through the cluster (forgetOnPeers), and after a TTL as a safety net; the
// whole cache is dropped when the cluster link recovers (invalidations may have been lost).

import { StampedCache } from '../lib/stamped-cache';
import type { Peers } from './peers';

export interface UserRoomsCacheOptions {
  ttlMs?: number;
  maxEntries?: number;
  /** The other nodes of a cluster, told of every forget. */
  peers?: Pick<Peers, 'userRoomsChanged'>;
}

export class UserRoomsCache extends StampedCache<readonly string[]> {
  constructor(opts: UserRoomsCacheOptions = {}) {
    const peers = opts.peers;
    super(peers ? (userId) => peers.userRoomsChanged(userId) : null, { ttlMs: opts.ttlMs, maxEntries: opts.maxEntries });
  }
}
