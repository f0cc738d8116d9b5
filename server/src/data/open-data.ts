// The data layer of one node, opened in order: models and indexes, the repositories,
// the one-off migration, the document lock and the room counters.
import type { Deps } from '../deps';
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
  const docLock = createDocLock(deps.redis, ferret, deps.config.redisKeyPrefix);
  const counters = createRoomCounters({
    store: deps.redis ? createRedisCounterStore({ redis: deps.redis, keyPrefix: deps.config.redisKeyPrefix }) : createMemoryCounterStore(),
    repos,
    docLock,
    log: deps.log.child({ component: 'counters' }),
    writeGate,
    ...deps.config.counters,
  });
  return { repos, counters, docLock, ferret };
}
