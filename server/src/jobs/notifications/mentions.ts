// `@username` mentions in a message text, as lower-case username keys.

// A mention starts at '@' not preceded by a username character (so "bob@example.com"
// mentions nobody) and takes the longest run of username characters after it.
const MENTION = /(?<![A-Za-z0-9_.@-])@([A-Za-z0-9_.-]{3,32})/g;

/** At most this many distinct names per message are looked up. */
export const MAX_MENTIONS = 50;

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
