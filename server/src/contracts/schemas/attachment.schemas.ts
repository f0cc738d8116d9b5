// Attachments (extension; issue 14): metadata of files stored elsewhere, carried by a message.
// The schema bounds each field; domain/messages/attachments.ts then parses the URLs and
// checks the fields that depend on `type` (docs/protocol.md "Attachments").
import { object } from './common';

export const ATTACHMENT_LIMITS = { perMessage: 10, url: 2048, name: 255, mime: 255, dimension: 100_000, durationMs: 7 * 24 * 3600 * 1000 } as const;

/** https only; no white space, control characters, backslashes or lone surrogates. */
const httpsUrl = { type: 'string', minLength: 9, maxLength: ATTACHMENT_LIMITS.url, pattern: '^https://[^\\s\\\\\\u0000-\\u001f\\u007f-\\u009f\\ud800-\\udfff]+$' } as const;
/**
 * A file name shown to people: no control characters, line separators, bidirectional
 * overrides or isolates (they disguise extensions: "gpj.exe"), lone surrogates, and no path
 * separators (a client that saves it under that name must not leave its folder).
 */
const fileName = {
  type: 'string',
  minLength: 1,
  maxLength: ATTACHMENT_LIMITS.name,
  pattern: '^[^/\\\\\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069\\ud800-\\udfff]+$',
} as const;
/** type/subtype as RFC 6838 restricts their characters; no parameters. */
const mime = { type: 'string', minLength: 3, maxLength: ATTACHMENT_LIMITS.mime, pattern: "^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$" } as const;
const dimension = { type: 'integer', minimum: 1, maximum: ATTACHMENT_LIMITS.dimension } as const;

export const attachment = object(
  {
    type: { enum: ['image', 'video', 'audio', 'file'] },
    url: httpsUrl,
    mime,
    size: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    name: fileName,
    width: dimension,
    height: dimension,
    durationMs: { type: 'integer', minimum: 0, maximum: ATTACHMENT_LIMITS.durationMs },
    thumbUrl: httpsUrl,
  },
  ['type', 'url', 'mime', 'size', 'name'],
);

export const attachments = { type: 'array', maxItems: ATTACHMENT_LIMITS.perMessage, items: attachment } as const;

/**
 * A send carries text, attachments, or both: with the `required` of the object, `text` stays
 * required unless at least one attachment is given (a text-only send is validated as before).
 */
export const textOrAttachments = {
  anyOf: [
    { properties: { text: { type: 'string' } }, required: ['text'] },
    { properties: { attachments: { type: 'array', minItems: 1 } }, required: ['attachments'] },
  ],
} as const;
