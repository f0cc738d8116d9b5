// WEB_CLIENT: the browser client at `/` is on in development, off elsewhere unless asked.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/src/config';

const base = { JWT_SECRET: 'x'.repeat(32), DATA_DIR: '.data/test' } as const;

describe('config: WEB_CLIENT', () => {
  it('defaults on in development, off in test and production', () => {
    expect(loadConfig({ ...base, NODE_ENV: 'development' }).webClient).toEqual({ enabled: true, dir: path.resolve('client/web/dist') });
    expect(loadConfig({ ...base, NODE_ENV: 'test' }).webClient.enabled).toBe(false);
    expect(loadConfig({ ...base, NODE_ENV: 'production', MONGODB_URI: 'mongodb://db/chat', CORS_ORIGINS: 'https://app.example.com', METRICS_TOKEN: 'metrics-token-0123456789' }).webClient.enabled).toBe(false);
  });

  it('can be switched either way, from any directory', () => {
    expect(loadConfig({ ...base, NODE_ENV: 'development', WEB_CLIENT: 'false' }).webClient.enabled).toBe(false);
    const c = loadConfig({ ...base, NODE_ENV: 'production', MONGODB_URI: 'mongodb://db/chat', CORS_ORIGINS: 'https://app.example.com', METRICS_TOKEN: 'metrics-token-0123456789', WEB_CLIENT: 'true', WEB_CLIENT_DIR: '/srv/web' });
    expect(c.webClient).toEqual({ enabled: true, dir: '/srv/web' });
    expect(() => loadConfig({ ...base, NODE_ENV: 'test', WEB_CLIENT: 'maybe' })).toThrow(ConfigError);
  });
});
