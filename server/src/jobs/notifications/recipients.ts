// Who is notified of a new message: every member mentioned as @username (online or
// not) and every other member with no connected socket anywhere; never the sender.
// A thread reply (extension) concerns its thread's participants (the parent's author, the
// repliers, the members mentioned in it), not the whole room, unless it is also shown in the room.
import type { MessageDto } from '../../contracts/dto';
import type { Repositories } from '../../data/repositories';
import type { PresenceStore } from '../../data/presence.store';
import type { NotificationReason } from '../queues';
import { mentionedUsernameKeys } from './mentions';

/** The one thing the workers ask of presence. */
export type PresenceReader = Pick<PresenceStore, 'onlineOf'>;

export interface Recipient {
  userId: string;
  reason: NotificationReason;
}

const PRESENCE_CHUNK = 500;

/** Members a message mentions: resolved at send time when it carries `mentions`, else from its text. */
async function mentionedMembers(repos: Repositories, message: MessageDto, members: Set<string>): Promise<Set<string>> {
  const mentioned = new Set<string>();
  if (message.mentions !== undefined || message.threadOf !== undefined) {
    for (const id of message.mentions ?? []) if (members.has(id)) mentioned.add(id);
    return mentioned;
  }
  const keys = mentionedUsernameKeys(message.text);
  const users = await Promise.all(keys.map((k) => repos.users.findByUsernameKey(k)));
  for (const u of users) if (u && members.has(u._id)) mentioned.add(u._id);
  return mentioned;
}

export async function notificationRecipients(deps: { repos: Repositories; presence: PresenceReader }, message: MessageDto): Promise<Recipient[]> {
  if (message.deletedAt) return [];
  const members = new Set(await deps.repos.memberships.userIdsOf(message.roomId));
  members.delete(message.senderId);
  if (members.size === 0) return [];

  const mentioned = await mentionedMembers(deps.repos, message, members);
  let audience = members;
  if (message.threadOf !== undefined && !message.alsoInRoom) {
    const thread = await deps.repos.threads.get(message.threadOf);
    audience = new Set((thread?.participants ?? []).filter((id) => members.has(id)));
  }

  const rest = [...audience].filter((id) => !mentioned.has(id));
  const online = new Set<string>();
  for (let i = 0; i < rest.length; i += PRESENCE_CHUNK) {
    for (const id of await deps.presence.onlineOf(rest.slice(i, i + PRESENCE_CHUNK))) online.add(id);
  }
  return [
    ...[...mentioned].map((userId) => ({ userId, reason: 'mention' as const })),
    ...rest.filter((id) => !online.has(id)).map((userId) => ({ userId, reason: 'offline' as const })),
  ];
}
