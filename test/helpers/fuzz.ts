// Hostile input for the fuzz suites: fast-check arbitraries for wrong types, huge and deep
// values, prototype and MongoDB-operator keys, binary attachments and broken Unicode, plus
// an oracle that says, from the client contract alone, whether a payload is valid. Nothing
// here imports server code: the oracle is a second, independent reading of the contract.
import v8 from 'node:v8';
import vm from 'node:vm';
import fc from 'fast-check';
import type { TestApp } from './app';

// ------------------------------------------------------------------ run sizes

/**
 * How many runs a property gets: `base` in CI; FUZZ_SOAK=1 multiplies by 20 and
 * FUZZ_RUNS=<n> sets it outright (a long soak: `FUZZ_SOAK=1 npx vitest run test/integration/fuzz-`).
 */
export function runs(base: number): number {
  if (process.env.FUZZ_RUNS) return Number(process.env.FUZZ_RUNS);
  return process.env.FUZZ_SOAK === '1' ? base * 20 : base;
}

/** Per-test timeout: room for the soak's twentyfold runs. */
export function fuzzTimeout(): number {
  return process.env.FUZZ_SOAK === '1' || process.env.FUZZ_RUNS ? 30 * 60_000 : 60_000;
}

/** A fixed seed unless FUZZ_SEED is set, so a CI failure replays the same way. */
export function seed(): number {
  return process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 20240607;
}

/** Prints a measured figure when FUZZ_REPORT=1 (docs/reliability.md quotes them). */
export function report(line: string): void {
  if (process.env.FUZZ_REPORT === '1') process.stdout.write(`[fuzz] ${line}\n`);
}

// ------------------------------------------------------------------ heap

let gcFn: (() => void) | null = null;
/** A full garbage collection (enables --expose-gc at run time). */
export function gc(): void {
  if (!gcFn) {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as () => void;
  }
  gcFn();
  gcFn();
}

/** Heap in use after a full collection, in bytes. */
export function settledHeap(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

// ------------------------------------------------------------------ values

export const OPERATORS = [
  '$gt', '$gte', '$lt', '$lte', '$ne', '$eq', '$in', '$nin', '$where', '$regex', '$options', '$exists', '$expr', '$function',
  '$accumulator', '$or', '$and', '$nor', '$not', '$elemMatch', '$size', '$type', '$mod', '$text', '$jsonSchema', '$set',
  '$unset', '$inc', '$push', '$rename', '$lookup', '$merge', '$out',
];

export const EVIL_KEYS = [
  '__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'isAdmin',
  '$where', '$gt', '$set', 'a.b', '.', '', ' ', 'roomId.$', '\u0000', 'k'.repeat(300), '😀', '\ud800',
];

const LONE_SURROGATES = ['\ud800', '\udbff', '\udc00', '\udfff', 'a\ud83d', '\ude00b', 'x\ud800y\udc00z'];

/** Builds an object whose keys are own properties, `__proto__` included (as JSON.parse does). */
export function ownKeys(entries: Array<[string, unknown]>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}

/** Nests `leaf` `depth` levels deep in objects or arrays. */
export function nest(depth: number, kind: 'object' | 'array', leaf: unknown = 'x'): unknown {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i++) v = kind === 'object' ? { d: v } : [v];
  return v;
}

const primitive: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.constantFrom(0, -1, 1.5, -0.0001, 1e21, Number.MAX_SAFE_INTEGER + 2, -Number.MAX_SAFE_INTEGER - 2, 2 ** 31, 101, 4001),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(...LONE_SURROGATES),
  fc.constantFrom('', ' ', 'null', 'undefined', 'true', '0', '[object Object]', '{"$gt":""}', 'ObjectId("000000000000000000000000")'),
);

/** Strings past every bound of the contract, still well inside the 64 KiB frame. */
export const hugeString: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 101, max: 4000 }).map((n) => 'n'.repeat(n)),
  fc.integer({ min: 4001, max: 20_000 }).map((n) => 't'.repeat(n)),
  fc.integer({ min: 1000, max: 5000 }).map((n) => '😀'.repeat(n)),
);

export const binary: fc.Arbitrary<Buffer> = fc.uint8Array({ maxLength: 1024 }).map((a) => Buffer.from(a));

/** A valid attachment (extension) for base payloads; mutations make its fields hostile. */
export const ATTACHMENT = { type: 'image', url: 'https://cdn.example.com/a.png', mime: 'image/png', size: 1024, name: 'a.png', width: 10, height: 10, thumbUrl: 'https://cdn.example.com/t.png' };

/** URLs a client must never be sent to: other schemes, credentials, IP literals, local names, tricks. */
export const hostileUrl: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'http://cdn.example.com/a.png', 'javascript:alert(1)', 'data:image/png;base64,AAAA', 'file:///etc/passwd', 'HTTPS://cdn.example.com/a',
    'https://user:pw@cdn.example.com/a', 'https://127.0.0.1/a', 'https://[::1]/a', 'https://2130706433/a', 'https://0x7f.1/a', 'https://localhost/a',
    'https://intranet/a', 'https://db.internal/a', 'https://printer.local/a', 'https://cdn.example.com\\@evil.example/a', 'https://cdn.example.com/a b',
    'https://cdn.example.com/\u0000', 'https://cdn.example.com/\u202e', '//cdn.example.com/a', 'https:cdn.example.com', 'https://',
  ),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
);

/** Any hostile value: wrong types, operators, prototype keys, deep, huge, binary. */
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    primitive,
    fc.tuple(fc.constantFrom(...OPERATORS), fc.oneof(primitive, fc.constant({}))).map(([op, v]) => ownKeys([[op, v]])),
    fc.array(fc.tuple(fc.constantFrom(...EVIL_KEYS), tie('value')), { maxLength: 3 }).map(ownKeys),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.tuple(fc.integer({ min: 10, max: 1500 }), fc.constantFrom('object', 'array') as fc.Arbitrary<'object' | 'array'>).map(([d, k]) => nest(d, k)),
    fc.integer({ min: 101, max: 3000 }).map((n) => Array.from({ length: n }, (_, i) => `id-${i}`)),
    hugeString,
    binary,
  ),
})).value;

// ------------------------------------------------------------------ the contract, as an oracle

type Field =
  | { t: 'id' }
  | {
      t: 'str';
      min: number;
      max: number;
      emoji?: boolean;
      stored?: boolean;
      /** Shown next to a name (profiles): no control characters, line separators or bidi controls; `min` counts after trimming. */
      display?: boolean;
      /** `null` is a value (it clears the field). */
      nullable?: boolean;
      /** The whole string must match. */
      pattern?: RegExp;
    }
  /** An https URL (profiles): a host, no credentials, no white space or control characters. */
  | { t: 'url'; max: number; nullable?: boolean }
  | { t: 'int'; min: number; max: number }
  | { t: 'bool' }
  | { t: 'enum'; values: string[] }
  | { t: 'ids'; max: number }
  | { t: 'cursor' }
  /** Attachments (extension): at most 10 metadata objects (docs/protocol.md "Attachments"). */
  | { t: 'attachments' };

export interface EventSpec {
  fields: Record<string, Field>;
  required: string[];
  /** Changes stored state when it succeeds. */
  writes: boolean;
  /** At least this many fields (profile updates must change something). */
  minFields?: number;
  /** A send: `text`, or at least one attachment (extension), must be present. */
  needsContent?: boolean;
}

const id: Field = { t: 'id' };
const text: Field = { t: 'str', min: 1, max: 4000, stored: true };
const name: Field = { t: 'str', min: 1, max: 100, stored: true };
const seq: Field = { t: 'int', min: 0, max: Number.MAX_SAFE_INTEGER };
const limit: Field = { t: 'int', min: 1, max: 100 };
const cursor: Field = { t: 'cursor' };
/** Moderation: a mute's or ban's length (whole seconds up to a year) and a reason or note. */
export const MOD_DURATION: Field = { t: 'int', min: 1, max: 365 * 24 * 3600 };
export const MOD_REASON: Field = { t: 'str', min: 1, max: 500, stored: true };

/** PATCH /users/me and user:update. */
export const PROFILE_FIELDS: Record<string, Field> = {
  displayName: { t: 'str', min: 1, max: 64, stored: true, display: true },
  statusText: { t: 'str', min: 0, max: 140, stored: true, display: true, nullable: true },
  avatarUrl: { t: 'url', max: 2048, nullable: true },
};

// eslint-disable-next-line no-control-regex
const NOT_DISPLAYABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
// eslint-disable-next-line no-control-regex
const HTTPS_URL = /^https:\/\/[^\s\u0000-\u001f\u007f-\u009f\ud800-\udfff]+$/u;

/** The client-to-server events of the contract (and the room:set_role extension). */
export const EVENTS: Record<string, EventSpec> = {
  'room:create': { fields: { type: { t: 'enum', values: ['public', 'private'] }, name, memberIds: { t: 'ids', max: 100 } }, required: ['type', 'name'], writes: true },
  'room:join': { fields: { roomId: id }, required: ['roomId'], writes: true },
  'room:leave': { fields: { roomId: id }, required: ['roomId'], writes: true },
  'room:invite': { fields: { roomId: id, userId: id }, required: ['roomId', 'userId'], writes: true },
  'room:kick': { fields: { roomId: id, userId: id }, required: ['roomId', 'userId'], writes: true },
  'room:set_role': { fields: { roomId: id, userId: id, role: { t: 'enum', values: ['admin', 'member'] } }, required: ['roomId', 'userId', 'role'], writes: true },
  'room:list': { fields: { cursor, limit }, required: [], writes: false },
  'room:members': { fields: { roomId: id, cursor, limit }, required: ['roomId'], writes: false },
  'dm:open': { fields: { userId: id }, required: ['userId'], writes: true },
  'message:send': {
    fields: { roomId: id, clientMsgId: { t: 'str', min: 1, max: 64, stored: true }, text, replyTo: id, threadOf: id, alsoInRoom: { t: 'bool' }, attachments: { t: 'attachments' } },
    required: ['roomId', 'clientMsgId'],
    writes: true,
    needsContent: true,
  },
  'message:edit': { fields: { messageId: id, text }, required: ['messageId', 'text'], writes: true },
  'message:delete': { fields: { messageId: id }, required: ['messageId'], writes: true },
  'message:react': { fields: { messageId: id, emoji: { t: 'str', min: 1, max: 32, emoji: true, stored: true }, add: { t: 'bool' } }, required: ['messageId', 'emoji', 'add'], writes: true },
  'message:history': { fields: { roomId: id, beforeSeq: seq, afterSeq: seq, limit, excludeThreadReplies: { t: 'bool' } }, required: ['roomId'], writes: false },
  // Extension (threads, docs/protocol.md "Threads").
  'thread:history': { fields: { messageId: id, beforeSeq: seq, afterSeq: seq, limit }, required: ['messageId'], writes: false },
  'message:read': { fields: { roomId: id, seq }, required: ['roomId', 'seq'], writes: true },
  // Extension (delivery receipts).
  'message:delivered': { fields: { roomId: id, seq }, required: ['roomId', 'seq'], writes: true },
  'presence:get': { fields: { userIds: { t: 'ids', max: 100 } }, required: ['userIds'], writes: false },
  'auth:refresh': { fields: { token: { t: 'str', min: 1, max: 8192 } }, required: ['token'], writes: false },
  'typing:start': { fields: { roomId: id }, required: ['roomId'], writes: false },
  'typing:stop': { fields: { roomId: id }, required: ['roomId'], writes: false },
  // Extensions (profiles, docs/protocol.md "Profiles" and "User search").
  'user:update': { fields: PROFILE_FIELDS, required: [], writes: true, minFields: 1 },
  'user:search': { fields: { prefix: { t: 'str', min: 3, max: 32, pattern: /^[a-zA-Z0-9_.-]+$/ }, cursor, limit: { t: 'int', min: 1, max: 50 } }, required: ['prefix'], writes: false },
  // Extension (user blocks, docs/protocol.md "User blocks").
  'user:block': { fields: { userId: id }, required: ['userId'], writes: true },
  'user:unblock': { fields: { userId: id }, required: ['userId'], writes: true },
  'user:list_blocks': { fields: {}, required: [], writes: false },
  // Extensions (moderation, docs/protocol.md "Moderation").
  'room:mute': { fields: { roomId: id, userId: id, durationSeconds: MOD_DURATION, reason: MOD_REASON }, required: ['roomId', 'userId', 'durationSeconds'], writes: true },
  'room:unmute': { fields: { roomId: id, userId: id, reason: MOD_REASON }, required: ['roomId', 'userId'], writes: true },
  'room:ban': { fields: { roomId: id, userId: id, durationSeconds: MOD_DURATION, reason: MOD_REASON }, required: ['roomId', 'userId'], writes: true },
  'room:unban': { fields: { roomId: id, userId: id, reason: MOD_REASON }, required: ['roomId', 'userId'], writes: true },
  'room:slow_mode': { fields: { roomId: id, seconds: { t: 'int', min: 0, max: 6 * 3600 }, reason: MOD_REASON }, required: ['roomId', 'seconds'], writes: true },
  'room:audit': { fields: { roomId: id, cursor, limit }, required: ['roomId'], writes: false },
  'room:flags': { fields: { roomId: id, cursor, limit }, required: ['roomId'], writes: false },
  'message:flag': { fields: { messageId: id, reason: MOD_REASON }, required: ['messageId', 'reason'], writes: true },
  'room:resolve_flag': {
    fields: { roomId: id, messageId: id, action: { t: 'enum', values: ['dismiss', 'delete', 'mute', 'ban'] }, durationSeconds: MOD_DURATION, note: MOD_REASON },
    required: ['roomId', 'messageId', 'action'],
    writes: true,
  },
};

/** `invalid`: the contract says VALIDATION_FAILED. `valid`: it passes validation. `unsure`: bounds the contract leaves open. */
export type Verdict = 'invalid' | 'valid' | 'unsure';

const codePoints = (s: string) => [...s].length;
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v) && !(v instanceof Uint8Array);

function checkField(f: Field, v: unknown): Verdict {
  if (v === null && 'nullable' in f && f.nullable) return 'valid';
  switch (f.t) {
    case 'id':
      if (typeof v !== 'string' || v.length === 0) return 'invalid';
      // Ids are opaque; how long one may be is the server's call.
      return codePoints(v) > 128 ? 'unsure' : 'valid';
    case 'cursor':
      // Opaque: a malformed cursor is VALIDATION_FAILED, but only the server can tell.
      return typeof v === 'string' && v.length > 0 ? 'unsure' : 'invalid';
    case 'str': {
      if (typeof v !== 'string') return 'invalid';
      const n = codePoints(v);
      if (n < f.min || n > f.max) return 'invalid';
      // A lone surrogate is not a character: text to be stored must be well-formed.
      if (f.stored && /[\ud800-\udfff]/u.test(v)) return 'invalid';
      if (f.emoji && (v.includes('.') || v.startsWith('$') || [...v].some((c) => c.charCodeAt(0) < 0x20))) return 'invalid';
      if (f.pattern && !f.pattern.test(v)) return 'invalid';
      if (f.display && (NOT_DISPLAYABLE.test(v) || codePoints(v.trim()) < f.min)) return 'invalid';
      return 'valid';
    }
    case 'url': {
      if (typeof v !== 'string') return 'invalid';
      const n = codePoints(v);
      if (n < 9 || n > f.max || !HTTPS_URL.test(v)) return 'invalid';
      // The contract: an https URL with a host and no credentials.
      try {
        const url = new URL(v);
        return url.protocol === 'https:' && url.hostname && !url.username && !url.password ? 'valid' : 'invalid';
      } catch {
        return 'invalid';
      }
    }
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < f.min || v > f.max) return 'invalid';
      return 'valid';
    case 'bool':
      return typeof v === 'boolean' ? 'valid' : 'invalid';
    case 'enum':
      return typeof v === 'string' && f.values.includes(v) ? 'valid' : 'invalid';
    case 'ids': {
      if (!Array.isArray(v) || v.length > f.max) return 'invalid';
      let verdict: Verdict = v.length === 0 ? 'unsure' : 'valid';
      for (const item of v) {
        const r = checkField(id, item);
        if (r === 'invalid') return 'invalid';
        if (r === 'unsure') verdict = 'unsure';
      }
      if (new Set(v).size !== v.length) verdict = 'unsure';
      return verdict;
    }
    case 'attachments':
      if (!Array.isArray(v) || v.length > 10) return 'invalid';
      return v.every(isValidAttachment) ? 'valid' : 'invalid';
  }
}

// eslint-disable-next-line no-control-regex
const ATTACHMENT_URL = /^https:\/\/[^\s\\\u0000-\u001f\u007f-\u009f\ud800-\udfff]+$/u;
// eslint-disable-next-line no-control-regex
const FILE_NAME = /^[^/\\\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]+$/u;
const MIME = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$/;
const ATTACHMENT_KEYS = ['type', 'url', 'mime', 'size', 'name', 'width', 'height', 'durationMs', 'thumbUrl'];

/** An https URL of at most 2048 characters naming a public host: no credentials, no IP literal, no single-label or local name. */
function isAttachmentUrl(v: unknown): boolean {
  if (typeof v !== 'string' || codePoints(v) > 2048 || !ATTACHMENT_URL.test(v)) return false;
  try {
    const url = new URL(v);
    const host = url.hostname.toLowerCase();
    if (url.protocol !== 'https:' || !host || url.username || url.password) return false;
    if (host.startsWith('[') || /^[0-9.]+$/.test(host) || !host.includes('.')) return false;
    return !(host === 'localhost' || ['.localhost', '.local', '.internal'].some((s) => host.endsWith(s)));
  } catch {
    return false;
  }
}

/** One attachment as docs/protocol.md "Attachments" describes it. */
export function isValidAttachment(a: unknown): boolean {
  if (!isPlainObject(a)) return false;
  if (Object.keys(a).some((k) => !ATTACHMENT_KEYS.includes(k))) return false;
  if (!['type', 'url', 'mime', 'size', 'name'].every((k) => Object.prototype.hasOwnProperty.call(a, k))) return false;
  const int = (x: unknown, min: number, max: number) => typeof x === 'number' && Number.isInteger(x) && x >= min && x <= max;
  const { type, url, mime, size, name, width, height, durationMs, thumbUrl } = a as Record<string, unknown>;
  if (typeof type !== 'string' || !['image', 'video', 'audio', 'file'].includes(type)) return false;
  if (!isAttachmentUrl(url) || (thumbUrl !== undefined && !isAttachmentUrl(thumbUrl))) return false;
  if (typeof mime !== 'string' || codePoints(mime) > 255 || !MIME.test(mime)) return false;
  const lower = mime.toLowerCase();
  if (type !== 'file' && !lower.startsWith(`${type}/`)) return false;
  if (type === 'image' && lower === 'image/svg+xml') return false;
  if (!int(size, 0, Number.MAX_SAFE_INTEGER)) return false;
  if (typeof name !== 'string' || codePoints(name) < 1 || codePoints(name) > 255 || !FILE_NAME.test(name)) return false;
  const visual = type === 'image' || type === 'video';
  for (const d of [width, height]) if (d !== undefined && (!visual || !int(d, 1, 100_000))) return false;
  if (durationMs !== undefined && ((type !== 'video' && type !== 'audio') || !int(durationMs, 0, 7 * 24 * 3600 * 1000))) return false;
  return true;
}

/** Judges a payload for an event from the contract alone. */
export function judge(event: string, payload: unknown): Verdict {
  const spec = EVENTS[event];
  if (!spec) return 'invalid';
  const verdict = judgeSpec(spec, payload);
  if (verdict !== 'invalid' && (event === 'message:history' || event === 'thread:history') && isPlainObject(payload) && 'beforeSeq' in payload && 'afterSeq' in payload) return 'invalid';
  // Threads: alsoInRoom only with threadOf.
  if (verdict !== 'invalid' && event === 'message:send' && isPlainObject(payload) && 'alsoInRoom' in payload && !('threadOf' in payload)) return 'invalid';
  return verdict;
}

/** Judges a payload (or REST body) against a spec. */
export function judgeSpec(spec: EventSpec, payload: unknown): Verdict {
  // A missing payload is treated as {} (docs/protocol.md).
  const p = payload === undefined ? {} : payload;
  if (!isPlainObject(p)) return 'invalid';
  let verdict: Verdict = 'valid';
  for (const key of Object.keys(p)) if (!(key in spec.fields) || !Object.prototype.hasOwnProperty.call(spec.fields, key)) return 'invalid';
  for (const r of spec.required) if (!Object.prototype.hasOwnProperty.call(p, r)) return 'invalid';
  if (Object.keys(p).length < (spec.minFields ?? 0)) return 'invalid';
  if (spec.needsContent && !('text' in p) && !(Array.isArray(p.attachments) && p.attachments.length > 0)) return 'invalid';
  for (const [key, value] of Object.entries(p)) {
    const r = checkField(spec.fields[key], value);
    if (r === 'invalid') return 'invalid';
    if (r === 'unsure') verdict = 'unsure';
  }
  return verdict;
}

// ------------------------------------------------------------------ payloads

/**
 * Hostile variants of a valid payload: one field replaced, a required field removed, an
 * extra or evil key added, operators nested where a value belongs, or the whole payload
 * replaced by something that is not an object.
 */
export function mutations(base: Record<string, unknown>, spec: EventSpec): fc.Arbitrary<unknown> {
  const fields = Object.keys(spec.fields);
  const variants: Array<fc.Arbitrary<unknown>> = [
    fc.tuple(fc.constantFrom(...EVIL_KEYS, 'extra', 'roomid', 'RoomId', 'text '), hostileValue).map(([k, v]) => ownKeys([...Object.entries(base), [k, v]])),
    hostileValue,
    fc.constantFrom<unknown>(null, 'string', 42, true, [], [base], '', 0),
  ];
  // Events without fields (user:list_blocks) get only the mutations above.
  if (fields.length > 0) {
    variants.push(
      fc.tuple(fc.constantFrom(...fields), hostileValue).map(([f, v]) => ownKeys([...Object.entries(base).filter(([k]) => k !== f), [f, v]])),
      fc.tuple(fc.constantFrom(...fields), fc.constantFrom(...OPERATORS)).map(([f, op]) => ownKeys([...Object.entries(base).filter(([k]) => k !== f), [f, ownKeys([[op, base[f] ?? '']])]])),
    );
  }
  if (spec.required.length > 0) {
    variants.push(fc.constantFrom(...spec.required).map((r) => ownKeys(Object.entries(base).filter(([k]) => k !== r))));
  }
  // Attachments (extension): one field of one attachment made hostile, or a hostile URL or name.
  const withAttachments = Object.entries(spec.fields).find(([, f]) => f.t === 'attachments');
  if (withAttachments && Array.isArray(base[withAttachments[0]]) && (base[withAttachments[0]] as unknown[]).length > 0) {
    const key = withAttachments[0];
    const first = (base[key] as Record<string, unknown>[])[0];
    variants.push(
      fc
        .tuple(fc.constantFrom(...ATTACHMENT_KEYS, 'extra', '__proto__'), fc.oneof(hostileValue, hostileUrl, fc.string({ maxLength: 300 })))
        .map(([f, v]) => ownKeys([...Object.entries(base).filter(([k]) => k !== key), [key, [ownKeys([...Object.entries(first).filter(([k]) => k !== f), [f, v]])]]])),
      fc.integer({ min: 11, max: 14 }).map((n) => ownKeys([...Object.entries(base).filter(([k]) => k !== key), [key, Array.from({ length: n }, () => first)]])),
    );
  }
  return fc.oneof(...variants);
}

/** Encoded size of a payload in UTF-8 bytes (binary attachments travel as separate frames). */
export function jsonSize(v: unknown): number {
  try {
    const text = JSON.stringify(v, (_k, x) => (Buffer.isBuffer(x) || (x && typeof x === 'object' && (x as { type?: string }).type === 'Buffer') ? null : x));
    return text === undefined ? 0 : Buffer.byteLength(text);
  } catch {
    return Infinity;
  }
}

/** Event names that do not exist (and odd ones a client may still send). */
export const unknownEvent: fc.Arbitrary<string> = fc.oneof(
  fc.string({ minLength: 1, maxLength: 40 }),
  fc.constantFrom('message:sendx', 'room:destroy', 'admin:grant', 'message:send ', 'MESSAGE:SEND', '__proto__', 'constructor', 'hasOwnProperty', 'toString', 'error', 'connection', 'message', '$where'),
);

/**
 * What the server receives for a payload emitted by socket.io-client: JSON semantics, and
 * for payloads with binary attachments the client's own rebuild of objects (by assignment,
 * so a `__proto__` key does not survive it). The oracle judges this, not the original.
 */
export function clientView(v: unknown): unknown {
  // Iterative: generated values nest thousands of levels deep.
  const hasBinary = (root: unknown): boolean => {
    const stack = [root];
    while (stack.length > 0) {
      const x = stack.pop();
      if (x === null || typeof x !== 'object') continue;
      if (Buffer.isBuffer(x) || x instanceof Uint8Array) return true;
      for (const k of Object.keys(x)) stack.push((x as Record<string, unknown>)[k]);
    }
    return false;
  };
  if (!hasBinary(v)) return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
  const rebuild = (x: unknown): unknown => {
    if (Buffer.isBuffer(x) || x instanceof Uint8Array) return Buffer.from(x);
    if (Array.isArray(x)) return x.map(rebuild);
    if (x && typeof x === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(x)) out[k] = rebuild((x as Record<string, unknown>)[k]);
      return out;
    }
    return typeof x === 'number' && !Number.isFinite(x) ? null : x;
  };
  return rebuild(v);
}

/** A short, safe description of a generated value (deep values would overflow a full print). */
export function describe(v: unknown, max = 160): string {
  let text: string;
  try {
    text = JSON.stringify(v, (_k, x) => (Buffer.isBuffer(x) ? `<${x.length} bytes>` : x)) ?? String(v);
  } catch {
    text = `<${Array.isArray(v) ? 'array' : typeof v} too deep to print>`;
  }
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}

/** Wraps generated values so that fast-check reports them by `describe` (its own printer recurses). */
export function printable<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<{ value: T }> {
  return arb.map((value) => ({ value, [fc.toStringMethod]: () => describe(value) }));
}

/**
 * Everything a request could have written, sorted by `_id` (users without lastSeenAt, which
 * connecting moves): the fuzz suites compare it before and after a refused request.
 */
export async function storedSnapshot(t: TestApp): Promise<Record<string, unknown>> {
  const db = t.app.deps.db;
  // Checkpoints of earlier accepted sends land now, not between two snapshots.
  await t.app.chat.counters.settle();
  const all = async (name: string) =>
    (await db.collection(name).find({}).toArray())
      .map((d) => (name === 'users' ? { ...d, lastSeenAt: undefined } : d))
      .sort((a, b) => String(a._id).localeCompare(String(b._id)));
  return {
    users: await all('users'),
    rooms: await all('rooms'),
    memberships: await all('memberships'),
    access: await all('room_access'),
    messages: await all('messages'),
    threads: await all('threads'),
    blocks: await all('user_blocks'),
    // Moderation: the audit log, its counters, flags and their queues.
    moderation: await Promise.all(['moderation_audit', 'moderation_counters', 'moderation_flags', 'moderation_flag_queues'].map(all)),
  };
}
