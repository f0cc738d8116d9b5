// POST /auth/logout: revokes the caller's token, or with `everywhere: true` every token of
// the caller issued so far, on every node (see domain/auth/revocation.ts).
import { Router } from 'express';
import { object } from '../../contracts/schemas/common';
import { compile } from '../../contracts/validate';
import type { Revocation } from '../../domain/auth/revocation';
import type { TokenService } from '../../domain/auth/token.service';
import { errors } from '../../errors';
import { route } from '../route';

export const logoutBody = compile<{ everywhere?: boolean }>(object({ everywhere: { type: 'boolean' } }));

export function sessionsRouter(tokens: TokenService, revocation: Revocation): Router {
  const router = Router();
  router.post('/auth/logout', route(async (req, res) => {
    const match = /^Bearer ([^\s]+)$/i.exec(req.header('authorization') ?? '');
    if (!match) throw errors.unauthorized('missing bearer token');
    const token = tokens.verify(match[1]);
    const { everywhere } = logoutBody(req.body === undefined ? {} : req.body);
    if (everywhere) await revocation.revokeUser(token.userId);
    else if (token.jti) await revocation.revokeToken(token.jti, token.exp, token.userId);
    else throw errors.conflict('this token has no jti and cannot be revoked alone; use { "everywhere": true }');
    res.json({});
  }));
  return router;
}
