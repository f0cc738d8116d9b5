// Where connections are counted. One node: in memory. A cluster: Redis, so a user
// is online while any socket anywhere is connected (see data/presence-redis.store.ts).
export interface PresenceStore {
  /** Records a socket; resolves true if the user's announced status was offline. */
  addSocket(userId: string, socketId: string): Promise<boolean>;
  /** Removes a socket; resolves true if the user now has no socket anywhere. */
  removeSocket(userId: string, socketId: string): Promise<boolean>;
  /** Flips the announced status to offline if the user still has no socket; true if it flipped. */
  markOfflineIfIdle(userId: string): Promise<boolean>;
  /** Users with a connected socket anywhere right now (who to notify as offline). */
  onlineOf(userIds: string[]): Promise<Set<string>>;
  /**
   * Users whose announced status is online: connected, or disconnected but still inside the
   * grace period. What presence:get and member lists report, so that they agree with the
   * presence:updated events (a reconnect inside the grace period announces nothing).
   */
  announcedOnlineOf(userIds: string[]): Promise<Set<string>>;
  close(): Promise<void>;
}
