import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { ExperimentKey } from './shared.js';

/** The body of `POST /v1/projects/{p}/gate`. */
export const GateIn = {
  "$id": "GateIn",
  "type": "object",
  "additionalProperties": false,
  "required": ["experiment"],
  "properties": {
    "experiment": { "$ref": "ExperimentKey#" },
    "threshold": { "type": "number", "minimum": 0, "maximum": 1 },
    "wait": { "type": "number", "minimum": 0, "maximum": 3600, "description": "seconds to long-poll for scheduled reproductions" }
  }
} as const satisfies JSONSchema;

/** GateIn as the route handler sees it (after validation: defaults filled in). */
export type GateIn = FromSchema<typeof GateIn, { references: [typeof ExperimentKey] }>;
