// Production fails closed (issue 19): CORS_ORIGINS must list origins and METRICS_TOKEN must be
// set (or METRICS_PUBLIC=true said explicitly); account limits come from config with
// protective defaults.
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_RESERVED_USERNAMES, loadConfig } from '../../server/src/config';

const prod = { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), MONGODB_URI: 'mongodb://db/chat', DATA_DIR: '.data/test' } as const;
const safe = { ...prod, CORS_ORIGINS: 'https://app.example.com', METRICS_TOKEN: 'metrics-token-123' };

describe('config: production fails closed', () => {
  it('refuses CORS_ORIGINS unset or "*" (alone or in a list), naming the variable', () => {
    for (const cors of [undefined, '*', ' * ', 'https://a.example,*']) {
      const env = { ...safe, CORS_ORIGINS: cors };
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(/^CORS_ORIGINS: must list the allowed origins when NODE_ENV=production/);
    }
  });

  it('refuses a missing METRICS_TOKEN unless METRICS_PUBLIC=true', () => {
    expect(() => loadConfig({ ...safe, METRICS_TOKEN: undefined })).toThrow(/^METRICS_TOKEN: required when NODE_ENV=production/);
    expect(() => loadConfig({ ...safe, METRICS_TOKEN: undefined, METRICS_PUBLIC: 'false' })).toThrow(/^METRICS_TOKEN/);
    const open = loadConfig({ ...safe, METRICS_TOKEN: undefined, METRICS_PUBLIC: 'true' });
    expect(open.metricsToken).toBeNull();
    expect(open.metricsPublic).toBe(true);
    expect(() => loadConfig({ ...safe, METRICS_PUBLIC: 'maybe' })).toThrow(/^METRICS_PUBLIC/);
  });

  it('starts with an explicit list and a metrics token', () => {
    const c = loadConfig({ ...safe, CORS_ORIGINS: 'https://a.example, https://b.example' });
    expect(c.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(c.metricsToken).toBe('metrics-token-123');
  });

  it('the workers serve no CORS (only the metrics check applies); the jobs CLI serves neither', () => {
    expect(() => loadConfig({ ...prod, METRICS_TOKEN: 'metrics-token-123' }, 'workers')).not.toThrow();
    expect(() => loadConfig({ ...prod }, 'workers')).toThrow(/^METRICS_TOKEN/);
    expect(() => loadConfig({ ...prod }, 'cli')).not.toThrow();
  });

  it('development and test keep the open defaults', () => {
    const c = loadConfig({ NODE_ENV: 'development', JWT_SECRET: 'x'.repeat(32), DATA_DIR: '.data/test' });
    expect(c.corsOrigins).toBe('*');
    expect(c.metricsToken).toBeNull();
  });
});

describe('config: account defences', () => {
  const base = { NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32), DATA_DIR: '.data/test' } as const;

  it('has protective defaults', () => {
    const { accounts } = loadConfig({ ...base });
    expect(accounts.login).toEqual({ freeFailures: 3, accountMaxFailures: 10, addressMaxFailures: 30, windowMs: 3_600_000, delayBaseMs: 1000, delayMaxMs: 30_000, blockMs: 900_000 });
    expect(accounts.register).toEqual({ perAddress: 10, addressWindowMs: 3_600_000, global: 300, globalWindowMs: 60_000 });
    expect(accounts.reservedUsernames).toEqual(DEFAULT_RESERVED_USERNAMES);
    expect(accounts.reservedUsernames).toContain('admin');
  });

  it('reads every limit, and USERNAME_RESERVED replaces the list ("," for none)', () => {
    const { accounts } = loadConfig({
      ...base,
      LOGIN_FREE_FAILURES: '1',
      LOGIN_ACCOUNT_MAX_FAILURES: '4',
      LOGIN_ADDRESS_MAX_FAILURES: '9',
      LOGIN_FAILURE_WINDOW_MS: '5000',
      LOGIN_DELAY_BASE_MS: '2000',
      LOGIN_DELAY_MAX_MS: '1000',
      LOGIN_BLOCK_MS: '3000',
      REGISTER_PER_ADDRESS: '2',
      REGISTER_ADDRESS_WINDOW_MS: '7000',
      REGISTER_GLOBAL: '20',
      REGISTER_GLOBAL_WINDOW_MS: '8000',
      USERNAME_RESERVED: 'acme, acme-support',
    });
    // The cap is never below the first wait.
    expect(accounts.login).toEqual({ freeFailures: 1, accountMaxFailures: 4, addressMaxFailures: 9, windowMs: 5000, delayBaseMs: 2000, delayMaxMs: 2000, blockMs: 3000 });
    expect(accounts.register).toEqual({ perAddress: 2, addressWindowMs: 7000, global: 20, globalWindowMs: 8000 });
    expect(accounts.reservedUsernames).toEqual(['acme', 'acme-support']);
    expect(loadConfig({ ...base, USERNAME_RESERVED: ',' }).accounts.reservedUsernames).toEqual([]);
  });

  it.each([
    ['LOGIN_ACCOUNT_MAX_FAILURES', '0'],
    ['LOGIN_BLOCK_MS', '500'],
    ['LOGIN_DELAY_BASE_MS', '10'],
    ['REGISTER_PER_ADDRESS', 'many'],
    ['REGISTER_GLOBAL', '-1'],
    ['USERNAME_RESERVED', 'admin;root'],
  ])('refuses %s=%s naming the variable', (name, value) => {
    expect(() => loadConfig({ ...base, [name]: value })).toThrow(new RegExp(`^${name}`));
  });
});
