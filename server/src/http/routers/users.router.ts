// GET /me and GET /users/:userId/presence (authenticated).
import { Router } from 'express';
import { dmOpen } from '../../contracts/schemas/room.schemas';
import type { Services } from '../../domain/services';
import { route } from '../route';

export function usersRouter({ users, presence }: Services): Router {
  const router = Router();
  router.get('/me', route(async (req, res) => {
    res.json({ user: await users.get(req.userId!) });
  }));
  router.get('/users/:userId/presence', route(async (req, res) => {
    const { userId } = dmOpen({ userId: req.params.userId });
    res.json(await presence.getOne(userId));
  }));
  return router;
}
