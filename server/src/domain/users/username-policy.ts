// Which usernames may be registered: not a reserved name (admin, support, ...) and not a
// look-alike of one ("Adm1n", "ad_min", "rnoderator"), as a whole or as one of its parts.
// The schema already limits names to [A-Za-z0-9_.-]; look-alikes are compared by skeleton.

// Characters that read as another one in most fonts, mapped to the letter they imitate.
const LOOK_ALIKE: Record<string, string> = { '0': 'o', '1': 'l', i: 'l', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b' };

/** The shape a name reads as: lower-cased, look-alike letters folded, separators dropped. */
export function usernameSkeleton(name: string): string {
  return name
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[_.\-\s]/g, '')
    .replace(/[013-8i]/g, (c) => LOOK_ALIKE[c] ?? c)
    .replace(/rn/g, 'm')
    .replace(/vv/g, 'w')
    .replace(/cl/g, 'd');
}

export interface UsernamePolicy {
  /** The reserved name this one imitates, or null when it may be registered. */
  reservedMatch(username: string): string | null;
}

export function createUsernamePolicy(reserved: string[]): UsernamePolicy {
  const bySkeleton = new Map<string, string>();
  for (const name of reserved) {
    const skeleton = usernameSkeleton(name);
    if (skeleton) bySkeleton.set(skeleton, name);
  }
  return {
    reservedMatch(username) {
      // A part of digits only ("alice_2024") imitates nothing.
      const parts = [username, ...username.split(/[_.-]+/).filter((p) => /[a-z]/i.test(p))];
      for (const part of parts) {
        // "admin1" and "support2024" imitate as much as "admin" and "support".
        const hit = bySkeleton.get(usernameSkeleton(part)) ?? bySkeleton.get(usernameSkeleton(part.replace(/\d+$/, '')));
        if (hit) return hit;
      }
      return null;
    },
  };
}
