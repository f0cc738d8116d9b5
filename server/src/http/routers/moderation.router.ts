// Room moderation over REST: the same services as the socket handlers.
import { Router } from 'express';
import * as s from '../../contracts/schemas/moderation.schemas';
import { messageDelete as messageRef } from '../../contracts/schemas/message.schemas';
import { roomRef } from '../../contracts/schemas/room.schemas';
import type { Services } from '../../domain/services';
import { queryInts, route } from '../route';

export function moderationRouter({ moderation, flags }: Services): Router {
  const router = Router();
  const room = (roomId: string) => roomRef({ roomId }).roomId;
  const target = (roomId: string, userId: string) => s.roomUnmute({ roomId, userId });
  router.post('/rooms/:roomId/mutes', route(async (req, res) => {
    res.json(await moderation.mute(req.userId!, { roomId: room(req.params.roomId), ...s.muteBody(req.body) }));
  }));
  router.delete('/rooms/:roomId/mutes/:userId', route(async (req, res) => {
    res.json(await moderation.unmute(req.userId!, target(req.params.roomId, req.params.userId)));
  }));
  router.post('/rooms/:roomId/bans', route(async (req, res) => {
    res.json(await moderation.ban(req.userId!, { roomId: room(req.params.roomId), ...s.banBody(req.body) }));
  }));
  router.delete('/rooms/:roomId/bans/:userId', route(async (req, res) => {
    res.json(await moderation.unban(req.userId!, target(req.params.roomId, req.params.userId)));
  }));
  router.put('/rooms/:roomId/slow-mode', route(async (req, res) => {
    res.json(await moderation.slowMode(req.userId!, { roomId: room(req.params.roomId), ...s.slowModeBody(req.body) }));
  }));
  router.get('/rooms/:roomId/audit', route(async (req, res) => {
    res.json(await moderation.auditLog(req.userId!, { roomId: room(req.params.roomId), ...s.pageQuery(queryInts(req.query, ['limit'])) }));
  }));
  router.get('/rooms/:roomId/flags', route(async (req, res) => {
    res.json(await flags.open(req.userId!, { roomId: room(req.params.roomId), ...s.pageQuery(queryInts(req.query, ['limit'])) }));
  }));
  router.post('/rooms/:roomId/flags/:messageId/resolve', route(async (req, res) => {
    const { messageId } = messageRef({ messageId: req.params.messageId });
    res.json(await flags.resolve(req.userId!, { roomId: room(req.params.roomId), messageId, ...s.resolveBody(req.body) }));
  }));
  router.post('/messages/:messageId/flags', route(async (req, res) => {
    const { messageId } = messageRef({ messageId: req.params.messageId });
    res.status(201).json(await flags.flag(req.userId!, { messageId, ...s.flagBody(req.body) }));
  }));
  return router;
}
