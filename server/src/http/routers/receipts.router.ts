// Delivery receipts over REST (extension; issue 14): the same services as message:delivered
// and room:members, for clients that acknowledge from a push handler without a socket.
import { Router } from 'express';
import { messageDeliveredBody } from '../../contracts/schemas/message.schemas';
import { roomMembers, roomRef } from '../../contracts/schemas/room.schemas';
import type { Services } from '../../domain/services';
import { queryInts, route } from '../route';

export function receiptsRouter({ rooms, delivery }: Services): Router {
  const router = Router();
  router.post('/rooms/:roomId/delivered', route(async (req, res) => {
    const { roomId } = roomRef({ roomId: req.params.roomId });
    res.json(await delivery.markDelivered(req.userId!, { roomId, ...messageDeliveredBody(req.body) }));
  }));
  router.get('/rooms/:roomId/members', route(async (req, res) => {
    const q = roomMembers({ ...queryInts(req.query, ['limit']), roomId: req.params.roomId });
    res.json(await rooms.members(req.userId!, q));
  }));
  return router;
}
