import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TS_SCHEMAS } from '../../schemas/index.js';

export const SCHEMA_DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));

export interface JsonSchema {
  $id: string;
  [k: string]: unknown;
}

let cache: JsonSchema[] | null = null;

/**
 * Every JSON Schema in schemas/ (each with an $id), by $id: the `*.json` answers and the
 * TypeScript request schemas (schemas/index.ts). The one source for validation and OpenAPI.
 */
export function loadSchemas(): JsonSchema[] {
  if (!cache) {
    const json = readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.json'));
    // In file-name order, as openapi.yaml lists them. Copies of the TypeScript ones: whatever
    // annotates a schema it is given cannot change the modules' constants.
    cache = [...json, ...Object.keys(TS_SCHEMAS)]
      .sort()
      .flatMap((f) => (f.endsWith('.json') ? [JSON.parse(readFileSync(`${SCHEMA_DIR}/${f}`, 'utf8')) as JsonSchema] : TS_SCHEMAS[f].map((s) => structuredClone(s) as JsonSchema)));
  }
  return cache;
}

/** A `$ref` to a shared schema by its $id. */
export const ref = (id: string) => ({ $ref: `${id}#` });

/** A problem response as the error handler sends it: `application/problem+json`, not JSON. */
export const problemResponse = () => ({
  description: 'Problem details (RFC 9457)',
  content: { 'application/problem+json': { schema: ref('Problem') } },
});

/** Standard problem responses, for route response maps. */
export const problems = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, problemResponse()]));
