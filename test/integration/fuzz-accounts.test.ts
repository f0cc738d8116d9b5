// Property-based sequences of logins and registrations under tight account limits (issue
// 19), kept apart from fuzz-rest.test.ts: generated mixes of accounts (registered, unknown,
// reserved look-alikes, other letter case), passwords (right, wrong, common, the username)
// and client addresses. Checked against a model: every answer is a contract reply (429 with
// details.retryAfterMs, details.limit and Retry-After), a login succeeds only with the
// password the account was registered with, no account sees more checked failures than its
// limit between successes, no address more than its own, policy refusals come before any
// limit, and exactly the accepted registrations are stored.
// Longer soak: FUZZ_SOAK=1 npx vitest run test/integration/fuzz-accounts.test.ts
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app';
import { loginFrom, registerFrom } from '../helpers/accounts';
import { ERROR_CODES, HTTP_STATUS, type ApiResponse, type ErrorCode } from '../helpers/chat';
import { fuzzTimeout, report, runs, seed } from '../helpers/fuzz';

const ACCOUNT_MAX = 4;
const ADDRESS_MAX = 6;
const REGISTER_PER_ADDRESS = 4;

interface Action {
  kind: 'login' | 'register';
  /** 0-2 ordinary names, 3 a reserved look-alike, 4 never registered, 5 name 0 in capitals. */
  who: number;
  pw: 'right' | 'wrong' | 'common' | 'username';
  from: number;
}

const action: fc.Arbitrary<Action> = fc.record({
  kind: fc.constantFrom('login' as const, 'register' as const),
  who: fc.integer({ min: 0, max: 5 }),
  pw: fc.constantFrom('right' as const, 'wrong' as const, 'common' as const, 'username' as const),
  from: fc.integer({ min: 0, max: 2 }),
});

/** The contract's error reply; for 429 the retry hint in both forms and the limit's name. */
function replyProblem(r: ApiResponse): string | null {
  if (r.status < 300) return null;
  const code = r.body?.error?.code as ErrorCode;
  if (!(ERROR_CODES as readonly string[]).includes(code)) return `unknown code ${code} (${r.status})`;
  if (HTTP_STATUS[code] !== r.status) return `code ${code} with status ${r.status}`;
  if (Object.keys(r.body.error).some((k) => !['code', 'message', 'details'].includes(k))) return 'extra error keys';
  if (code === 'RATE_LIMITED') {
    const d = r.body.error.details;
    if (!d || !Number.isInteger(d.retryAfterMs) || d.retryAfterMs <= 0 || d.retryAfterMs > 60_000) return `bad retryAfterMs ${JSON.stringify(d)}`;
    if (!['account', 'address', 'global'].includes(d.limit)) return `bad limit ${JSON.stringify(d)}`;
    if (r.headers.get('retry-after') !== String(Math.ceil(d.retryAfterMs / 1000))) return `retry-after ${r.headers.get('retry-after')} for ${d.retryAfterMs} ms`;
  }
  return null;
}

describe('fuzz: account endpoints under throttling', () => {
  let t: TestApp;
  let run = 0;
  let requests = 0;
  const statuses = new Map<number, number>();

  beforeAll(async () => {
    t = await startTestApp({
      TRUST_PROXY_HOPS: '1',
      LOGIN_FREE_FAILURES: '2',
      LOGIN_ACCOUNT_MAX_FAILURES: String(ACCOUNT_MAX),
      LOGIN_ADDRESS_MAX_FAILURES: String(ADDRESS_MAX),
      LOGIN_DELAY_BASE_MS: '1000',
      LOGIN_DELAY_MAX_MS: '1000',
      // Nothing lifts within a run: the model needs no clock.
      LOGIN_BLOCK_MS: '60000',
      LOGIN_FAILURE_WINDOW_MS: '60000',
      REGISTER_PER_ADDRESS: String(REGISTER_PER_ADDRESS),
      REGISTER_ADDRESS_WINDOW_MS: '60000',
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('sequences of logins and registrations keep every limit and the contract', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 10, maxLength: 30 }), async (actions) => {
        run += 1;
        const tag = `${process.pid.toString(36)}r${run}`;
        const names = [`fz${tag}a`, `fz${tag}b`, `fz${tag}c`, `Adm1n_${tag}`, `fz${tag}ghost`, `FZ${tag}A`];
        const addresses = [0, 1, 2].map((i) => `10.${200 + ((run >> 8) & 31)}.${run & 255}.${i + 1}`);
        const registered = new Map<string, string>();
        const failuresSinceSuccess = new Map<string, number>();
        const failuresFrom = new Map<string, number>();
        const registrationsFrom = new Map<string, number>();
        const accepted = new Set<string>();

        for (const a of actions) {
          requests += 1;
          const username = names[a.who];
          const key = username.toLowerCase();
          const address = addresses[a.from];
          const rightPassword = registered.get(key) ?? `right-${key}-horse`;
          const password = { right: rightPassword, wrong: 'not-the-right-one', common: 'password1', username }[a.pw];
          const res = a.kind === 'login' ? await loginFrom(t.url, address, username, password) : await registerFrom(t.url, address, { username, password });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const where = `${a.kind} ${username} ${a.pw} from ${address}: ${res.status} ${res.text.slice(0, 160)}`;
          const problem = replyProblem(res);
          if (problem) throw new Error(`${where}: ${problem}`);

          if (a.kind === 'login') {
            expect([200, 401, 429], where).toContain(res.status);
            if (res.status === 200) {
              expect(registered.get(key), where).toBe(password);
              failuresSinceSuccess.set(key, 0);
            }
            if (res.status === 401) {
              failuresSinceSuccess.set(key, (failuresSinceSuccess.get(key) ?? 0) + 1);
              failuresFrom.set(address, (failuresFrom.get(address) ?? 0) + 1);
              expect(failuresSinceSuccess.get(key), `${where}: more checked failures than the account limit`).toBeLessThanOrEqual(ACCOUNT_MAX);
              expect(failuresFrom.get(address), `${where}: more checked failures than the address limit`).toBeLessThanOrEqual(ADDRESS_MAX);
            }
          } else {
            const refusedByPolicy = a.who === 3 || a.pw === 'common' || a.pw === 'username';
            // Policy refusals come first, whatever the limits say; nothing else is a 400.
            expect(res.status === 400, where).toBe(refusedByPolicy);
            expect([201, 400, 409, 429], where).toContain(res.status);
            if (res.status === 201 || res.status === 409) {
              registrationsFrom.set(address, (registrationsFrom.get(address) ?? 0) + 1);
              expect(registrationsFrom.get(address), `${where}: more registrations than the address limit`).toBeLessThanOrEqual(REGISTER_PER_ADDRESS);
            }
            if (res.status === 201) {
              expect(registered.has(key), `${where}: a taken name was registered again`).toBe(false);
              registered.set(key, password);
              accepted.add(key);
            }
          }
        }
        // Exactly the accepted registrations are stored.
        const stored = await t.app.deps.db.collection('users').find({ usernameKey: { $in: names.map((n) => n.toLowerCase()) } }).toArray();
        expect(new Set(stored.map((u) => u.usernameKey as string))).toEqual(accepted);
      }),
      { numRuns: runs(12), seed: seed() + 19, endOnFailure: true },
    );
    report(`${requests} account requests in ${run} sequences; statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    // The generated mixes do reach the limits (and the other answers).
    for (const status of [200, 201, 400, 401, 409, 429]) expect(statuses.get(status) ?? 0, `status ${status} seen`).toBeGreaterThan(0);
  }, fuzzTimeout() * 2);
});
