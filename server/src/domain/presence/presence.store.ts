// Where connections are counted. One node: in memory. A cluster: Redis, so a user
// is online while any socket anywhere is connected (see data/presence-redis.store.ts).
export interface AnnouncedPresence {
  online: Set<string>;
  /** When recently flipped users went offline (absent: look in the database). */
  lastSeenAt: Map<string, Date>;
}

/** How long a store keeps the lastSeenAt of a flip: far longer than its database write takes. */
export const RECENT_LAST_SEEN_MS = 60 * 60 * 1000;

export interface PresenceStore {
  /** Records a socket; resolves true if the user's announced status was offline. */
  addSocket(userId: string, socketId: string): Promise<boolean>;
  /** Removes a socket; resolves true if the user now has no socket anywhere. */
  removeSocket(userId: string, socketId: string): Promise<boolean>;
  /**
   * Flips the announced status to offline if the user still has no socket; true if it flipped.
   * `lastSeenAt` is recorded in the same step, so that nobody reads the user offline without
   * it while the database write of lastSeenAt is still in flight.
   */
  markOfflineIfIdle(userId: string, lastSeenAt?: Date): Promise<boolean>;
  /** Users with a connected socket anywhere right now (who to notify as offline). */
  onlineOf(userIds: string[]): Promise<Set<string>>;
  /**
   * Users whose announced status is online: connected, or disconnected but still inside the
   * grace period. What presence:get and member lists report, so that they agree with the
   * presence:updated events (a reconnect inside the grace period announces nothing).
   */
  announcedOnlineOf(userIds: string[]): Promise<Set<string>>;
  /**
   * The announced status together with the lastSeenAt recorded by the flip to offline, read
   * in one step (recent flips only; older ones are in the database).
   */
  announcedOf(userIds: string[]): Promise<AnnouncedPresence>;
  close(): Promise<void>;
}
