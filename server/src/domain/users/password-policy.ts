// Which passwords are refused at registration: one of the most common passwords (a list
// shipped with the code), or the username itself, also with digits or symbols around them.
import { COMMON_PASSWORDS } from './common-passwords';

const COMMON = new Set(COMMON_PASSWORDS);

/** The password without the digits and symbols people put around a word ("!Summer2024" → "summer"). */
function core(password: string): string {
  return password.toLowerCase().replace(/^[^a-z]+|[^a-z]+$/g, '');
}

export type PasswordProblem = 'too common' | 'the same as the username';

/** Why the password is refused, or null. */
export function passwordProblem(password: string, username: string): PasswordProblem | null {
  const lower = password.toLowerCase();
  const stripped = core(password);
  const name = username.toLowerCase();
  if (lower === name || (stripped.length > 0 && stripped === core(username))) return 'the same as the username';
  if (COMMON.has(lower) || (stripped.length >= 4 && COMMON.has(stripped))) return 'too common';
  return null;
}
