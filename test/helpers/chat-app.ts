// One chat test app per describe block: started before its tests, its sockets and the app
// closed after them. The handle is filled in by beforeAll, so use it inside tests only.
import { afterAll, beforeAll } from 'vitest';
import { startTestApp, type TestApp } from './app';
import { CHAT_ENV, closeClients, newPerson, type Person } from './chat';

export interface ChatApp extends TestApp {
  /** Registers a user and connects one socket for them. */
  person(): Promise<Person>;
}

/** Starts a real app with CHAT_ENV (plus `env`) for the enclosing describe. */
export function useChatApp(env: Record<string, string | undefined> = {}): ChatApp {
  const handle = { person: () => newPerson(handle.url) } as ChatApp;
  beforeAll(async () => {
    Object.assign(handle, await startTestApp({ ...CHAT_ENV, ...env }));
  });
  afterAll(async () => {
    closeClients();
    await handle.close?.();
  });
  return handle;
}
