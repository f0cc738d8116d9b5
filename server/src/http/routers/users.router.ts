// GET /me, PATCH /users/me, GET/PUT/DELETE /users/me/blocks, GET /users (prefix search) and GET /users/:userId/presence (authenticated).
import { Router } from 'express';
import { dmOpen } from '../../contracts/schemas/room.schemas';
import { profilePatch, userBlockTarget, userSearch } from '../../contracts/schemas/user.schemas';
import type { Services } from '../../domain/services';
import { queryInts, route } from '../route';

export function usersRouter({ users, presence, profiles, blocks }: Services): Router {
  const router = Router();
  router.get('/me', route(async (req, res) => {
    res.json({ user: await users.get(req.userId!) });
  }));
  router.patch('/users/me', route(async (req, res) => {
    res.json({ user: await profiles.update(req.userId!, profilePatch(req.body)) });
  }));
  // User blocks (extension): the same service as user:block / user:unblock / user:list_blocks.
  router.get('/users/me/blocks', route(async (req, res) => {
    res.json(await blocks.list(req.userId!));
  }));
  router.put('/users/me/blocks/:userId', route(async (req, res) => {
    res.json(await blocks.block(req.userId!, userBlockTarget({ userId: req.params.userId }).userId));
  }));
  router.delete('/users/me/blocks/:userId', route(async (req, res) => {
    res.json(await blocks.unblock(req.userId!, userBlockTarget({ userId: req.params.userId }).userId));
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
