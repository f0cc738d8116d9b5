// user:update and user:search (extension: profiles), user:block/unblock/list_blocks (user blocks); the same service as PATCH /users/me and GET /users.
import { profilePatch, userBlockTarget, userListBlocks, userSearch } from '../../contracts/schemas/user.schemas';
import type { Services } from '../../domain/services';
import { defineHandler } from '../define-handler';

export function userHandlers({ profiles, blocks }: Services) {
  return [
    defineHandler('user:update', profilePatch, async (ctx, p) => ({ user: await profiles.update(ctx.userId, p) })),
    defineHandler('user:search', userSearch, (ctx, p) => profiles.search(ctx.userId, p)),
    // Extension (user blocks): the same service as /users/me/blocks.
    defineHandler('user:block', userBlockTarget, (ctx, p) => blocks.block(ctx.userId, p.userId)),
    defineHandler('user:unblock', userBlockTarget, (ctx, p) => blocks.unblock(ctx.userId, p.userId)),
    defineHandler('user:list_blocks', userListBlocks, (ctx) => blocks.list(ctx.userId)),
  ];
}
