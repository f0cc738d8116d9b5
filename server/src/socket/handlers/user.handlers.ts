// user:update and user:search (extension: profiles); the same service as PATCH /users/me and GET /users.
import { profilePatch, userSearch } from '../../contracts/schemas/user.schemas';
import type { Services } from '../../domain/services';
import { defineHandler } from '../define-handler';

export function userHandlers({ profiles }: Services) {
  return [
    defineHandler('user:update', profilePatch, async (ctx, p) => ({ user: await profiles.update(ctx.userId, p) })),
    defineHandler('user:search', userSearch, (ctx, p) => profiles.search(ctx.userId, p)),
  ];
}
