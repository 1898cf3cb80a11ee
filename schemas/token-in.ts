import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

/** The body of `POST /v1/tokens`. */
export const TokenIn = {
  "$id": "TokenIn",
  "type": "object",
  "additionalProperties": false,
  "required": ["role"],
  "description": "A new API token. Non-admin tokens are scoped to the named projects ('*' = every project); admin tokens reach everything and take no projects.",
  "properties": {
    "role": { "type": "string", "enum": ["admin", "loop", "runner", "reader"] },
    "projects": {
      "type": "array",
      "maxItems": 100,
      "items": { "type": "string", "pattern": "^([a-z0-9][a-z0-9._-]{0,62}|\\*)$" }
    },
    "label": { "type": "string", "minLength": 1, "maxLength": 200 }
  }
} as const satisfies JSONSchema;

/** TokenIn as the route handler sees it (after validation: defaults filled in). */
export type TokenIn = FromSchema<typeof TokenIn>;
