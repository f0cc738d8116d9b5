// Id generation. Ids are opaque to clients; some are derived so that a natural
// unique key becomes the _id, which every MongoDB-compatible server enforces atomically.
import crypto from 'node:crypto';
import { Types } from 'mongoose';

export const newId = (): string => new Types.ObjectId().toHexString();

/** `${roomId}:${userId}`; room ids never contain ':'. */
export const membershipId = (roomId: string, userId: string): string => `${roomId}:${userId}`;

/** A message's _id is its place in the room: allocating a seq is inserting this _id. */
export const messageDocId = (roomId: string, seq: number): string => `${roomId}:${seq}`;

/** The idempotency key of a message: (sender, clientMsgId), hashed to a fixed length. */
export const idempotencyKey = (senderId: string, clientMsgId: string): string =>
  crypto.createHash('sha256').update(`${senderId}\u0000${clientMsgId}`).digest('hex').slice(0, 32);

/** One direct room per unordered pair of users. */
export const directRoomId = (a: string, b: string): string => {
  const [x, y] = [a, b].sort();
  return `dm${crypto.createHash('sha256').update(`${x}\u0000${y}`).digest('hex').slice(0, 22)}`;
};

export function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: number }).code === 11000;
}
