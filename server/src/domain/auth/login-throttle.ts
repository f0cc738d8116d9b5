// Login throttling: failed logins are counted per account and per client address. An
// account's first few failures cost nothing; each further one makes the next attempt wait
// longer (RATE_LIMITED with retryAfterMs), until the account is blocked for a while. An
// address is blocked after its own count of failures, whatever accounts it tried (password
// spraying). Unknown usernames are counted exactly like known ones: no enumeration.
import { errors } from '../../errors';
import type { AttemptCounter } from '../../data/rate-limit.store';

export interface LoginThrottleOptions {
  freeFailures: number;
  accountMaxFailures: number;
  addressMaxFailures: number;
  delayBaseMs: number;
  delayMaxMs: number;
  blockMs: number;
}

export interface LoginCounters {
  /** Failures per account (lower-cased username) in the window. */
  accounts: AttemptCounter;
  /** Failures per client address in the window. */
  addresses: AttemptCounter;
  /** Set (blocked) for the wait an account owes after a failure. */
  delays: AttemptCounter;
}

/** A block this failure caused: announced once (auth.suspicious). */
export interface LoginBlock {
  reason: 'account_blocked' | 'address_blocked';
  failures: number;
  blockedForMs: number;
}

export interface LoginAttempt {
  /** The right password: the account's failures are forgotten. */
  succeeded(): Promise<void>;
  /** A wrong password or an unknown name; returns the blocks it caused. */
  failed(): Promise<LoginBlock[]>;
  /** The check itself failed (database down): the attempt does not count. */
  abandoned(): Promise<void>;
}

export interface LoginThrottle {
  /** Before the password is checked: refuses while the account waits or either key is blocked, else counts the attempt. */
  begin(account: string, address: string): Promise<LoginAttempt>;
}

/** The wait after `failures` failures: nothing for the free ones, then base·2^k up to the cap. */
export function loginDelayMs(failures: number, o: Pick<LoginThrottleOptions, 'freeFailures' | 'delayBaseMs' | 'delayMaxMs'>): number {
  const k = failures - o.freeFailures;
  if (k <= 0) return 0;
  return Math.min(o.delayMaxMs, o.delayBaseMs * 2 ** Math.min(k - 1, 30));
}

export function createLoginThrottle(counters: LoginCounters, o: LoginThrottleOptions): LoginThrottle {
  const { accounts, addresses, delays } = counters;
  // Over the limit is normally a block; while parallel guesses are still being checked it is
  // the window, but the failure that reaches the limit blocks for blockMs from then on.
  const retryAfter = (msLeft: number) => Math.max(1, Math.min(msLeft, o.blockMs));
  return {
    async begin(account, address) {
      const wait = await delays.peek(account);
      if (wait.over) throw errors.rateLimited(Math.max(1, wait.msLeft), 'account');
      // Counted before the check, so parallel guesses cannot all slip under the limit.
      const [a, ip] = await Promise.all([accounts.hit(account), addresses.hit(address)]);
      if (ip.count > o.addressMaxFailures) {
        await accounts.refund(account);
        throw errors.rateLimited(retryAfter(ip.msLeft), 'address');
      }
      if (a.count > o.accountMaxFailures) {
        await addresses.refund(address);
        throw errors.rateLimited(retryAfter(a.msLeft), 'account');
      }
      return {
        async succeeded() {
          await Promise.all([accounts.reset(account), delays.reset(account), addresses.refund(address)]);
        },
        async abandoned() {
          await Promise.all([accounts.refund(account), addresses.refund(address)]);
        },
        async failed() {
          const blocks: LoginBlock[] = [];
          const work: Array<Promise<void>> = [];
          // Only the failure that reaches a limit blocks (and is announced): later ones are refused before this.
          if (a.count === o.accountMaxFailures) {
            work.push(accounts.block(account, o.blockMs), delays.reset(account));
            blocks.push({ reason: 'account_blocked', failures: a.count, blockedForMs: o.blockMs });
          } else if (a.count < o.accountMaxFailures) {
            const ms = loginDelayMs(a.count, o);
            if (ms > 0) work.push(delays.block(account, ms));
          }
          if (ip.count === o.addressMaxFailures) {
            work.push(addresses.block(address, o.blockMs));
            blocks.push({ reason: 'address_blocked', failures: ip.count, blockedForMs: o.blockMs });
          }
          await Promise.all(work);
          return blocks;
        },
      };
    },
  };
}
