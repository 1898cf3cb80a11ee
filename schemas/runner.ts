import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { ProjectName, RunnerName } from './shared.js';

/** The body of `POST /v1/runners/lease`. */
export const LeaseIn = {
  "$id": "LeaseIn",
  "type": "object",
  "additionalProperties": false,
  "required": ["runner"],
  "properties": {
    "runner": { "$ref": "RunnerName#" },
    "labels": { "type": "object", "maxProperties": 32, "additionalProperties": { "type": "string", "maxLength": 128 } },
    "projects": {
      "type": "array",
      "maxItems": 100,
      "items": { "$ref": "ProjectName#" },
      "description": "lease only these projects' jobs (within the token's scope); default every project the token reaches"
    },
    "maxJobs": { "type": "integer", "minimum": 1, "maximum": 64, "default": 1 },
    "wait": { "type": "number", "minimum": 0, "maximum": 300, "default": 0 }
  }
} as const satisfies JSONSchema;

/** LeaseIn as the route handler sees it (after validation: defaults filled in). */
export type LeaseIn = FromSchema<typeof LeaseIn, { references: [typeof ProjectName, typeof RunnerName] }>;
