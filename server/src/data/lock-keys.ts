// The documents that doc-lock serialises updates of, spelled in one place.
export const lockKeys = {
  room: (roomId: string) => `room:${roomId}`,
  membership: (roomId: string, userId: string) => `membership:${roomId}:${userId}`,
  message: (messageId: string) => `message:${messageId}`,
} as const;
