// Rooms and messages over REST: the same services as the socket handlers.
import { Router } from 'express';
import { messageHistoryQuery, messageRef, messageSendBody, threadHistoryQuery } from '../../contracts/schemas/message.schemas';
import { roomCreate, roomList, roomRef } from '../../contracts/schemas/room.schemas';
import type { Services } from '../../domain/services';
import { queryBools, queryInts, route } from '../route';

export function roomsRouter({ rooms, messages }: Services): Router {
  const router = Router();
  router.get('/rooms', route(async (req, res) => {
    res.json(await rooms.list(req.userId!, roomList(queryInts(req.query, ['limit']))));
  }));
  router.post('/rooms', route(async (req, res) => {
    res.status(201).json(await rooms.create(req.userId!, roomCreate(req.body)));
  }));
  router.get('/rooms/:roomId', route(async (req, res) => {
    const { roomId } = roomRef({ roomId: req.params.roomId });
    res.json(await rooms.get(req.userId!, roomId));
  }));
  router.get('/rooms/:roomId/messages', route(async (req, res) => {
    const { roomId } = roomRef({ roomId: req.params.roomId });
    const q = messageHistoryQuery(queryBools(queryInts(req.query, ['beforeSeq', 'afterSeq', 'limit']), ['excludeThreadReplies']));
    res.json(await messages.history(req.userId!, { roomId, ...q }));
  }));
  router.post('/rooms/:roomId/messages', route(async (req, res) => {
    const { roomId } = roomRef({ roomId: req.params.roomId });
    res.status(201).json(await messages.send(req.userId!, { roomId, ...messageSendBody(req.body) }));
  }));
  // Extension (threads): a page of one thread's replies; the id is the parent message's.
  router.get('/messages/:messageId/thread', route(async (req, res) => {
    const { messageId } = messageRef({ messageId: req.params.messageId });
    const q = threadHistoryQuery(queryInts(req.query, ['beforeSeq', 'afterSeq', 'limit']));
    res.json(await messages.threadHistory(req.userId!, { messageId, ...q }));
  }));
  return router;
}
