// POST /auth/register and /auth/login.
import { Router, type Request } from 'express';
import { loginBody, registerBody } from '../../contracts/schemas/misc.schemas';
import type { Services } from '../../domain/services';
import type { ClientContext } from '../../domain/users/user.service';
import { route } from '../route';

/** The client address: req.ip trusts TRUST_PROXY_HOPS X-Forwarded-For entries (app.ts), as the socket limits do. */
export function clientOf(req: Request): ClientContext {
  return { address: (req.ip ?? req.socket.remoteAddress ?? '').replace(/^::ffff:/, '').slice(0, 64) || 'unknown' };
}

export function authRouter({ users }: Services): Router {
  const router = Router();
  router.post('/auth/register', route(async (req, res) => {
    res.status(201).json(await users.register(registerBody(req.body), clientOf(req)));
  }));
  router.post('/auth/login', route(async (req, res) => {
    res.json(await users.login(loginBody(req.body), clientOf(req)));
  }));
  return router;
}
