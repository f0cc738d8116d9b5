// The ack envelope every request event answers with.
import type { ErrorBody } from '../errors';

export type AckResponse<T = unknown> = { ok: true; data: T } | { ok: false; error: ErrorBody };
export type AckCallback<T = unknown> = (response: AckResponse<T>) => void;
