// fanout: one room of --clients receivers plus one dedicated sender at --rate;
// every message is expected on all K receivers.
import { runMessaging } from './messaging';
import type { Scenario } from './types';

export const fanout: Scenario = (ctx) =>
  runMessaging(ctx, {
    rooms: 1,
    members: ctx.opts.clients + 1,
    place: (i) => ({ room: 0, slot: i }),
    senders: [0],
  });
