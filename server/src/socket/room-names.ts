// The only place Socket.IO room names are built: handlers never concatenate strings.

/** Every socket of a user joins this room, so "all of a user's devices" is one target. */
export const userChannel = (userId: string) => `user:${userId}`;

/** Members' sockets join this room to receive the chat room's events. */
export const roomChannel = (roomId: string) => `room:${roomId}`;
