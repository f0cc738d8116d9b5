// Building blocks for the event and body schemas, with the contract's bounds.
/**
 * No lone UTF-16 surrogates in stored strings: they cannot be encoded as UTF-8, so the
 * database would keep U+FFFD and history would differ from what the ack said.
 */
const WELL_FORMED = '^[^\\ud800-\\udfff]*$';
export const id = { type: 'string', minLength: 1, maxLength: 128 } as const;
export const name = { type: 'string', minLength: 1, maxLength: 100, pattern: WELL_FORMED } as const;
export const text = { type: 'string', minLength: 1, maxLength: 4000, pattern: WELL_FORMED } as const;
export const clientMsgId = { type: 'string', minLength: 1, maxLength: 64, pattern: WELL_FORMED } as const;
export const seq = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
export const limit = { type: 'integer', minimum: 1, maximum: 100 } as const;
export const cursor = { type: 'string', minLength: 1, maxLength: 512 } as const;
/** An emoji is a field name in storage: no dots, no leading `$`, no control characters. */
export const emoji = { type: 'string', minLength: 1, maxLength: 32, pattern: '^(?!\\$)[^.\\u0000-\\u001f\\ud800-\\udfff]+$' } as const;
export const username = { type: 'string', minLength: 3, maxLength: 32, pattern: '^[a-zA-Z0-9_.-]+$' } as const;
export const password = { type: 'string', minLength: 8, maxLength: 128, pattern: WELL_FORMED } as const;

/** A closed object: every listed property typed, nothing else allowed. */
export function object(properties: Record<string, object>, required: string[] = []) {
  return { type: 'object', properties, required, additionalProperties: false } as const;
}
