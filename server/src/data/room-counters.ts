// Exact room counters over lagging checkpoints. Writing a room's lastSeq and the sender's
// read position ("sending marks the room read up to one's own message") to the database
// on every message would cost more than storing the message, so per message the send
// path writes one Redis script (or a Map entry), and a flusher writes each active room's
// checkpoint once per interval: ONE update of the room document carrying lastSeq,
// lastActivityAt and the senders' marks (`senderMarks.<userId>`), so the three can never
// disagree. Readers overlay the exact values on the documents they read.
//
// Nothing acked is lost when the exact values are (a node without Redis crashed, Redis
// restarted): a message's _id is `roomId:seq`, so recovery probes forward from the
// checkpoint to the true lastSeq and replays the messages past the checkpoint to restore
// their senders' marks.
import { periodicFlush } from '../lib/periodic-flush';
import type { Logger } from '../logger';
import type { DocLock } from './doc-lock';
import { messageDocId } from './ids';
import { lockKeys } from './lock-keys';
import type { MembershipDoc, RoomDoc } from './models';
import type { Repositories } from './repositories';
import type { CounterStore, RoomCounter } from './room-counters.store';
import type { WriteGate } from './write-gate';

export interface RoomCountersOptions {
  store: CounterStore;
  repos: Repositories;
  docLock: DocLock;
  log: Logger;
  /** How often this node writes checkpoints (ms). */
  flushIntervalMs: number;
  /** At most this many rooms checkpointed per flush: one database update each. */
  flushBatch: number;
  /** Checkpoints take turns with message inserts where the database has one writer. */
  writeGate: WriteGate;
}

export interface RoomCounters {
  /** A message was stored at `seq`: the room and the sender's read mark move forward. */
  recordSent(roomId: string, seq: number, at: Date, senderId: string): Promise<void>;
  /** Room documents with exact lastSeq and lastActivityAt (rooms nobody knows are recovered). */
  overlayRooms<T extends RoomDoc>(rooms: T[]): Promise<T[]>;
  /** A user's memberships with the marks made by sending applied; `rooms` as from overlayRooms. */
  overlayMemberships<T extends MembershipDoc>(userId: string, memberships: T[], rooms: RoomDoc[]): Promise<T[]>;
  /** The read marks members of a room made by sending (pending or checkpointed); `room` as from overlayRooms. */
  senderMarks(room: RoomDoc): Promise<Map<string, number>>;
  /** The lastSeq to allocate the next seq from (the room document is read only when nobody knows it). */
  lastSeq(roomId: string): Promise<number>;
  /** Writes up to one batch of checkpoints; resolves how many rooms were written. */
  flush(): Promise<number>;
  /** Writes every pending checkpoint (tests comparing stored documents call it first). */
  settle(): Promise<void>;
  /** Stops the flusher after writing what is pending (bounded). */
  close(): Promise<void>;
}

/** Messages past a checkpoint replayed to restore marks; beyond it only lastSeq is recovered. */
const MAX_REPLAY = 2000;

/** The highest seq that exists, from one known to exist (or 0): doubling, then bisecting. */
export async function probeForward(exists: (seq: number) => Promise<boolean>, from: number): Promise<number> {
  let lo = from;
  let step = 1;
  while (await exists(lo + step)) {
    lo += step;
    step *= 2;
  }
  let hi = lo + step;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (await exists(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

export function createRoomCounters(opts: RoomCountersOptions): RoomCounters {
  const { store, repos, docLock, log } = opts;
  const findMessage = (roomId: string, seq: number) => repos.messages.findById(messageDocId(roomId, seq));

  /** The true counter of a room whose exact values nobody holds: checkpoint, probe, replay. */
  async function recover(room: RoomDoc): Promise<RoomCounter> {
    const lastSeq = await probeForward(async (seq) => (await findMessage(room._id, seq)) !== null, room.lastSeq);
    let lastActivityMs = room.lastActivityAt.getTime();
    const marks = new Map<string, number>();
    const from = Math.max(room.lastSeq + 1, lastSeq - MAX_REPLAY + 1);
    if (from > room.lastSeq + 1) log.warn({ roomId: room._id, checkpoint: room.lastSeq, lastSeq }, 'checkpoint far behind: older senders\u2019 marks not replayed');
    for (let seq = from; seq <= lastSeq; seq++) {
      const m = await findMessage(room._id, seq);
      if (!m) continue;
      marks.set(m.senderId, seq);
      lastActivityMs = Math.max(lastActivityMs, m.createdAt.getTime());
    }
    const counter = { lastSeq, lastActivityMs };
    // Dirty when the checkpoint lagged: the recovered values get written back.
    await store.seedRoom(room._id, counter, marks, lastSeq > room.lastSeq);
    if (lastSeq > room.lastSeq) log.info({ roomId: room._id, checkpoint: room.lastSeq, lastSeq }, 'room counters recovered from messages');
    return counter;
  }

  async function checkpoint(roomId: string): Promise<void> {
    const c = (await store.rooms([roomId])).get(roomId);
    if (!c) return;
    // Read after the counter: every mark of a message up to c.lastSeq is among these.
    const marks = await store.roomMarks(roomId);
    await docLock.run(lockKeys.room(roomId), () => opts.writeGate.run(() => repos.rooms.checkpoint(roomId, c.lastSeq, new Date(c.lastActivityMs), marks)));
    await store.dropMarks(roomId, marks);
  }

  async function flushOnce(): Promise<number> {
    const roomIds = await store.takeDirty(opts.flushBatch);
    const failed: string[] = [];
    for (const roomId of roomIds) {
      try {
        await checkpoint(roomId);
      } catch (err) {
        failed.push(roomId);
        log.debug({ err, roomId }, 'checkpoint failed; retried next time');
      }
    }
    if (failed.length > 0) await store.putBackDirty(failed);
    return roomIds.length - failed.length;
  }
  const flusher = periodicFlush(flushOnce, opts.flushIntervalMs, (err) => log.warn({ err }, 'checkpoint flush failed'));

  return {
    async recordSent(roomId, seq, at, senderId) {
      await store.recordSent(roomId, seq, at.getTime(), senderId);
    },

    async overlayRooms(rooms) {
      if (rooms.length === 0) return rooms;
      const known = await store.rooms(rooms.map((r) => r._id));
      const out: typeof rooms = [];
      for (const r of rooms) {
        let c = known.get(r._id);
        // Unknown, or older than the checkpoint (Redis came back with stale data): recover.
        if (!c || c.lastSeq < r.lastSeq) c = await recover(r);
        out.push({ ...r, lastSeq: Math.max(r.lastSeq, c.lastSeq), lastActivityAt: new Date(Math.max(r.lastActivityAt.getTime(), c.lastActivityMs)) });
      }
      return out;
    },

    async overlayMemberships(userId, memberships, rooms) {
      if (memberships.length === 0) return memberships;
      const pending = await store.marksOf(userId, memberships.map((m) => m.roomId));
      const checkpointed = new Map(rooms.map((r) => [r._id, r.senderMarks?.[userId] ?? 0]));
      return memberships.map((m) => {
        const mark = Math.max(pending.get(m.roomId) ?? 0, checkpointed.get(m.roomId) ?? 0);
        return mark > m.lastReadSeq ? { ...m, lastReadSeq: mark } : m;
      });
    },

    async senderMarks(room) {
      const marks = await store.roomMarks(room._id);
      for (const [userId, seq] of Object.entries(room.senderMarks ?? {})) marks.set(userId, Math.max(marks.get(userId) ?? 0, seq));
      return marks;
    },

    async lastSeq(roomId) {
      const known = (await store.rooms([roomId])).get(roomId);
      if (known) return known.lastSeq;
      const room = await repos.rooms.findById(roomId);
      return room ? (await recover(room)).lastSeq : 0;
    },

    // flush, settle and close; close writes what this node can within a few rounds and leaves
    // the rest dirty (with Redis another node writes it; without, it is recovered at the next start).
    ...flusher,
  };
}
