import type { JSONSchema } from 'json-schema-to-ts';

/**
 * Names several schemas share, each written once. Bodies `$ref` the named schema (`{ "$ref":
 * "ExperimentKey#" }`); path and query parameters inline the same object without its `$id`
 * (an OpenAPI parameter documents its own schema), via `inline`.
 */

/** An experiment key: a commit hash or any URL-safe name up to 128 characters. */
export const ExperimentKey = { $id: 'ExperimentKey', type: 'string', pattern: '^[A-Za-z0-9._~:@/+-]{1,128}$' } as const satisfies JSONSchema;

/** A project name (SPEC §15). */
export const ProjectName = { $id: 'ProjectName', type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,62}$' } as const satisfies JSONSchema;

/** A runner's name, as it leases, heartbeats and completes jobs. */
export const RunnerName = { $id: 'RunnerName', type: 'string', pattern: '^[A-Za-z0-9._:@-]{1,128}$' } as const satisfies JSONSchema;

/** `schema` without its `$id`, to embed where a `$ref` cannot stand (path and query parameters). */
export function inline<S extends { $id: string }>(schema: S): Omit<S, '$id'> {
  const { $id: _id, ...rest } = schema;
  return rest;
}
