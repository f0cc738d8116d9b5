// The only reader of process.env: every setting is parsed and validated once at
// start, so a bad value stops the process with one line naming the variable.
import Ajv from 'ajv';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { AdmissionConfig } from './overload/admission';

export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256';

export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  nodeId: string;
  host: string;
  port: number;
  mongodbUri: string | null;
  redisUrl: string | null;
  jwt: {
    algorithm: JwtAlgorithm;
    /** HS256 shared secret. */
    secret: string | null;
    /** PEM public key for RS256/ES256 verification. */
    publicKey: string | null;
    /** PEM private key; lets register/login issue RS256/ES256 tokens. */
    privateKey: string | null;
    ttlSeconds: number;
    issuer: string | null;
    audience: string | null;
    /** Key id of the current key: written as `kid` into issued tokens, selects it on verification. */
    keyId: string | null;
    /** Verification-only keys by `kid` (previous or next keys during a rotation), same algorithm. */
    verifyKeys: Array<{ kid: string; key: string }>;
  };
  logLevel: string;
  corsOrigins: string[] | '*';
  shutdownGraceMs: number;
  metricsToken: string | null;
  /** OPERATOR_TOKEN: bearer token of the operator routes (/api/v1/admin/*); null turns them off. */
  operatorToken: string | null;
  /** METRICS_PUBLIC=true: the operator chose to serve /metrics without a token in production. */
  metricsPublic: boolean;
  dataDir: string;
  devdb: { port: number; dir: string; backend: 'sqlite' | 'postgresql'; postgresqlUrl: string | null };
  limits: {
    messagesPerWindow: number;
    messageWindowMs: number;
    joinsPerWindow: number;
    joinWindowMs: number;
    profileUpdatesPerWindow: number;
    profileWindowMs: number;
    searchesPerWindow: number;
    /** Flags (moderation) a user may file per flagWindowMs. */
    flagsPerWindow: number;
    flagWindowMs: number;
    searchWindowMs: number;
    /** user:block / user:unblock per user and window (each is announced to every node). */
    blockChangesPerWindow: number;
    blockWindowMs: number;
    /** How many users one user may block. */
    maxBlocked: number;
    connectionsPerUser: number;
    connectionsPerIp: number;
  };
  presence: { offlineGraceMs: number; heartbeatMs: number; nodeTtlMs: number };
  typing: { autoStopMs: number; throttleMs: number };
  /** Room lastSeq and senders' read marks: exact in memory/Redis, checkpointed to the database. */
  counters: { flushIntervalMs: number; flushBatch: number };
  /** Delivery receipts (extension): `delivery:updated` at most once per room per updateIntervalMs; marks checkpointed to the memberships. */
  delivery: { updateIntervalMs: number; checkpoint: { flushIntervalMs: number; flushBatch: number } };
  cluster: {
    /** classic PUBLISH/SUBSCRIBE adapter, or Redis 7 sharded pub/sub (SPUBLISH). */
    adapter: 'classic' | 'sharded';
  };
  workers: {
    notifyWebhookUrl: string | null;
    notifyWebhookSecret: string | null;
    eventsWebhookUrl: string | null;
    eventsWebhookSecret: string | null;
    webhookTimeoutMs: number;
    webhookMaxAttempts: number;
    webhookBackoffMs: number;
    retentionSweepMs: number;
    retentionBatch: number;
    concurrency: number;
    /** BullMQ key prefix: separates deployments (and test files) sharing one Redis. */
    queuePrefix: string;
    /** The workers process serves /metrics and /healthz here (0: any free port). */
    metricsPort: number;
    /** A job whose worker stops renewing this lock (process killed) is re-run by another. */
    lockMs: number;
  };
  /** Abuse limits beyond rate limits: slow consumers, connection leases, client addresses. */
  abuse: {
    /** A socket whose unsent output exceeds this is disconnected. */
    maxSocketBufferBytes: number;
    /** Above this much unsent output, typing and presence events to that socket are dropped. */
    dropVolatileBytes: number;
    /** How long a connection slot survives in Redis without its node refreshing it. */
    connectionLeaseMs: number;
    /** Proxies in front of the node whose X-Forwarded-For entry is trusted (0: the peer address). */
    trustProxyHops: number;
  };
  /** Account defences: login throttling, registration limits, username policy (docs/reliability.md). */
  accounts: AccountsConfig;
  /** Prefix of this deployment's presence keys and adapter channels (deployments or tests sharing one Redis). */
  redisKeyPrefix: string;
  /** CloudWatch embedded-metric-format lines on stdout (http/emf-metrics.ts); off when intervalMs is 0. */
  emf: { intervalMs: number; namespace: string; service: string | null };
  /**
   * On ECS, start draining when the task is marked to stop (its metadata says DesiredStatus
   * STOPPED), which is when the ALB starts deregistering it, not at SIGTERM after the delay.
   */
  ecs: { drainOnTaskStop: boolean; metadataUri: string | null };
  /** pm2 cluster mode: forward a long-polling request to the worker that owns its session (cluster/session-forwarding.ts). */
  sessionForwarding: boolean;
  /** The browser client (client/web) served at `/`: on by default in development. */
  webClient: { enabled: boolean; dir: string };
  history: {
    /**
     * How history pages are read: `range` (one index range query: MongoDB), `points` (one `_id`
     * lookup per seq: databases that scan for anything but `_id` equality, such as FerretDB),
     * `auto` (points on a detected FerretDB, else range).
     */
    reads: 'auto' | 'range' | 'points';
    /** Rooms whose newest page each node keeps in memory (LRU); 0 turns the cache off. */
    cacheRooms: number;
  };
  /** Admission control under overload (overload/admission.ts; sizing in docs/operations.md). */
  overload: AdmissionConfig;
}

export interface AccountsConfig {
  login: {
    /** Failed logins of one account in a window answered at once; each further one waits longer. */
    freeFailures: number;
    /** Failed logins of one account in a window before it is blocked for blockMs. */
    accountMaxFailures: number;
    /** Failed logins from one client address in a window before it is blocked for blockMs. */
    addressMaxFailures: number;
    windowMs: number;
    /** First wait after the free failures; doubles with each failure, up to delayMaxMs. */
    delayBaseMs: number;
    delayMaxMs: number;
    blockMs: number;
  };
  register: { perAddress: number; addressWindowMs: number; global: number; globalWindowMs: number };
  /** Names refused at registration, with their look-alikes (domain/users/username-policy.ts). */
  reservedUsernames: string[];
}

/** Which process reads the config: the production checks apply to what that process serves. */
export type ConfigRole = 'api' | 'workers' | 'cli';

export const DEFAULT_RESERVED_USERNAMES = [
  'admin', 'administrator', 'root', 'system', 'sysadmin', 'superuser', 'moderator', 'mod', 'staff', 'support', 'helpdesk',
  'help', 'security', 'official', 'operator', 'owner', 'billing', 'abuse', 'postmaster', 'hostmaster', 'webmaster', 'noreply',
  'info', 'api', 'www', 'null', 'undefined', 'anonymous', 'everyone', 'here', 'channel', 'server', 'bot',
];

export class ConfigError extends Error {}

const KID_PATTERN = '^[A-Za-z0-9._-]{1,64}$';
/** More keys than this is a rotation that was never finished. */
const MAX_VERIFY_KEYS = 8;

const schema = {
  type: 'object',
  properties: {
    NODE_ENV: { enum: ['development', 'production', 'test'], default: 'development' },
    NODE_ID: { type: 'string', minLength: 1, maxLength: 64 },
    HOST: { type: 'string', minLength: 1, default: '0.0.0.0' },
    PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 3000 },
    MONGODB_URI: { type: 'string', pattern: '^mongodb(\\+srv)?://' },
    REDIS_URL: { type: 'string', pattern: '^rediss?://' },
    JWT_ALGORITHM: { enum: ['HS256', 'RS256', 'ES256'] },
    JWT_SECRET: { type: 'string', minLength: 16 },
    JWT_PUBLIC_KEY: { type: 'string', pattern: 'BEGIN PUBLIC KEY' },
    JWT_PRIVATE_KEY: { type: 'string', pattern: 'PRIVATE KEY' },
    JWT_TTL_SECONDS: { type: 'integer', minimum: 30, maximum: 2592000, default: 86400 },
    JWT_ISSUER: { type: 'string', minLength: 1 },
    JWT_AUDIENCE: { type: 'string', minLength: 1 },
    JWT_KEY_ID: { type: 'string', pattern: KID_PATTERN },
    JWT_VERIFY_KEYS: { type: 'string', minLength: 2 },
    LOG_LEVEL: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
    CORS_ORIGINS: { type: 'string', default: '*' },
    SHUTDOWN_GRACE_MS: { type: 'integer', minimum: 0, maximum: 600000, default: 10000 },
    METRICS_TOKEN: { type: 'string', minLength: 8 },
    OPERATOR_TOKEN: { type: 'string', minLength: 16, maxLength: 512 },
    DATA_DIR: { type: 'string', minLength: 1, default: '.data' },
    DEVDB_PORT: { type: 'integer', minimum: 1, maximum: 65535, default: 27017 },
    DEVDB_DIR: { type: 'string', minLength: 1 },
    DEVDB_BACKEND: { enum: ['sqlite', 'postgresql'], default: 'sqlite' },
    DEVDB_POSTGRESQL_URL: { type: 'string', pattern: '^postgres(ql)?://' },
    RATE_LIMIT_MESSAGES: { type: 'integer', minimum: 1, maximum: 100000, default: 20 },
    RATE_LIMIT_WINDOW_MS: { type: 'integer', minimum: 100, maximum: 3600000, default: 10000 },
    RATE_LIMIT_JOINS: { type: 'integer', minimum: 1, maximum: 100000, default: 30 },
    RATE_LIMIT_JOIN_WINDOW_MS: { type: 'integer', minimum: 100, maximum: 3600000, default: 10000 },
    RATE_LIMIT_PROFILE_UPDATES: { type: 'integer', minimum: 1, maximum: 100000, default: 10 },
    RATE_LIMIT_PROFILE_WINDOW_MS: { type: 'integer', minimum: 100, maximum: 3600000, default: 60000 },
    RATE_LIMIT_USER_SEARCHES: { type: 'integer', minimum: 1, maximum: 100000, default: 30 },
    RATE_LIMIT_USER_SEARCH_WINDOW_MS: { type: 'integer', minimum: 100, maximum: 3600000, default: 10000 },
    RATE_LIMIT_BLOCKS: { type: 'integer', minimum: 1, maximum: 100000, default: 30 },
    RATE_LIMIT_BLOCK_WINDOW_MS: { type: 'integer', minimum: 100, maximum: 3600000, default: 60000 },
    MAX_BLOCKED_USERS: { type: 'integer', minimum: 1, maximum: 100000, default: 1000 },
    RATE_LIMIT_FLAGS: { type: 'integer', minimum: 1, maximum: 100000, default: 10 },
    RATE_LIMIT_FLAG_WINDOW_MS: { type: 'integer', minimum: 100, maximum: 3600000, default: 60000 },
    MAX_CONNECTIONS_PER_USER: { type: 'integer', minimum: 1, maximum: 100000, default: 20 },
    MAX_CONNECTIONS_PER_IP: { type: 'integer', minimum: 1, maximum: 1000000, default: 100000 },
    PRESENCE_GRACE_MS: { type: 'integer', minimum: 0, maximum: 60000, default: 5000 },
    PRESENCE_HEARTBEAT_MS: { type: 'integer', minimum: 100, maximum: 60000, default: 5000 },
    PRESENCE_NODE_TTL_MS: { type: 'integer', minimum: 500, maximum: 120000, default: 15000 },
    TYPING_AUTO_STOP_MS: { type: 'integer', minimum: 100, maximum: 60000, default: 5000 },
    TYPING_THROTTLE_MS: { type: 'integer', minimum: 0, maximum: 60000, default: 1000 },
    COUNTERS_FLUSH_INTERVAL_MS: { type: 'integer', minimum: 10, maximum: 600000, default: 1000 },
    COUNTERS_FLUSH_BATCH: { type: 'integer', minimum: 1, maximum: 100000, default: 200 },
    DELIVERY_UPDATE_INTERVAL_MS: { type: 'integer', minimum: 10, maximum: 60000, default: 500 },
    DELIVERY_FLUSH_INTERVAL_MS: { type: 'integer', minimum: 10, maximum: 600000, default: 5000 },
    DELIVERY_FLUSH_BATCH: { type: 'integer', minimum: 1, maximum: 100000, default: 200 },
    REDIS_ADAPTER: { enum: ['classic', 'sharded'], default: 'classic' },
    NOTIFY_WEBHOOK_URL: { type: 'string', pattern: '^https?://' },
    NOTIFY_WEBHOOK_SECRET: { type: 'string', minLength: 16 },
    EVENTS_WEBHOOK_URL: { type: 'string', pattern: '^https?://' },
    EVENTS_WEBHOOK_SECRET: { type: 'string', minLength: 16 },
    WEBHOOK_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 60000, default: 5000 },
    WEBHOOK_MAX_ATTEMPTS: { type: 'integer', minimum: 1, maximum: 100, default: 8 },
    WEBHOOK_BACKOFF_MS: { type: 'integer', minimum: 10, maximum: 3600000, default: 1000 },
    RETENTION_SWEEP_MS: { type: 'integer', minimum: 1000, maximum: 86400000, default: 3600000 },
    RETENTION_BATCH: { type: 'integer', minimum: 1, maximum: 100000, default: 1000 },
    WORKER_CONCURRENCY: { type: 'integer', minimum: 1, maximum: 1000, default: 16 },
    QUEUE_PREFIX: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$', default: 'chat-jobs' },
    WORKERS_METRICS_PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 9464 },
    WORKER_LOCK_MS: { type: 'integer', minimum: 1000, maximum: 600000, default: 30000 },
    MAX_SOCKET_BUFFER_BYTES: { type: 'integer', minimum: 16384, maximum: 1073741824, default: 4194304 },
    SOCKET_DROP_VOLATILE_BYTES: { type: 'integer', minimum: 0, maximum: 1073741824, default: 65536 },
    CONNECTION_LEASE_MS: { type: 'integer', minimum: 1000, maximum: 600000, default: 60000 },
    TRUST_PROXY_HOPS: { type: 'integer', minimum: 0, maximum: 10, default: 0 },
    REDIS_KEY_PREFIX: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{0,64}$', default: '' },
    SESSION_FORWARDING: { type: 'boolean', default: false },
    METRICS_EMF_INTERVAL_MS: { type: 'integer', minimum: 0, maximum: 3600000, default: 0 },
    METRICS_EMF_NAMESPACE: { type: 'string', pattern: '^[A-Za-z0-9_./#:-]{1,255}$', default: 'Chat' },
    METRICS_EMF_SERVICE: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$' },
    DRAIN_ON_TASK_STOP: { type: 'boolean', default: false },
    // Set by the ECS agent in every container: the task metadata endpoint.
    ECS_CONTAINER_METADATA_URI_V4: { type: 'string', pattern: '^https?://' },
    WEB_CLIENT: { type: 'boolean' },
    WEB_CLIENT_DIR: { type: 'string', minLength: 1, default: 'client/web/dist' },
    METRICS_PUBLIC: { type: 'boolean', default: false },
    LOGIN_FREE_FAILURES: { type: 'integer', minimum: 0, maximum: 1000, default: 3 },
    LOGIN_ACCOUNT_MAX_FAILURES: { type: 'integer', minimum: 1, maximum: 100000, default: 10 },
    LOGIN_ADDRESS_MAX_FAILURES: { type: 'integer', minimum: 1, maximum: 1000000, default: 30 },
    LOGIN_FAILURE_WINDOW_MS: { type: 'integer', minimum: 1000, maximum: 86400000, default: 3600000 },
    // Waits and blocks are whole seconds in Redis: at least one second.
    LOGIN_DELAY_BASE_MS: { type: 'integer', minimum: 1000, maximum: 3600000, default: 1000 },
    LOGIN_DELAY_MAX_MS: { type: 'integer', minimum: 1000, maximum: 3600000, default: 30000 },
    LOGIN_BLOCK_MS: { type: 'integer', minimum: 1000, maximum: 86400000, default: 900000 },
    REGISTER_PER_ADDRESS: { type: 'integer', minimum: 1, maximum: 1000000, default: 10 },
    REGISTER_ADDRESS_WINDOW_MS: { type: 'integer', minimum: 1000, maximum: 86400000, default: 3600000 },
    REGISTER_GLOBAL: { type: 'integer', minimum: 1, maximum: 10000000, default: 300 },
    REGISTER_GLOBAL_WINDOW_MS: { type: 'integer', minimum: 1000, maximum: 86400000, default: 60000 },
    USERNAME_RESERVED: { type: 'string', pattern: '^[A-Za-z0-9_.,\\s-]*$' },
    HISTORY_READS: { enum: ['auto', 'range', 'points'], default: 'auto' },
    HISTORY_CACHE_ROOMS: { type: 'integer', minimum: 0, maximum: 1000000, default: 1000 },
    REQUEST_BUDGET_MS: { type: 'integer', minimum: 0, maximum: 600000, default: 5000 },
    MAX_PENDING_ACKS_PER_SOCKET: { type: 'integer', minimum: 1, maximum: 100000, default: 64 },
    MAX_QUEUED_SENDS_PER_ROOM: { type: 'integer', minimum: 1, maximum: 1000000, default: 64 },
    MAX_QUEUED_SENDS_PER_NODE: { type: 'integer', minimum: 1, maximum: 10000000, default: 1024 },
    MAX_QUEUED_SENDS_PER_SENDER: { type: 'integer', minimum: 1, maximum: 1000000, default: 64 },
    SEND_LIMIT_FLOOR: { type: 'integer', minimum: 1, maximum: 10000000, default: 8 },
    ROOM_SEND_BURST: { type: 'integer', minimum: 0, maximum: 1000000, default: 48 },
    MAX_SEND_WAIT_MS: { type: 'integer', minimum: 0, maximum: 600000, default: 250 },
    SEND_QUEUE_TARGET_MS: { type: 'integer', minimum: 0, maximum: 600000, default: 20 },
    MAX_DB_IN_FLIGHT: { type: 'integer', minimum: 1, maximum: 100000, default: 48 },
    READY_SHED_RATIO: { type: 'number', minimum: 0, maximum: 1, default: 0.5 },
  },
} as const;

/** Every variable this process reads (deploy descriptions are checked against it: test/docker, test/deploy). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(schema.properties);

const ajv = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: false, strict: false });
const validateEnv = ajv.compile(schema);

/**
 * Reads and validates the environment; throws ConfigError naming the first bad variable.
 * `role` says what the process serves: the API (CORS and /metrics), the workers (/metrics) or a CLI.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, role: ConfigRole = 'api'): Config {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  if (!validateEnv(raw)) {
    const err = validateEnv.errors![0];
    const name = err.instancePath.replace(/^\//, '') || String(err.params && (err.params as { missingProperty?: string }).missingProperty);
    throw new ConfigError(`${name}: ${err.message}${env[name] !== undefined ? ` (got ${JSON.stringify(env[name])})` : ''}`);
  }
  const e = raw as Record<string, any>;
  const nodeEnv = e.NODE_ENV as Config['nodeEnv'];
  const dataDir = path.resolve(e.DATA_DIR);
  const algorithm: JwtAlgorithm = e.JWT_ALGORITHM ?? (e.JWT_PUBLIC_KEY ? 'RS256' : 'HS256');
  let secret: string | null = e.JWT_SECRET ?? null;
  const publicKey: string | null = e.JWT_PUBLIC_KEY ?? null;
  if (algorithm === 'HS256') {
    if (publicKey) throw new ConfigError('JWT_PUBLIC_KEY: set, but JWT_ALGORITHM is HS256 (use RS256 or ES256)');
    if (!secret) {
      if (nodeEnv === 'production') throw new ConfigError('JWT_SECRET: required when NODE_ENV=production');
      secret = devSecret(dataDir);
    }
  } else {
    if (!publicKey) throw new ConfigError(`JWT_PUBLIC_KEY: required for JWT_ALGORITHM=${algorithm}`);
    if (secret) throw new ConfigError(`JWT_SECRET: set, but JWT_ALGORITHM is ${algorithm}; refusing an ambiguous key setup`);
  }
  const verifyKeys = parseVerifyKeys(e.JWT_VERIFY_KEYS, algorithm, e.JWT_KEY_ID ?? null);
  for (const kind of ['NOTIFY', 'EVENTS']) {
    if (e[`${kind}_WEBHOOK_URL`] && !e[`${kind}_WEBHOOK_SECRET`]) throw new ConfigError(`${kind}_WEBHOOK_SECRET: required when ${kind}_WEBHOOK_URL is set (deliveries are signed)`);
  }
  if (nodeEnv === 'production' && !e.MONGODB_URI) throw new ConfigError('MONGODB_URI: required when NODE_ENV=production');
  const cors = String(e.CORS_ORIGINS).trim();
  if (nodeEnv === 'production') failClosedInProduction(role, cors, e);
  return {
    nodeEnv,
    nodeId: e.NODE_ID ?? `${require('node:os').hostname()}-${process.pid}`,
    host: e.HOST,
    port: e.PORT,
    mongodbUri: e.MONGODB_URI ?? null,
    redisUrl: e.REDIS_URL ?? null,
    jwt: {
      algorithm,
      secret,
      publicKey,
      privateKey: e.JWT_PRIVATE_KEY ?? null,
      ttlSeconds: e.JWT_TTL_SECONDS,
      issuer: e.JWT_ISSUER ?? null,
      audience: e.JWT_AUDIENCE ?? null,
      keyId: e.JWT_KEY_ID ?? null,
      verifyKeys,
    },
    logLevel: e.LOG_LEVEL,
    corsOrigins: cors === '*' ? '*' : cors.split(',').map((s) => s.trim()).filter(Boolean),
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    metricsToken: e.METRICS_TOKEN ?? null,
    operatorToken: e.OPERATOR_TOKEN ?? null,
    metricsPublic: e.METRICS_PUBLIC,
    dataDir,
    devdb: {
      port: e.DEVDB_PORT,
      dir: path.resolve(e.DEVDB_DIR ?? path.join(dataDir, 'devdb')),
      backend: e.DEVDB_BACKEND,
      postgresqlUrl: e.DEVDB_POSTGRESQL_URL ?? null,
    },
    limits: {
      messagesPerWindow: e.RATE_LIMIT_MESSAGES,
      messageWindowMs: e.RATE_LIMIT_WINDOW_MS,
      joinsPerWindow: e.RATE_LIMIT_JOINS,
      joinWindowMs: e.RATE_LIMIT_JOIN_WINDOW_MS,
      profileUpdatesPerWindow: e.RATE_LIMIT_PROFILE_UPDATES,
      profileWindowMs: e.RATE_LIMIT_PROFILE_WINDOW_MS,
      searchesPerWindow: e.RATE_LIMIT_USER_SEARCHES,
      searchWindowMs: e.RATE_LIMIT_USER_SEARCH_WINDOW_MS,
      blockChangesPerWindow: e.RATE_LIMIT_BLOCKS,
      blockWindowMs: e.RATE_LIMIT_BLOCK_WINDOW_MS,
      maxBlocked: e.MAX_BLOCKED_USERS,
      flagsPerWindow: e.RATE_LIMIT_FLAGS,
      flagWindowMs: e.RATE_LIMIT_FLAG_WINDOW_MS,
      connectionsPerUser: e.MAX_CONNECTIONS_PER_USER,
      connectionsPerIp: e.MAX_CONNECTIONS_PER_IP,
    },
    presence: { offlineGraceMs: e.PRESENCE_GRACE_MS, heartbeatMs: e.PRESENCE_HEARTBEAT_MS, nodeTtlMs: e.PRESENCE_NODE_TTL_MS },
    typing: { autoStopMs: e.TYPING_AUTO_STOP_MS, throttleMs: e.TYPING_THROTTLE_MS },
    counters: { flushIntervalMs: e.COUNTERS_FLUSH_INTERVAL_MS, flushBatch: e.COUNTERS_FLUSH_BATCH },
    delivery: { updateIntervalMs: e.DELIVERY_UPDATE_INTERVAL_MS, checkpoint: { flushIntervalMs: e.DELIVERY_FLUSH_INTERVAL_MS, flushBatch: e.DELIVERY_FLUSH_BATCH } },
    cluster: { adapter: e.REDIS_ADAPTER },
    workers: {
      notifyWebhookUrl: e.NOTIFY_WEBHOOK_URL ?? null,
      notifyWebhookSecret: e.NOTIFY_WEBHOOK_SECRET ?? null,
      eventsWebhookUrl: e.EVENTS_WEBHOOK_URL ?? null,
      eventsWebhookSecret: e.EVENTS_WEBHOOK_SECRET ?? null,
      webhookTimeoutMs: e.WEBHOOK_TIMEOUT_MS,
      webhookMaxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
      webhookBackoffMs: e.WEBHOOK_BACKOFF_MS,
      retentionSweepMs: e.RETENTION_SWEEP_MS,
      retentionBatch: e.RETENTION_BATCH,
      concurrency: e.WORKER_CONCURRENCY,
      queuePrefix: e.QUEUE_PREFIX,
      metricsPort: e.WORKERS_METRICS_PORT,
      lockMs: e.WORKER_LOCK_MS,
    },
    abuse: {
      maxSocketBufferBytes: e.MAX_SOCKET_BUFFER_BYTES,
      dropVolatileBytes: Math.min(e.SOCKET_DROP_VOLATILE_BYTES, e.MAX_SOCKET_BUFFER_BYTES),
      connectionLeaseMs: e.CONNECTION_LEASE_MS,
      trustProxyHops: e.TRUST_PROXY_HOPS,
    },
    accounts: {
      login: {
        freeFailures: e.LOGIN_FREE_FAILURES,
        accountMaxFailures: e.LOGIN_ACCOUNT_MAX_FAILURES,
        addressMaxFailures: e.LOGIN_ADDRESS_MAX_FAILURES,
        windowMs: e.LOGIN_FAILURE_WINDOW_MS,
        delayBaseMs: e.LOGIN_DELAY_BASE_MS,
        delayMaxMs: Math.max(e.LOGIN_DELAY_BASE_MS, e.LOGIN_DELAY_MAX_MS),
        blockMs: e.LOGIN_BLOCK_MS,
      },
      register: {
        perAddress: e.REGISTER_PER_ADDRESS,
        addressWindowMs: e.REGISTER_ADDRESS_WINDOW_MS,
        global: e.REGISTER_GLOBAL,
        globalWindowMs: e.REGISTER_GLOBAL_WINDOW_MS,
      },
      reservedUsernames:
        e.USERNAME_RESERVED === undefined
          ? DEFAULT_RESERVED_USERNAMES
          : String(e.USERNAME_RESERVED).split(',').map((s) => s.trim()).filter(Boolean),
    },
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    sessionForwarding: e.SESSION_FORWARDING,
    ecs: { drainOnTaskStop: e.DRAIN_ON_TASK_STOP, metadataUri: e.ECS_CONTAINER_METADATA_URI_V4 ?? null },
    emf: { intervalMs: e.METRICS_EMF_INTERVAL_MS, namespace: e.METRICS_EMF_NAMESPACE, service: e.METRICS_EMF_SERVICE ?? null },
    webClient: { enabled: e.WEB_CLIENT ?? nodeEnv === 'development', dir: path.resolve(e.WEB_CLIENT_DIR) },
    history: { reads: e.HISTORY_READS, cacheRooms: e.HISTORY_CACHE_ROOMS },
    overload: {
      budgetMs: e.REQUEST_BUDGET_MS,
      maxPendingPerSocket: e.MAX_PENDING_ACKS_PER_SOCKET,
      maxSendsPerRoom: e.MAX_QUEUED_SENDS_PER_ROOM,
      maxSendsPerNode: e.MAX_QUEUED_SENDS_PER_NODE,
      maxSendsPerSender: e.MAX_QUEUED_SENDS_PER_SENDER,
      // A floor above the ceiling would make the ceiling the floor.
      sendLimitFloor: Math.min(e.SEND_LIMIT_FLOOR, e.MAX_QUEUED_SENDS_PER_NODE),
      roomSendBurst: e.ROOM_SEND_BURST,
      maxSendWaitMs: e.MAX_SEND_WAIT_MS,
      sendQueueTargetMs: e.SEND_QUEUE_TARGET_MS,
      maxDbInFlight: e.MAX_DB_IN_FLIGHT,
      readyShedRatio: e.READY_SHED_RATIO,
    },
  };
}

/**
 * JWT_VERIFY_KEYS is a JSON object `{ "<kid>": "<HS256 secret or PEM public key>" }`: the keys
 * a rotation still (or already) accepts besides the current one. Checked here, once.
 */
function parseVerifyKeys(raw: string | undefined, algorithm: JwtAlgorithm, keyId: string | null): Config['jwt']['verifyKeys'] {
  if (raw === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError('JWT_VERIFY_KEYS: not JSON (expected {"<kid>": "<key>"})');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError('JWT_VERIFY_KEYS: expected a JSON object {"<kid>": "<key>"}');
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.length > MAX_VERIFY_KEYS) throw new ConfigError(`JWT_VERIFY_KEYS: ${entries.length} keys; at most ${MAX_VERIFY_KEYS} (remove keys whose tokens have expired)`);
  const kidRe = new RegExp(KID_PATTERN);
  return entries.map(([kid, key]) => {
    if (!kidRe.test(kid)) throw new ConfigError(`JWT_VERIFY_KEYS: key id ${JSON.stringify(kid)} must match ${KID_PATTERN}`);
    if (kid === keyId) throw new ConfigError(`JWT_VERIFY_KEYS: key id "${kid}" is also JWT_KEY_ID (the current key needs no second entry)`);
    if (typeof key !== 'string') throw new ConfigError(`JWT_VERIFY_KEYS: key "${kid}" is not a string`);
    if (algorithm === 'HS256') {
      if (key.length < 16) throw new ConfigError(`JWT_VERIFY_KEYS: key "${kid}" is shorter than 16 characters`);
    } else {
      try {
        crypto.createPublicKey(key);
      } catch {
        throw new ConfigError(`JWT_VERIFY_KEYS: key "${kid}" is not a PEM public key (JWT_ALGORITHM=${algorithm})`);
      }
    }
    return { kid, key };
  });
}

/**
 * Production fails closed: an API that answers any Origin, or metrics open to anyone, must be
 * asked for explicitly rather than be what an unset variable gives.
 */
function failClosedInProduction(role: ConfigRole, cors: string, e: Record<string, any>): void {
  if (role === 'api' && (cors === '*' || cors.split(',').some((o) => o.trim() === '*'))) {
    throw new ConfigError('CORS_ORIGINS: must list the allowed origins when NODE_ENV=production (got "*"); e.g. CORS_ORIGINS=https://app.example.com');
  }
  if (role !== 'cli' && !e.METRICS_TOKEN && !e.METRICS_PUBLIC) {
    throw new ConfigError('METRICS_TOKEN: required when NODE_ENV=production (or METRICS_PUBLIC=true to serve /metrics without a token)');
  }
}

/** In development a generated secret is kept under the data dir so tokens survive restarts. */
function devSecret(dataDir: string): string {
  const file = path.join(dataDir, 'jwt-secret');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    fs.mkdirSync(dataDir, { recursive: true });
    const secret = crypto.randomBytes(32).toString('hex');
    fs.writeFileSync(file, secret, { mode: 0o600 });
    process.emitWarning(`JWT_SECRET not set: generated a development secret in ${file}`);
    return secret;
  }
}
