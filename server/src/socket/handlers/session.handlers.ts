// auth:refresh — extends a live socket's session with a new token for the same user.
import type { Deps } from '../../deps';
import { compile } from '../../contracts/validate';
import { errors } from '../../errors';
import { defineHandler } from '../define-handler';
import { scheduleExpiry } from '../session';

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
      ctx.socket.data.exp = verified.exp;
      scheduleExpiry(ctx.socket);
      return { exp: verified.exp };
    }),
  ];
}
