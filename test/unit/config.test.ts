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

  it('parses CORS origins', () => {
    expect(loadConfig({ ...base }).corsOrigins).toBe('*');
    expect(loadConfig({ ...base, CORS_ORIGINS: 'https://a.example, https://b.example' }).corsOrigins).toEqual(['https://a.example', 'https://b.example']);
  });
});
