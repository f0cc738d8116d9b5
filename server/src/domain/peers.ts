// What this node tells the other nodes of a cluster, so that their per-node state stays
// right. The domain owns the interface; cluster/ implements it over the Redis adapter.
// On one node there is nobody to tell (noPeers).
import type { MessageDto } from '../contracts/dto';

export interface Peers {
  /** A message stored here: the other nodes deliver it to their sockets in seq order. */
  messageStored(message: MessageDto): void;
  /** A membership changed: drop it from every node's membership cache. */
  membershipChanged(roomId: string, userId: string): void;
  /** A user's rooms changed: drop them from every node's room-list cache. */
  userRoomsChanged(userId: string): void;
  /** A user's block lists changed: drop them from every node's block cache. */
  blocksChanged(userId: string): void;
  /** A message was edited, deleted or reacted to (`v` orders updates): every node's newest-page cache. */
  historyUpdated(message: MessageDto, v: number): void;
  /** False while the other nodes' updates cannot reach this node (link down). */
  linked(): boolean;
}

export const noPeers: Peers = {
  messageStored: () => {},
  membershipChanged: () => {},
  userRoomsChanged: () => {},
  blocksChanged: () => {},
  historyUpdated: () => {},
  linked: () => true,
};
