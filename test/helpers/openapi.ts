// Checks real REST responses against the server's own OpenAPI document
// (GET /api/v1/openapi.json): each response body must match the schema the document
// gives for that method, path and status.
import Ajv2020 from 'ajv/dist/2020';
import { expect } from 'vitest';

type Doc = {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>>;
  components: { schemas: Record<string, object> };
};

/** `#/components/schemas/X` becomes `X`, a schema registered under that id. */
const localRefs = <T>(schema: T): T => JSON.parse(JSON.stringify(schema).replace(/"#\/components\/schemas\/([A-Za-z]+)"/g, '"$1"'));

export class OpenApiResponses {
  private readonly ajv = new Ajv2020({ allErrors: true, strict: true });
  /** "METHOD path status" of every response checked, for the coverage assertion. */
  readonly checked = new Set<string>();

  constructor(readonly doc: Doc) {
    this.ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    for (const [name, schema] of Object.entries(doc.components.schemas)) this.ajv.addSchema(localRefs(schema), name);
  }

  static async fetch(baseUrl: string): Promise<OpenApiResponses> {
    const res = await fetch(`${baseUrl}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    return new OpenApiResponses((await res.json()) as Doc);
  }

  /** Asserts that `body` is what the document promises for `method path` answering `status`. */
  expectResponse(method: string, path: string, status: number, body: unknown): void {
    const op = this.doc.paths[path]?.[method.toLowerCase()];
    expect(op, `${method} ${path} is documented`).toBeTruthy();
    const response = op!.responses[String(status)];
    expect(response, `${method} ${path} documents status ${status}`).toBeTruthy();
    const schema = response!.content?.['application/json']?.schema;
    expect(schema, `${method} ${path} ${status} has a JSON schema`).toBeTruthy();
    const validate = this.ajv.compile(localRefs(schema!));
    const valid = validate(body);
    expect(valid ? [] : validate.errors, `${method} ${path} ${status}: ${JSON.stringify(body).slice(0, 500)}`).toEqual([]);
    this.checked.add(`${method.toUpperCase()} ${path} ${status}`);
  }
}
