// Per-node cache of "is this user a member of this room" for the send and typing hot
// paths, which would otherwise read the membership on every request. Entries are dropped
// at once when a membership changes on this node, on every other node through the cluster
// (forgetOnPeers), and after a short TTL as a safety net. It also holds what the send path
// checks besides membership (moderation): a member's mute expiry and the room's slow mode,
// so that a send costs no extra read for them.
import type { Role } from '../contracts/dto';
import { BoundedMap } from '../lib/bounded-map';
import type { Peers } from './peers';

interface Entry {
  role: Role;
  /** Epoch ms the member's mute ends; null = not muted. */
  mutedUntil: number | null;
  at: number;
}

/** A member as the send path sees it. */
export interface MemberState {
  role: Role;
  mutedUntil: number | null;
}

interface RoomEntry {
  slowModeMs: number;
  at: number;
}

/** The user id of a room-wide entry in forget(): drops the room's settings, not a membership. */
const ROOM_WIDE = '';

export interface MembershipCacheOptions {
  ttlMs?: number;
  maxEntries?: number;
  /** The other nodes of a cluster, told of every forget. */
  peers?: Pick<Peers, 'membershipChanged'>;
}

export class MembershipCache {
  private readonly entries: BoundedMap<string, Entry>;
  private readonly rooms: BoundedMap<string, RoomEntry>;
  private readonly ttlMs: number;
  /** Tells the other nodes to forget an entry (from options.peers). */
  readonly forgetOnPeers: ((roomId: string, userId: string) => void) | null;

  constructor(opts: MembershipCacheOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 5000;
    this.entries = new BoundedMap(opts.maxEntries ?? 100_000);
    this.rooms = new BoundedMap(opts.maxEntries ?? 100_000);
    const peers = opts.peers;
    this.forgetOnPeers = peers ? (roomId, userId) => peers.membershipChanged(roomId, userId) : null;
  }

  get(roomId: string, userId: string): Role | null {
    return this.member(roomId, userId)?.role ?? null;
  }

  member(roomId: string, userId: string): MemberState | null {
    const key = `${roomId}:${userId}`;
    const entry = this.entries.get(key);
    if (!entry) return null;
    if (Date.now() - entry.at > this.ttlMs) {
      this.entries.delete(key);
      return null;
    }
    return { role: entry.role, mutedUntil: entry.mutedUntil };
  }

  set(roomId: string, userId: string, role: Role, mutedUntil: Date | null = null): void {
    this.entries.set(`${roomId}:${userId}`, { role, mutedUntil: mutedUntil ? mutedUntil.getTime() : null, at: Date.now() });
  }

  /** The room's slow-mode interval (0 = off), or null when not cached. */
  slowMode(roomId: string): number | null {
    const entry = this.rooms.get(roomId);
    if (!entry) return null;
    if (Date.now() - entry.at > this.ttlMs) {
      this.rooms.delete(roomId);
      return null;
    }
    return entry.slowModeMs;
  }

  setSlowMode(roomId: string, slowModeMs: number): void {
    this.rooms.set(roomId, { slowModeMs, at: Date.now() });
  }

  /** The room's settings changed: dropped here and on every node. */
  forgetRoom(roomId: string): void {
    this.forget(roomId, ROOM_WIDE);
  }

  /** Drops an entry here and on every node. */
  forget(roomId: string, userId: string): void {
    this.forgetLocal(roomId, userId);
    this.forgetOnPeers?.(roomId, userId);
  }

  forgetLocal(roomId: string, userId: string): void {
    if (userId === ROOM_WIDE) this.rooms.delete(roomId);
    else this.entries.delete(`${roomId}:${userId}`);
  }
}
