import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { ExperimentKey } from './shared.js';

/** Premise edges to add (`POST /v1/projects/{p}/edges`). */
export const EdgesIn = {
  "$id": "EdgesIn",
  "type": "object",
  "additionalProperties": false,
  "required": ["edges"],
  "properties": {
    "edges": {
      "type": "array",
      "minItems": 1,
      "maxItems": 10000,
      "items": {
        "type": "object",
        "additionalProperties": false,
        "required": ["from", "to"],
        "properties": {
          "from": { "$ref": "ExperimentKey#" },
          "to": { "$ref": "ExperimentKey#" }
        }
      }
    }
  }
} as const satisfies JSONSchema;

/** EdgesIn as the route handler sees it (after validation: defaults filled in). */
export type EdgesIn = FromSchema<typeof EdgesIn, { references: [typeof ExperimentKey] }>;
