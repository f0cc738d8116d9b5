// Room moderation's documents: the audit log (a per-room counter and entries keyed by it) and
// flags with each room's queue of open ones. Every read is by `_id` (the embedded database
// indexes nothing else), so the keys are built to be looked up, not queried.
import { Schema, type Connection, type Model } from 'mongoose';

export type AuditAction =
  | 'kick'
  | 'ban'
  | 'unban'
  | 'mute'
  | 'unmute'
  | 'role_change'
  | 'message_delete'
  | 'slow_mode'
  | 'flag_resolve';

/** One moderation action in a room's audit log. */
export interface AuditEntryDoc {
  /** `${roomId}:${seq padded to 12 digits}` (see moderation.repository). */
  _id: string;
  roomId: string;
  seq: number;
  actorId: string;
  action: AuditAction;
  targetUserId: string | null;
  messageId: string | null;
  reason: string | null;
  /** Action-specific values (a mute's or ban's `until`, a role, slow-mode seconds, a resolution). */
  details: Record<string, unknown>;
  at: Date;
}

/** A per-room counter (`_id` = `${name}:${roomId}`): the audit log's next seq. */
export interface ModerationCounterDoc {
  _id: string;
  seq: number;
}

export interface FlagReport {
  userId: string;
  reason: string;
  at: Date;
}

/** The reports on one message: one queue item however many members flag it. */
export interface FlagDoc {
  /** The flagged message's id (`${roomId}:${seq}`). */
  _id: string;
  roomId: string;
  messageSeq: number;
  senderId: string;
  status: 'open' | 'resolved';
  /** The first reports (capped; reportCount counts them all). */
  reports: FlagReport[];
  reportCount: number;
  firstAt: Date;
  lastAt: Date;
  resolution: { action: string; by: string; at: Date; note: string | null } | null;
}

/** A room's open flags, oldest first (`_id` = room id): the moderation queue is one read. */
export interface FlagQueueDoc {
  _id: string;
  open: string[];
}

const auditSchema = new Schema<AuditEntryDoc>(
  {
    _id: { type: String, required: true },
    roomId: { type: String, required: true },
    seq: { type: Number, required: true },
    actorId: { type: String, required: true },
    action: { type: String, required: true },
    targetUserId: { type: String, default: null },
    messageId: { type: String, default: null },
    reason: { type: String, default: null },
    details: { type: Schema.Types.Mixed, default: () => ({}) },
    at: { type: Date, required: true },
  },
  { versionKey: false, collection: 'moderation_audit', minimize: false },
);

const counterSchema = new Schema<ModerationCounterDoc>(
  { _id: { type: String, required: true }, seq: { type: Number, required: true, default: 0 } },
  { versionKey: false, collection: 'moderation_counters' },
);

const flagSchema = new Schema<FlagDoc>(
  {
    _id: { type: String, required: true },
    roomId: { type: String, required: true },
    messageSeq: { type: Number, required: true },
    senderId: { type: String, required: true },
    status: { type: String, required: true },
    reports: { type: [{ _id: false, userId: String, reason: String, at: Date }], default: [] },
    reportCount: { type: Number, required: true, default: 0 },
    firstAt: { type: Date, required: true },
    lastAt: { type: Date, required: true },
    resolution: { type: Schema.Types.Mixed, default: null },
  },
  { versionKey: false, collection: 'moderation_flags' },
);

const flagQueueSchema = new Schema<FlagQueueDoc>(
  { _id: { type: String, required: true }, open: { type: [String], default: [] } },
  { versionKey: false, collection: 'moderation_flag_queues' },
);

export interface ModerationModels {
  AuditEntry: Model<AuditEntryDoc>;
  ModerationCounter: Model<ModerationCounterDoc>;
  Flag: Model<FlagDoc>;
  FlagQueue: Model<FlagQueueDoc>;
}

export function defineModerationModels(conn: Connection): ModerationModels {
  return {
    AuditEntry: conn.model<AuditEntryDoc>('AuditEntry', auditSchema),
    ModerationCounter: conn.model<ModerationCounterDoc>('ModerationCounter', counterSchema),
    Flag: conn.model<FlagDoc>('Flag', flagSchema),
    FlagQueue: conn.model<FlagQueueDoc>('FlagQueue', flagQueueSchema),
  };
}
