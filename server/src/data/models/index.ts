// Mongoose schemas and their indexes. Ids are strings we generate (ObjectId hex, or
// deterministic keys such as `${roomId}:${userId}`), so a unique pair is just a unique _id:
// the one uniqueness every MongoDB-compatible server enforces atomically.
import { Schema, type Connection, type Model } from 'mongoose';
import type { AttachmentDto, Role, RoomType } from '../../contracts/dto';
import { defineModerationModels, type ModerationModels } from './moderation';

export type { AuditAction, AuditEntryDoc, FlagDoc, FlagQueueDoc, FlagReport, ModerationCounterDoc } from './moderation';

export interface UserDoc {
  _id: string;
  username: string;
  /** Lower-cased username: uniqueness is case-insensitive. */
  usernameKey: string;
  displayName: string;
  passwordHash: string;
  createdAt: Date;
  lastSeenAt: Date | null;
  /** Profile (extension); absent or null when not set. */
  avatarUrl?: string | null;
  statusText?: string | null;
}

export interface RoomDoc {
  _id: string;
  type: RoomType;
  name: string;
  createdBy: string;
  createdAt: Date;
  /** Highest stored seq as of the last checkpoint (exact values: data/room-counters.ts). */
  lastSeq: number;
  memberCount: number;
  /** Sort key of room:list: creation, then every new message (checkpointed like lastSeq). */
  lastActivityAt: Date;
  /** userId -> highest seq that user sent, as of the last checkpoint: the read mark sending makes. */
  senderMarks?: Record<string, number>;
  retentionDays: number | null;
  /** Slow mode (moderation): seconds between two messages of one member; absent or 0 = off. */
  slowModeSeconds?: number;
}

export interface MembershipDoc {
  /** `${roomId}:${userId}`. */
  _id: string;
  roomId: string;
  userId: string;
  role: Role;
  joinedAt: Date;
  lastReadSeq: number;
  /**
   * Extension (mentions): seqs of messages that mention this member, pruned up to the read
   * position by message:read; unread mentions = those above the effective read position.
   */
  mentionSeqs?: number[];
  /** Muted (moderation) until then; absent, null or past = not muted (no TTL index: read as absent). */
  mutedUntil?: Date | null;
  /** Extension (delivery receipts): highest seq delivered to the member, as of the last checkpoint (data/delivery-marks.ts). */
  lastDeliveredSeq?: number;
}

/**
 * The rooms one user is a member of, so that connect and room:list read one document by
 * `_id` instead of querying memberships by user (a scan on the embedded database). An
 * index of the memberships, never the authority: see domain/rooms/user-rooms.ts for the
 * write order that keeps it from listing a room the user is not a member of.
 */
export interface UserRoomsDoc {
  /** The user id. */
  _id: string;
  roomIds: string[];
}

/**
 * Who a user blocks and who blocks the user (domain/users/blocks.ts): one `_id` read answers
 * both, so the send path's check is a cache hit or one lookup. `blockedBy` is the reverse
 * index of the other users' `blocked` lists, written first (see blocks.ts for the order).
 */
export interface UserBlocksDoc {
  /** The user id. */
  _id: string;
  blocked: string[];
  blockedBy: string[];
}

/**
 * Usernames by their first three lower-cased characters (the shortest search prefix), for
 * prefix search on the embedded database, where a range over `usernameKey` scans every user:
 * a search reads one bucket by `_id`. Kept only where the database needs it (FerretDB); an
 * index of the users, never the authority (an entry whose user is missing is skipped).
 */
export interface UsernameBucketDoc {
  /** The first three characters of the usernames in it, lower-cased. */
  _id: string;
  /** `k`: the lower-cased username, `id`: the user id. */
  entries: Array<{ k: string; id: string }>;
}

/** One-off data migrations already applied to this database (see user-rooms.repository). */
export interface MigrationDoc {
  _id: string;
  at: Date;
}

/** Invitations to private rooms and bans after a kick: one record per (room, user). */
export interface RoomAccessDoc {
  _id: string;
  roomId: string;
  userId: string;
  kind: 'invited' | 'banned';
  by: string;
  at: Date;
  /** A ban's expiry (moderation): absent or null = until lifted; past = lifted (read as absent). */
  until?: Date | null;
  reason?: string | null;
}

export interface MessageDoc {
  /** `${roomId}:${seq}` (see messages.repository). */
  _id: string;
  roomId: string;
  seq: number;
  senderId: string;
  clientMsgId: string;
  /** Hash of (senderId, clientMsgId), unique: the idempotency key. */
  idemKey: string;
  text: string;
  replyTo: string | null;
  createdAt: Date;
  editedAt: Date | null;
  deletedAt: Date | null;
  reactions: Record<string, string[]>;
  /** Extension (attachments): metadata only, absent when none (and after a delete). */
  attachments?: AttachmentDto[];
  /**
   * Bumped by every edit, delete and reaction (absent = 0, as stored by a send): lets a node's
   * history cache order updates that reach it out of order (domain/messages/history-cache.ts).
   */
  v?: number;
  /** Extension (mentions): ids of the members `@username` named at send time; absent when none. */
  mentions?: string[];
  /** Extension (threads): the parent's id when this message is a thread reply. */
  threadOf?: string;
  /** Extension (threads): a thread reply also shown in the room's timeline. */
  alsoInRoom?: boolean;
  /** Extension (threads): on a parent, the summary of its thread (domain/messages/threads.ts). */
  thread?: ThreadSummary;
}

export interface ThreadSummary {
  replyCount: number;
  lastReplyAt: Date;
  participants: string[];
}

/**
 * Extension (threads): the index of one thread, `_id` = the parent message's id, so a thread
 * page is one `_id` read and `_id` lookups of its replies (no query over the messages).
 */
export interface ThreadDoc {
  _id: string;
  roomId: string;
  /** Room seqs of the replies, ascending. */
  seqs: number[];
  /** The parent's author, every replier and every member mentioned in the thread. */
  participants: string[];
  lastReplyAt: Date;
}

const userSchema = new Schema<UserDoc>(
  {
    _id: { type: String, required: true },
    username: { type: String, required: true },
    usernameKey: { type: String, required: true },
    displayName: { type: String, required: true },
    passwordHash: { type: String, required: true },
    createdAt: { type: Date, required: true },
    lastSeenAt: { type: Date, default: null },
    avatarUrl: { type: String },
    statusText: { type: String },
  },
  { versionKey: false, collection: 'users' },
);
userSchema.index({ usernameKey: 1 }, { unique: true, name: 'username_unique' });

const roomSchema = new Schema<RoomDoc>(
  {
    _id: { type: String, required: true },
    type: { type: String, required: true },
    name: { type: String, required: true },
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
    lastSeq: { type: Number, required: true, default: 0 },
    memberCount: { type: Number, required: true, default: 0 },
    lastActivityAt: { type: Date, required: true },
    retentionDays: { type: Number, default: null },
    senderMarks: { type: Schema.Types.Mixed, default: undefined },
    slowModeSeconds: { type: Number },
  },
  { versionKey: false, collection: 'rooms' },
);
roomSchema.index({ lastActivityAt: -1, _id: -1 }, { name: 'activity' });
roomSchema.index({ retentionDays: 1 }, { name: 'retention', sparse: true });

const membershipSchema = new Schema<MembershipDoc>(
  {
    _id: { type: String, required: true },
    roomId: { type: String, required: true },
    userId: { type: String, required: true },
    role: { type: String, required: true },
    joinedAt: { type: Date, required: true },
    lastReadSeq: { type: Number, required: true, default: 0 },
    mentionSeqs: { type: [Number], default: undefined },
    mutedUntil: { type: Date },
    lastDeliveredSeq: { type: Number },
  },
  { versionKey: false, collection: 'memberships' },
);
membershipSchema.index({ userId: 1, roomId: 1 }, { name: 'by_user' });
membershipSchema.index({ roomId: 1, joinedAt: 1, _id: 1 }, { name: 'by_room' });

const roomAccessSchema = new Schema<RoomAccessDoc>(
  {
    _id: { type: String, required: true },
    roomId: { type: String, required: true },
    userId: { type: String, required: true },
    kind: { type: String, required: true },
    by: { type: String, required: true },
    at: { type: Date, required: true },
    until: { type: Date },
    reason: { type: String },
  },
  { versionKey: false, collection: 'room_access' },
);

const userRoomsSchema = new Schema<UserRoomsDoc>(
  {
    _id: { type: String, required: true },
    roomIds: { type: [String], default: [] },
  },
  { versionKey: false, collection: 'user_rooms' },
);

const userBlocksSchema = new Schema<UserBlocksDoc>(
  {
    _id: { type: String, required: true },
    blocked: { type: [String], default: [] },
    blockedBy: { type: [String], default: [] },
  },
  { versionKey: false, collection: 'user_blocks' },
);

const usernameBucketSchema = new Schema<UsernameBucketDoc>(
  {
    _id: { type: String, required: true },
    entries: { type: [{ _id: false, k: { type: String, required: true }, id: { type: String, required: true } }], default: [] },
  },
  { versionKey: false, collection: 'username_buckets' },
);

const migrationSchema = new Schema<MigrationDoc>(
  {
    _id: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { versionKey: false, collection: 'migrations' },
);

const messageSchema = new Schema<MessageDoc>(
  {
    _id: { type: String, required: true },
    roomId: { type: String, required: true },
    seq: { type: Number, required: true },
    senderId: { type: String, required: true },
    clientMsgId: { type: String, required: true },
    idemKey: { type: String, required: true },
    text: { type: String, default: '' },
    replyTo: { type: String, default: null },
    createdAt: { type: Date, required: true },
    editedAt: { type: Date, default: null },
    deletedAt: { type: Date, default: null },
    reactions: { type: Schema.Types.Mixed, default: () => ({}) },
    attachments: { type: Schema.Types.Mixed, default: undefined },
    v: { type: Number },
    mentions: { type: [String], default: undefined },
    threadOf: { type: String },
    alsoInRoom: { type: Boolean },
    thread: { type: Schema.Types.Mixed, default: undefined },
  },
  { versionKey: false, collection: 'messages', minimize: false },
);

const threadSchema = new Schema<ThreadDoc>(
  {
    _id: { type: String, required: true },
    roomId: { type: String, required: true },
    seqs: { type: [Number], default: [] },
    participants: { type: [String], default: [] },
    lastReplyAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'threads' },
);
// The _id (`roomId:seq`) already makes the pair unique; this index serves range pages on MongoDB.
messageSchema.index({ roomId: 1, seq: 1 }, { unique: true, name: 'room_seq' });
messageSchema.index({ idemKey: 1 }, { unique: true, name: 'idempotency' });
messageSchema.index({ roomId: 1, createdAt: 1 }, { name: 'retention' });

export interface Models extends ModerationModels {
  User: Model<UserDoc>;
  Room: Model<RoomDoc>;
  Membership: Model<MembershipDoc>;
  RoomAccess: Model<RoomAccessDoc>;
  Message: Model<MessageDoc>;
  UserRooms: Model<UserRoomsDoc>;
  Migration: Model<MigrationDoc>;
  UsernameBuckets: Model<UsernameBucketDoc>;
  Thread: Model<ThreadDoc>;
  UserBlocks: Model<UserBlocksDoc>;
}

/** Registers the models on a connection (not the mongoose global). */
export function defineModels(conn: Connection): Models {
  return {
    User: conn.model<UserDoc>('User', userSchema),
    Room: conn.model<RoomDoc>('Room', roomSchema),
    Membership: conn.model<MembershipDoc>('Membership', membershipSchema),
    RoomAccess: conn.model<RoomAccessDoc>('RoomAccess', roomAccessSchema),
    Message: conn.model<MessageDoc>('Message', messageSchema),
    UserRooms: conn.model<UserRoomsDoc>('UserRooms', userRoomsSchema),
    Migration: conn.model<MigrationDoc>('Migration', migrationSchema),
    UsernameBuckets: conn.model<UsernameBucketDoc>('UsernameBuckets', usernameBucketSchema),
    Thread: conn.model<ThreadDoc>('Thread', threadSchema),
    UserBlocks: conn.model<UserBlocksDoc>('UserBlocks', userBlocksSchema),
    ...defineModerationModels(conn),
  };
}

/** Creates the declared indexes at start (idempotent). */
export async function ensureIndexes(models: Models): Promise<void> {
  for (const model of Object.values(models) as Model<unknown>[]) {
    await model.createCollection().catch(() => undefined);
    await model.createIndexes();
  }
}
