// Per-user block lists (UserBlocksDoc): every read is one `_id` lookup. Written only through
// domain/users/blocks.ts, under the documents' doc locks ($addToSet/$pull are
// read-modify-write on FerretDB).
import type { Models, UserBlocksDoc } from '../models';

export interface BlockRelations {
  /** The users this user blocks. */
  blocked: string[];
  /** The users who block this user. */
  blockedBy: string[];
}

export function blocksRepository({ UserBlocks }: Models) {
  const add = (userId: string, field: keyof BlockRelations, otherId: string) =>
    UserBlocks.updateOne({ _id: userId }, { $addToSet: { [field]: otherId } }, { upsert: true }).exec();
  const remove = (userId: string, field: keyof BlockRelations, otherId: string) =>
    UserBlocks.updateOne({ _id: userId }, { $pull: { [field]: otherId } }).exec();
  return {
    /** Both lists of a user; empty lists when the user never blocked or was blocked. */
    async get(userId: string): Promise<BlockRelations> {
      const doc = await UserBlocks.findById(userId).lean<UserBlocksDoc>().exec();
      return { blocked: doc?.blocked ?? [], blockedBy: doc?.blockedBy ?? [] };
    },
    addBlocked: (blockerId: string, blockedId: string) => add(blockerId, 'blocked', blockedId),
    removeBlocked: (blockerId: string, blockedId: string) => remove(blockerId, 'blocked', blockedId),
    addBlockedBy: (blockedId: string, blockerId: string) => add(blockedId, 'blockedBy', blockerId),
    removeBlockedBy: (blockedId: string, blockerId: string) => remove(blockedId, 'blockedBy', blockerId),
  };
}
export type BlocksRepository = ReturnType<typeof blocksRepository>;
