// chat (and cluster): R rooms sharing --clients members; every member sends in
// turn at a total of --rate messages/s. cluster is chat over several --url nodes.
import { runMessaging } from './messaging';
import type { Scenario } from './types';

export const chat: Scenario = (ctx) => {
  const { clients, rooms } = ctx.opts;
  return runMessaging(ctx, {
    rooms,
    members: clients,
    // Member i goes to room i mod R, so room sizes differ by at most one.
    place: (i) => ({ room: i % rooms, slot: Math.floor(i / rooms) }),
    senders: Array.from({ length: clients }, (_, i) => i),
  });
};
