// The data layer of one node, opened in order: models and indexes, the repositories,
// the one-off migration, the document lock and the room counters.
import type { Deps } from '../deps';
import { createDeliveryMarks, type DeliveryMarks } from './delivery-marks';
import { createMemoryDeliveryStore, createRedisDeliveryStore } from './delivery-marks.store';
import { createDocLock, type DocLock } from './doc-lock';
import { defineModels, ensureIndexes } from './models';
import { isFerretDb } from './mongo';
import { createRepositories, type Repositories } from './repositories';
import { createRoomCounters, type RoomCounters } from './room-counters';
import { createMemoryCounterStore, createRedisCounterStore } from './room-counters.store';
import { createWriteGate } from './write-gate';

export interface Data {
  repos: Repositories;
  /** Room lastSeq and senders' read marks, checkpointed to the database late (room-counters.ts). */
  counters: RoomCounters;
  docLock: DocLock;
  /** Extension (delivery receipts): members' delivered seqs, checkpointed to the memberships late. */
  delivery: DeliveryMarks;
  /** The database applies updates as read-modify-write and serves only `_id` from an index. */
  ferret: boolean;
}

export async function openData(deps: Pick<Deps, 'db' | 'redis' | 'config' | 'log'>): Promise<Data> {
  const models = defineModels(deps.db);
  await ensureIndexes(models);
  const ferret = await isFerretDb(deps.db);
  // The embedded database has one writer: message batches and checkpoints take turns.
  const writeGate = createWriteGate(ferret);
  const repos = createRepositories(models, { pointLookups: ferret }, writeGate);
  // Lists of the rooms of users who were members before the lists existed (once per database).
  const migrated = await repos.userRooms.migrate();
  if (migrated !== null) deps.log.info({ users: migrated }, 'built the per-user room lists from the memberships');
  // Username search reads buckets where a range over the usernames would scan them all.
  const indexed = ferret ? await repos.usernameBuckets.migrate() : null;
  if (indexed !== null) deps.log.info({ users: indexed }, 'built the username buckets from the users');
  const docLock = createDocLock(deps.redis, ferret, deps.config.redisKeyPrefix);
  const counters = createRoomCounters({
    store: deps.redis ? createRedisCounterStore({ redis: deps.redis, keyPrefix: deps.config.redisKeyPrefix }) : createMemoryCounterStore(),
    repos,
    docLock,
    log: deps.log.child({ component: 'counters' }),
    writeGate,
    ...deps.config.counters,
  });
  const delivery = createDeliveryMarks({
    store: deps.redis ? createRedisDeliveryStore({ redis: deps.redis, keyPrefix: deps.config.redisKeyPrefix }) : createMemoryDeliveryStore(),
    repos,
    docLock,
    log: deps.log.child({ component: 'delivery' }),
    writeGate,
    ...deps.config.delivery.checkpoint,
  });
  return { repos, counters, docLock, ferret, delivery };
}
