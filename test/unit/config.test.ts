import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../../server/src/config';

const base = { NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32), DATA_DIR: '.data/test' } as const;

describe('loadConfig', () => {
  it('applies defaults with no settings beyond a secret', () => {
    const c = loadConfig({ ...base });
    expect(c.port).toBe(3000);
    expect(c.jwt.algorithm).toBe('HS256');
    expect(c.redisUrl).toBeNull();
    expect(c.mongodbUri).toBeNull();
    expect(c.shutdownGraceMs).toBe(10000);
    expect(c.limits.messagesPerWindow).toBe(20);
    expect(c.limits.messageWindowMs).toBe(10000);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['MONGODB_URI', 'http://nope'],
    ['REDIS_URL', 'localhost:6379'],
    ['LOG_LEVEL', 'loud'],
    ['JWT_ALGORITHM', 'none'],
    ['SHUTDOWN_GRACE_MS', '-1'],
    ['JWT_SECRET', 'short'],
  ])('refuses %s=%s naming the variable', (name, value) => {
    expect(() => loadConfig({ ...base, [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, [name]: value })).toThrow(new RegExp(`^${name}`));
  });

  it('requires secrets and a database in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', MONGODB_URI: 'mongodb://x/y' })).toThrow(/^JWT_SECRET/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) })).toThrow(/^MONGODB_URI/);
  });

  it('requires a public key for RS256 and refuses a mixed setup', () => {
    expect(() => loadConfig({ ...base, JWT_SECRET: undefined, JWT_ALGORITHM: 'RS256' })).toThrow(/^JWT_PUBLIC_KEY/);
    expect(() => loadConfig({ ...base, JWT_ALGORITHM: 'RS256', JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----' })).toThrow(/^JWT_SECRET/);
  });

  it('reads the key id and the verification keys of a rotation, validated once', () => {
    const c = loadConfig({ ...base, JWT_KEY_ID: 'k2', JWT_VERIFY_KEYS: JSON.stringify({ k1: 'y'.repeat(20) }) });
    expect(c.jwt.keyId).toBe('k2');
    expect(c.jwt.verifyKeys).toEqual([{ kid: 'k1', key: 'y'.repeat(20) }]);
    expect(loadConfig({ ...base }).jwt).toMatchObject({ keyId: null, verifyKeys: [] });
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ JWT_KEY_ID: 'has space' }, /^JWT_KEY_ID/],
      [{ JWT_VERIFY_KEYS: 'not json' }, /^JWT_VERIFY_KEYS: not JSON/],
      [{ JWT_VERIFY_KEYS: '["a"]' }, /^JWT_VERIFY_KEYS: expected a JSON object/],
      [{ JWT_VERIFY_KEYS: JSON.stringify({ 'bad id': 'y'.repeat(20) }) }, /^JWT_VERIFY_KEYS: key id "bad id"/],
      [{ JWT_VERIFY_KEYS: JSON.stringify({ k1: 'short' }) }, /^JWT_VERIFY_KEYS: key "k1" is shorter/],
      [{ JWT_VERIFY_KEYS: JSON.stringify({ k1: 5 }) }, /^JWT_VERIFY_KEYS: key "k1" is not a string/],
      [{ JWT_KEY_ID: 'k1', JWT_VERIFY_KEYS: JSON.stringify({ k1: 'y'.repeat(20) }) }, /^JWT_VERIFY_KEYS: key id "k1" is also JWT_KEY_ID/],
      [{ JWT_VERIFY_KEYS: JSON.stringify(Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, 'y'.repeat(20)]))) }, /^JWT_VERIFY_KEYS: 9 keys/],
    ];
    for (const [env, message] of bad) expect(() => loadConfig({ ...base, ...env })).toThrow(message);
  });

  it('requires PEM public keys as RS256 verification keys', () => {
    const pem = (): string => crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const rs = { NODE_ENV: 'test', DATA_DIR: '.data/test', JWT_ALGORITHM: 'RS256', JWT_PUBLIC_KEY: pem() };
    expect(loadConfig({ ...rs, JWT_VERIFY_KEYS: JSON.stringify({ old: pem() }) }).jwt.verifyKeys).toHaveLength(1);
    expect(() => loadConfig({ ...rs, JWT_VERIFY_KEYS: JSON.stringify({ old: 'y'.repeat(40) }) })).toThrow(/^JWT_VERIFY_KEYS: key "old" is not a PEM public key/);
  });

  it('keeps the embedded-metric-format lines off unless an interval is set', () => {
    expect(loadConfig({ ...base }).emf).toEqual({ intervalMs: 0, namespace: 'Chat', service: null });
    expect(loadConfig({ ...base, METRICS_EMF_INTERVAL_MS: '10000', METRICS_EMF_SERVICE: 'chat-api' }).emf).toEqual({ intervalMs: 10000, namespace: 'Chat', service: 'chat-api' });
    expect(() => loadConfig({ ...base, METRICS_EMF_SERVICE: 'a b' })).toThrow(/^METRICS_EMF_SERVICE/);
  });

  it('parses CORS origins', () => {
    expect(loadConfig({ ...base }).corsOrigins).toBe('*');
    expect(loadConfig({ ...base, CORS_ORIGINS: 'https://a.example, https://b.example' }).corsOrigins).toEqual(['https://a.example', 'https://b.example']);
  });
});
