// GET /me, PATCH /users/me, GET /users (prefix search) and GET /users/:userId/presence (authenticated).
import { Router } from 'express';
import { dmOpen } from '../../contracts/schemas/room.schemas';
import { profilePatch, userSearch } from '../../contracts/schemas/user.schemas';
import type { Services } from '../../domain/services';
import { queryInts, route } from '../route';

export function usersRouter({ users, presence, profiles }: Services): Router {
  const router = Router();
  router.get('/me', route(async (req, res) => {
    res.json({ user: await users.get(req.userId!) });
  }));
  router.patch('/users/me', route(async (req, res) => {
    res.json({ user: await profiles.update(req.userId!, profilePatch(req.body)) });
  }));
  router.get('/users', route(async (req, res) => {
    res.json(await profiles.search(req.userId!, userSearch(queryInts(req.query, ['limit']))));
  }));
  router.get('/users/:userId/presence', route(async (req, res) => {
    const { userId } = dmOpen({ userId: req.params.userId });
    res.json(await presence.getOne(userId));
  }));
  return router;
}
