// Wires the chat domain into the transports: repositories → services → socket
// handlers and REST routers. app.ts calls buildChat once per app.
import { Router } from 'express';
import type { Deps } from './app';
import type { ConnectionHooks } from './socket/create-io';
import type { SocketHandler } from './socket/define-handler';
import type { AppServer } from './socket/types';
import { sessionHandlers } from './socket/handlers/session.handlers';

export interface Chat {
  router: Router;
  socketHandlers: SocketHandler[];
  connectionHooks: ConnectionHooks[];
  /** Called once the io server exists (notifiers, adapters, cross-node listeners). */
  attachIo(io: AppServer): Promise<void>;
  /** Tells clients to reconnect elsewhere, spread over the grace period. */
  drain(io: AppServer, graceMs: number): Promise<void>;
  /** Stops timers and background loops. */
  close(): Promise<void>;
}

export async function buildChat(deps: Deps): Promise<Chat> {
  const router = Router();
  return {
    router,
    socketHandlers: [...sessionHandlers(deps)],
    connectionHooks: [],
    attachIo: async () => {},
    drain: async () => {},
    close: async () => {},
  };
}
