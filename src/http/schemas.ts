import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SCHEMA_DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));

export interface JsonSchema {
  $id: string;
  [k: string]: unknown;
}

let cache: JsonSchema[] | null = null;

/** Every JSON Schema in schemas/ (each with an $id); the one source for validation and OpenAPI. */
export function loadSchemas(): JsonSchema[] {
  if (!cache) {
    cache = readdirSync(SCHEMA_DIR)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => JSON.parse(readFileSync(`${SCHEMA_DIR}/${f}`, 'utf8')) as JsonSchema);
  }
  return cache;
}

/** Largest value of a PostgreSQL `integer` column: the bound of integer query parameters that reach one. */
export const MAX_INT32 = 2_147_483_647;

/** A `$ref` to a shared schema by its $id. */
export const ref = (id: string) => ({ $ref: `${id}#` });

/** A problem response as the error handler sends it: `application/problem+json`, not JSON. */
export const problemResponse = () => ({
  description: 'Problem details (RFC 9457)',
  content: { 'application/problem+json': { schema: ref('Problem') } },
});

/** Standard problem responses, for route response maps. */
export const problems = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, problemResponse()]));
