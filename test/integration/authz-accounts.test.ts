// The account endpoints' matrix (issue 19), kept apart from authz-matrix.test.ts (rooms):
// every account request × the state of the account and of the client address, with the
// outcome docs/protocol.md promises. Login throttling refuses new logins of a waiting or
// blocked account (the right password included) and everything from a blocked address;
// it never touches registration or sessions already issued. Unknown names are throttled
// exactly like known ones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app';
import { freshAddress, loginFrom, registerFrom } from '../helpers/accounts';
import { api, PASSWORD, sleep, uniqueName, type ApiResponse, type ErrorCode } from '../helpers/chat';

type State = 'fresh' | 'waiting' | 'accountBlocked' | 'addressBlocked';
const STATES: State[] = ['fresh', 'waiting', 'accountBlocked', 'addressBlocked'];

// `waiting`: the account owes a wait after its failures; `accountBlocked`: it reached
// LOGIN_ACCOUNT_MAX_FAILURES; `addressBlocked`: the client's address reached its limit.
const MATRIX = `
row                          | fresh             | waiting           | accountBlocked    | addressBlocked
login, right password        | ok                | RATE_LIMITED      | RATE_LIMITED      | RATE_LIMITED
login, wrong password        | UNAUTHORIZED      | RATE_LIMITED      | RATE_LIMITED      | RATE_LIMITED
login, unknown username      | UNAUTHORIZED      | RATE_LIMITED      | RATE_LIMITED      | RATE_LIMITED
register, valid              | ok                | ok                | ok                | ok
register, reserved name      | VALIDATION_FAILED | VALIDATION_FAILED | VALIDATION_FAILED | VALIDATION_FAILED
register, common password    | VALIDATION_FAILED | VALIDATION_FAILED | VALIDATION_FAILED | VALIDATION_FAILED
register, taken name         | CONFLICT          | CONFLICT          | CONFLICT          | CONFLICT
GET /me, earlier session     | ok                | ok                | ok                | ok
`;

type Expected = 'ok' | ErrorCode;
const EXPECTED = new Map<string, Record<State, Expected>>();
{
  const lines = MATRIX.trim().split('\n').map((l) => l.split('|').map((c) => c.trim()));
  expect(lines[0].slice(1)).toEqual(STATES);
  for (const [row, ...cells] of lines.slice(1)) EXPECTED.set(row, Object.fromEntries(STATES.map((s, i) => [s, cells[i] as Expected])) as Record<State, Expected>);
}

interface Fixture {
  /** Where the request under test comes from. */
  address: string;
  victim: { username: string; token: string };
  /** A name that is no account, in the same state as the victim. */
  ghost: string;
}

describe('authorization matrix: account endpoints under throttling', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      TRUST_PROXY_HOPS: '1',
      LOGIN_FREE_FAILURES: '1',
      LOGIN_ACCOUNT_MAX_FAILURES: '3',
      LOGIN_ADDRESS_MAX_FAILURES: '4',
      // Long enough that a waiting account still waits when the request under test arrives.
      LOGIN_DELAY_BASE_MS: '4000',
      LOGIN_DELAY_MAX_MS: '4000',
      // Nothing lifts while the matrix runs.
      LOGIN_BLOCK_MS: '60000',
      LOGIN_FAILURE_WINDOW_MS: '60000',
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  // Each failure from an address of its own: only the account's count grows.
  const fail = async (username: string) => expect((await loginFrom(t.url, freshAddress(), username, 'not-it-wrong')).status).toBe(401);

  async function fixture(state: State): Promise<Fixture> {
    const reg = await registerFrom(t.url, freshAddress(), { username: uniqueName('mx'), password: PASSWORD });
    expect(reg.status).toBe(201);
    const fx: Fixture = { address: freshAddress(), victim: { username: reg.body.user.username, token: reg.body.token }, ghost: uniqueName('ghost') };
    if (state === 'waiting' || state === 'accountBlocked') {
      await Promise.all([fx.victim.username, fx.ghost].map(async (name) => {
        for (let i = 0; i < 2; i++) await fail(name);
      }));
      if (state === 'accountBlocked') {
        await sleep(4050);
        await Promise.all([fx.victim.username, fx.ghost].map(fail));
      }
    }
    if (state === 'addressBlocked') {
      for (let i = 0; i < 4; i++) expect((await loginFrom(t.url, fx.address, uniqueName('spray'), 'not-it-wrong')).status).toBe(401);
    }
    return fx;
  }

  // Login rows change the state they act on (a success forgets failures): a fixture each.
  // The other rows leave it as it was and share one fixture per state.
  const shared = new Map<State, Promise<Fixture>>();
  const fixtureFor = (row: string, state: State) => {
    if (row.startsWith('login')) return fixture(state);
    if (!shared.has(state)) shared.set(state, fixture(state));
    return shared.get(state)!;
  };

  const ACT: Record<string, (fx: Fixture) => Promise<ApiResponse>> = {
    'login, right password': (fx) => loginFrom(t.url, fx.address, fx.victim.username, PASSWORD),
    'login, wrong password': (fx) => loginFrom(t.url, fx.address, fx.victim.username, 'still-not-it'),
    'login, unknown username': (fx) => loginFrom(t.url, fx.address, fx.ghost, 'still-not-it'),
    'register, valid': (fx) => registerFrom(t.url, fx.address, { username: uniqueName('new'), password: PASSWORD }),
    'register, reserved name': (fx) => registerFrom(t.url, fx.address, { username: 'Adm1n', password: PASSWORD }),
    'register, common password': (fx) => registerFrom(t.url, fx.address, { username: uniqueName('weak'), password: 'password1' }),
    'register, taken name': (fx) => registerFrom(t.url, fx.address, { username: fx.victim.username, password: PASSWORD }),
    'GET /me, earlier session': (fx) => api(t.url, 'GET', '/api/v1/me', { token: fx.victim.token, headers: { 'x-forwarded-for': fx.address } }),
  };

  it('covers every account request', () => {
    expect(Object.keys(ACT).sort()).toEqual([...EXPECTED.keys()].sort());
  });

  // Rows are independent (every fixture has its own names and addresses): they run side by side.
  for (const [row, expected] of EXPECTED) {
    it.concurrent(row, async () => {
      const mismatches: string[] = [];
      await Promise.all(
        STATES.map(async (state) => {
          const res = await ACT[row](await fixtureFor(row, state));
          const got = res.status < 300 ? 'ok' : (res.body?.error?.code as string);
          if (got !== expected[state]) mismatches.push(`${state}: expected ${expected[state]}, got ${got} ${res.text.slice(0, 120)}`);
          if (got === 'RATE_LIMITED') {
            // The refusal names the limit of the state, and says when to come back.
            expect(res.body.error.details).toEqual({ retryAfterMs: expect.any(Number), limit: state === 'addressBlocked' ? 'address' : 'account' });
            expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
          }
        }),
      );
      expect(mismatches.sort()).toEqual([]);
    }, 60_000);
  }
});
