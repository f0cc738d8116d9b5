// The MongoDB connection (one per app, never the mongoose global) and its health probe.
import mongoose, { type Connection } from 'mongoose';
import type { Logger } from '../logger';

export interface MongoOptions {
  /** Called for every command the driver sends (command monitoring): counts the database budget. */
  onCommand?(name: string): void;
}

/** Opens a connection; commands fail fast instead of buffering while the database is down. */
export async function connectMongo(uri: string, log: Logger, opts: MongoOptions = {}): Promise<Connection> {
  const conn = mongoose.createConnection(uri, {
    serverSelectionTimeoutMS: 5000,
    bufferCommands: false,
    autoIndex: false,
    maxPoolSize: 50,
    monitorCommands: opts.onCommand !== undefined,
  });
  if (opts.onCommand) {
    const onCommand = opts.onCommand;
    conn.getClient().on('commandStarted', (e: { commandName: string }) => onCommand(e.commandName));
  }
  conn.on('disconnected', () => log.warn('mongodb disconnected'));
  conn.on('reconnected', () => log.info('mongodb reconnected'));
  await conn.asPromise();
  log.info({ db: conn.name }, 'mongodb connected');
  return conn;
}

/** Resolves true when the database answers a ping within the timeout. */
export async function pingMongo(conn: Connection, timeoutMs = 1500): Promise<boolean> {
  if (conn.readyState !== 1 || !conn.db) return false;
  try {
    await withTimeout(conn.db.admin().ping(), timeoutMs);
    return true;
  } catch {
    return false;
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** FerretDB says so in buildInfo; it scans collections for anything but _id lookups. */
export async function isFerretDb(conn: Connection): Promise<boolean> {
  const info = await conn.db!.admin().command({ buildInfo: 1 });
  return typeof info.ferretdbVersion === 'string';
}

/**
 * Whether FerretDB serves `_id` equality from an index here. FerretDB 1.24 alone does not (its
 * `_id` index is on another JSON expression than its filter: every lookup scans), and then one
 * range query is cheaper than a page of lookups; tools/devdb adds that expression index
 * (docs/architecture.md), which makes a lookup ~1 ms. A FerretDB other than devdb would want
 * HISTORY_READS=range.
 */
export const FERRETDB_ID_LOOKUPS_INDEXED = true;
