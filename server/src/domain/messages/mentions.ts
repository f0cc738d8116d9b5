// Mentions (extension, issue 14): `@username` in a message text, resolved at send time to
// the ids of the room's members, carried on the message (`mentions`) and counted per member
// (`mentionSeqs` on the membership, read in the same document as the read position, so
// `unreadMentions` costs room:list and message:read nothing extra).
import type { Repositories } from '../../data/repositories';
import type { DocLock } from '../../data/doc-lock';
import { lockKeys } from '../../data/lock-keys';
import type { MembershipCache } from '../membership-cache';

// A mention starts at '@' not preceded by a username character (so "bob@example.com"
// mentions nobody) and takes the longest run of username characters after it.
const MENTION = /(?<![A-Za-z0-9_.@-])@([A-Za-z0-9_.-]{3,32})/g;

/** At most this many distinct names per message are looked up. */
export const MAX_MENTIONS = 50;
/** Unread mentions kept per member and room; the count stays at this value beyond it. */
export const MAX_UNREAD_MENTIONS = 500;

/**
 * The username keys a text may mention. Usernames may end in '.' or '-', which also end
 * sentences ("thanks @alice."), so both the run as written and the run without its
 * trailing punctuation are candidates; only names that exist will match.
 */
export function mentionedUsernameKeys(text: string): string[] {
  const keys = new Set<string>();
  for (const match of text.matchAll(MENTION)) {
    const name = match[1].toLowerCase();
    keys.add(name);
    const trimmed = name.replace(/[.-]+$/, '');
    if (trimmed.length >= 3) keys.add(trimmed);
    if (keys.size >= MAX_MENTIONS) break;
  }
  return [...keys];
}

/** Unread mentions above the effective read position (each seq once). */
export function unreadMentions(mentionSeqs: readonly number[] | undefined, lastReadSeq: number): number {
  if (!mentionSeqs || mentionSeqs.length === 0) return 0;
  return new Set(mentionSeqs.filter((s) => s > lastReadSeq)).size;
}

export interface MentionsDeps {
  repos: Repositories;
  docLock: DocLock;
  membershipCache: MembershipCache;
  /** Candidate user ids of exact usernames (domain/users/username-index.ts). */
  candidates(keys: string[]): Promise<Array<{ k: string; id: string }>>;
}

export function createMentions({ repos, docLock, membershipCache, candidates }: MentionsDeps) {
  const isMember = async (roomId: string, userId: string) =>
    membershipCache.get(roomId, userId) !== null || (await repos.memberships.get(roomId, userId)) !== null;

  return {
    /** The members of `roomId` a text mentions, as sorted user ids (no `@`: no database read). */
    async resolve(roomId: string, text: string): Promise<string[]> {
      const keys = mentionedUsernameKeys(text);
      if (keys.length === 0) return [];
      const ids = [...new Set((await candidates(keys)).map((c) => c.id))];
      const members = await Promise.all(ids.map(async (id) => ((await isMember(roomId, id)) ? id : null)));
      return members.filter((id): id is string => id !== null).sort();
    },

    /** Counts a stored message for each mentioned member but its sender (idempotent: retries add nothing). */
    async record(roomId: string, seq: number, mentions: readonly string[], senderId: string): Promise<void> {
      await Promise.all(
        mentions
          .filter((id) => id !== senderId)
          .map((id) => docLock.run(lockKeys.membership(roomId, id), () => repos.memberships.addMention(roomId, id, seq, MAX_UNREAD_MENTIONS))),
      );
    },
  };
}
export type Mentions = ReturnType<typeof createMentions>;
