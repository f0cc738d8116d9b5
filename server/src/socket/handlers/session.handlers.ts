// auth:refresh — moves a live socket's session onto a new token of the same user: its expiry
// applies from now on, and revoking it (not the superseded one) ends the session.
import type { Deps } from '../../app';
import { compile } from '../../contracts/validate';
import { errors } from '../../errors';
import { defineHandler } from '../define-handler';
import { holdToken, scheduleExpiry } from '../session';

const refreshSchema = compile<{ token: string }>({
  type: 'object',
  properties: { token: { type: 'string', minLength: 1, maxLength: 8192 } },
  required: ['token'],
  additionalProperties: false,
});

export function sessionHandlers(deps: Pick<Deps, 'tokens'>) {
  return [
    defineHandler('auth:refresh', refreshSchema, async (ctx, { token }) => {
      const verified = deps.tokens.verify(token);
      if (verified.userId !== ctx.userId) throw errors.forbidden('token belongs to another user');
      // Synchronous from verify on: a revocation heard later matches the new token.
      holdToken(ctx.socket, verified);
      scheduleExpiry(ctx.socket);
      return { exp: verified.exp };
    }),
  ];
}
