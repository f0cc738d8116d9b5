// Pure parts of the client SDK: ordered delivery with gaps, jittered backoff, token timing.
import { describe, expect, it } from 'vitest';
import { backoffDelay, readClaims, refreshDelayMs, RoomStream, type MessageDto } from '../../client/src';
import { signToken } from '../helpers/app';

const msg = (seq: number, roomId = 'r1') => ({ id: `m${seq}`, roomId, seq }) as MessageDto;

describe('RoomStream', () => {
  it('delivers in seq order once, holding messages after a gap until it is filled', () => {
    const out: number[] = [];
    const s = new RoomStream('r1', 0, (m) => out.push(m.seq));
    expect(s.ingest(msg(1))).toBe(false);
    expect(s.ingest(msg(3))).toBe(true);
    expect(s.ingest(msg(4))).toBe(true);
    expect(out).toEqual([1]);
    expect(s.ingest(msg(2))).toBe(false);
    s.ingest(msg(2));
    s.ingest(msg(1));
    expect(out).toEqual([1, 2, 3, 4]);
    expect(s.highest).toBe(4);
  });

  it('ignores other rooms and anything at or below the start', () => {
    const out: number[] = [];
    const s = new RoomStream('r1', 5, (m) => out.push(m.seq));
    s.ingest(msg(5));
    s.ingest(msg(6, 'r2'));
    s.ingest(msg(6));
    expect(out).toEqual([6]);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially with jitter and is capped', () => {
    const opts = { baseMs: 100, maxMs: 1000 };
    expect(backoffDelay(1, undefined, opts, () => 0)).toBe(50);
    expect(backoffDelay(1, undefined, opts, () => 0.999)).toBeLessThan(100);
    expect(backoffDelay(3, undefined, opts, () => 0)).toBe(200);
    expect(backoffDelay(30, undefined, opts, () => 0.999)).toBeLessThanOrEqual(1000);
  });

  it("waits at least the server's retryAfterMs, plus jitter", () => {
    const opts = { baseMs: 100, maxMs: 10_000 };
    expect(backoffDelay(1, 800, opts, () => 0)).toBe(800);
    const high = backoffDelay(1, 800, opts, () => 0.999);
    expect(high).toBeGreaterThan(800);
    expect(high).toBeLessThanOrEqual(900);
  });
});

describe('token timing', () => {
  it('reads sub and exp from a JWT', () => {
    const claims = readClaims(signToken('user-1', { expiresIn: 120 }));
    expect(claims.sub).toBe('user-1');
    expect(claims.exp! - Date.now() / 1000).toBeGreaterThan(110);
    expect(() => readClaims('nope')).toThrow();
  });

  it('refreshes a margin before expiry: a fifth of the life, at most the cap, never under 1 s', () => {
    const now = 1_000_000_000_000;
    expect(refreshDelayMs(now / 1000 + 3600, now)).toBe(3600_000 - 60_000);
    expect(refreshDelayMs(now / 1000 + 10, now)).toBe(8000);
    expect(refreshDelayMs(now / 1000 - 5, now)).toBe(1000);
  });
});
