// Schemas for presence, typing and auth.
import { compile } from '../validate';
import { id, name, object, password, username } from './common';

export const presenceGet = compile<{ userIds: string[] }>(
  object({ userIds: { type: 'array', items: id, minItems: 1, maxItems: 100 } }, ['userIds']),
);
export const typingEvent = compile<{ roomId: string }>(object({ roomId: id }, ['roomId']));
export const registerBody = compile<{ username: string; password: string; displayName?: string }>(
  object({ username, password, displayName: name }, ['username', 'password']),
);
export const loginBody = compile<{ username: string; password: string }>(
  // Login accepts any string up to the bounds: a wrong format is just a wrong username.
  object({ username: { type: 'string', minLength: 1, maxLength: 64 }, password: { type: 'string', minLength: 1, maxLength: 128 } }, ['username', 'password']),
);
