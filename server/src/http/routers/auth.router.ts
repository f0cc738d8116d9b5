// POST /auth/register and /auth/login.
import { Router } from 'express';
import { loginBody, registerBody } from '../../contracts/schemas/misc.schemas';
import type { Services } from '../../domain/services';
import { route } from '../route';

export function authRouter({ users }: Services): Router {
  const router = Router();
  router.post('/auth/register', route(async (req, res) => {
    res.status(201).json(await users.register(registerBody(req.body)));
  }));
  router.post('/auth/login', route(async (req, res) => {
    res.json(await users.login(loginBody(req.body)));
  }));
  return router;
}
