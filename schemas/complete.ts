import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { RunnerName } from './shared.js';

/** A runner's report of a job outcome (`POST /v1/jobs/{id}/complete`). */
export const CompleteIn = {
  "$id": "CompleteIn",
  "type": "object",
  "additionalProperties": false,
  "required": ["runner", "seed"],
  "properties": {
    "runner": { "$ref": "RunnerName#" },
    "seed": { "type": "integer", "minimum": -2147483648, "maximum": 2147483647 },
    "value": { "type": ["number", "null"] },
    "error": { "type": "string", "maxLength": 4000 },
    "durationS": { "type": "number", "minimum": 0 },
    "logTail": { "type": "string", "maxLength": 65536 }
  }
} as const satisfies JSONSchema;

/** CompleteIn as the route handler sees it (after validation: defaults filled in). */
export type CompleteIn = FromSchema<typeof CompleteIn, { references: [typeof RunnerName] }>;
