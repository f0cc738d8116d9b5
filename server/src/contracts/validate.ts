// Schema compilation for every event and REST body: no coercion, no defaults,
// no extra properties; failures become VALIDATION_FAILED with the ajv details.
import Ajv, { type JSONSchemaType, type ErrorObject } from 'ajv';
import { errors } from '../errors';

const ajv = new Ajv({ allErrors: true, coerceTypes: false, useDefaults: false, strict: true, removeAdditional: false });

export interface ValidationProblem {
  path: string;
  message: string;
}

/** Returns the typed payload or throws VALIDATION_FAILED; `schema` feeds the OpenAPI document. */
export type Validator<T> = ((input: unknown) => T) & { readonly schema: Record<string, unknown> };

function problems(errs: ErrorObject[] | null | undefined): ValidationProblem[] {
  return (errs ?? []).slice(0, 20).map((e) => ({
    path: e.instancePath || '/',
    message:
      e.keyword === 'additionalProperties'
        ? `unknown property ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}`
        : (e.message ?? 'invalid'),
  }));
}

/** Compiles a schema once; the returned function returns the typed payload or throws VALIDATION_FAILED. */
export function compile<T>(schema: JSONSchemaType<T> | Record<string, unknown>): Validator<T> {
  const check = ajv.compile<T>(schema as JSONSchemaType<T>);
  const validate = (input: unknown): T => {
    if (check(input)) return input;
    throw errors.validation(problems(check.errors));
  };
  return Object.assign(validate, { schema: schema as Record<string, unknown> });
}
