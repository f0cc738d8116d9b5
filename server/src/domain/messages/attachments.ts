// Attachments (extension; issue 14): the checks a schema cannot make, and the interface the
// upload of the bytes will plug into. The server stores metadata only and never fetches a URL;
// clients do (to show a picture), so a URL that points into someone's own network or carries
// credentials is refused here, for every transport.
import type { AttachmentDto, AttachmentType } from '../../contracts/dto';
import { errors } from '../../errors';

/** The MIME top-level type each attachment type must have (`file` takes any). */
const MIME_OF: Record<AttachmentType, string | null> = { image: 'image/', video: 'video/', audio: 'audio/', file: null };
/** SVG is a document that may script: sent as `file`, never shown inline as `image`. */
const NOT_INLINE = new Set(['image/svg+xml']);

type Problem = { path: string; message: string };

/** Why `value` is not an acceptable https URL, or null. */
function urlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an https URL';
  }
  if (url.protocol !== 'https:' || !url.hostname) return 'must be an https URL';
  if (url.username || url.password) return 'must not contain credentials';
  const host = url.hostname.toLowerCase();
  // An IP literal or a single-label name ("localhost", "intranet") points at a network of the
  // reader's, not at object storage or a CDN, which always have a public DNS name. (The URL
  // parser already turned numeric hosts such as 0x7f.1 or 2130706433 into dotted IPv4.)
  if (host.startsWith('[') || /^[0-9.]+$/.test(host)) return 'must name a host, not an IP address';
  if (!host.includes('.') || host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || host.endsWith('.internal')) {
    return 'must name a public host';
  }
  return null;
}

/**
 * The attachments of a send, checked beyond their schema (URLs parsed; dimensions only on
 * images and videos, duration only on videos and audio; the MIME type fits the type). Throws
 * VALIDATION_FAILED listing every problem; resolves the list to store (fields in a fixed order).
 */
export function checkAttachments(list: readonly AttachmentDto[]): AttachmentDto[] {
  const problems: Problem[] = [];
  const out = list.map((a, i) => {
    const at = (field: string, message: string) => problems.push({ path: `/attachments/${i}/${field}`, message });
    for (const field of ['url', 'thumbUrl'] as const) {
      const value = a[field];
      const problem = value === undefined ? null : urlProblem(value);
      if (problem) at(field, problem);
    }
    const top = MIME_OF[a.type];
    const mime = a.mime.toLowerCase();
    if (top && !mime.startsWith(top)) at('mime', `must be ${top}* for type ${a.type}`);
    if (a.type === 'image' && NOT_INLINE.has(mime)) at('mime', `${mime} is sent as type file`);
    const visual = a.type === 'image' || a.type === 'video';
    if (!visual && a.width !== undefined) at('width', 'only images and videos have a width');
    if (!visual && a.height !== undefined) at('height', 'only images and videos have a height');
    if (a.type !== 'video' && a.type !== 'audio' && a.durationMs !== undefined) at('durationMs', 'only videos and audio have a duration');
    const stored: AttachmentDto = { type: a.type, url: a.url, mime: a.mime, size: a.size, name: a.name };
    if (a.width !== undefined) stored.width = a.width;
    if (a.height !== undefined) stored.height = a.height;
    if (a.durationMs !== undefined) stored.durationMs = a.durationMs;
    if (a.thumbUrl !== undefined) stored.thumbUrl = a.thumbUrl;
    return stored;
  });
  if (problems.length > 0) throw errors.validation(problems, 'invalid attachments');
  return out;
}

/**
 * Where the bytes will go (not built: storage is out of scope of issue 14). The intended flow,
 * described in docs/protocol.md "Attachments": the client asks for an upload slot, PUTs the
 * bytes straight to object storage with the pre-signed URL (the API never carries them), then
 * sends the message with the slot's public `url`. An implementation (S3, GCS) goes in data/
 * and is handed to a route `POST /api/v1/uploads`; `isStored` lets the send refuse URLs that
 * are not its own once every attachment must come from there.
 */
export interface AttachmentUploads {
  /** A pre-signed PUT for one file of this user, valid for a short time. */
  createUpload(userId: string, file: { name: string; mime: string; size: number }): Promise<{
    /** Where the client PUTs the bytes (pre-signed, expires at `expiresAt`). */
    uploadUrl: string;
    /** Headers the PUT must carry (content type and length are part of the signature). */
    headers: Record<string, string>;
    /** What the client then puts in the attachment's `url`. */
    url: string;
    expiresAt: string;
  }>;
  /** True when `url` names an object this storage holds (uploaded and not expired). */
  isStored(url: string): Promise<boolean>;
}
