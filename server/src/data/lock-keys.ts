// The documents that doc-lock serialises updates of, spelled in one place. DocLock.run
// takes only a LockKey, so a key cannot be built by hand somewhere else.
export type LockKey = string & { readonly __lockKey: never };

const key = (s: string) => s as LockKey;

export const lockKeys = {
  room: (roomId: string) => key(`room:${roomId}`),
  membership: (roomId: string, userId: string) => key(`membership:${roomId}:${userId}`),
  message: (messageId: string) => key(`message:${messageId}`),
  /** A thread's index (threads), keyed by its parent message. */
  thread: (parentId: string) => key(`thread:${parentId}`),
  /** The user's list of room ids (user_rooms). */
  userRooms: (userId: string) => key(`user-rooms:${userId}`),
  /** A user document (profile fields, lastSeenAt). */
  user: (userId: string) => key(`user:${userId}`),
  /** A user's block lists (user_blocks). */
  userBlocks: (userId: string) => key(`user-blocks:${userId}`),
  /** One username bucket (username_buckets, embedded database only). */
  usernameBucket: (bucket: string) => key(`username-bucket:${bucket}`),
  /** A moderation counter of a room (the audit log's seq). */
  moderationCounter: (name: string, roomId: string) => key(`moderation-counter:${name}:${roomId}`),
  /** The flags on one message, and a room's queue of open flags. */
  flag: (messageId: string) => key(`flag:${messageId}`),
  flagQueue: (roomId: string) => key(`flag-queue:${roomId}`),
} as const;
