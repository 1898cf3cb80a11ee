import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { ExperimentKey } from './shared.js';

/** An experiment as a loop writes it (SPEC §15), one object of `POST /v1/projects/{p}/experiments`. */
export const ExperimentIn = {
  "$id": "ExperimentIn",
  "type": "object",
  "additionalProperties": false,
  "required": ["key", "status"],
  "properties": {
    "key": { "$ref": "ExperimentKey#" },
    "status": { "type": "string", "enum": ["keep", "discard", "crash", "unknown"] },
    "value": { "type": ["number", "null"] },
    "baseline": { "type": ["number", "null"] },
    "replicates": { "type": "array", "maxItems": 1000, "items": { "type": "number" } },
    "premises": { "type": "array", "maxItems": 64, "items": { "$ref": "ExperimentKey#" } },
    "code": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "diff": { "type": "string", "maxLength": 2000000 },
        "paths": {
          "type": "array",
          "maxItems": 10000,
          "items": {
            "type": "object",
            "additionalProperties": false,
            "required": ["path"],
            "properties": {
              "path": { "type": "string", "minLength": 1, "maxLength": 1024 },
              "added": { "type": "integer", "minimum": 0, "maximum": 2147483647 },
              "removed": { "type": "integer", "minimum": 0, "maximum": 2147483647 },
              "binary": { "type": "boolean" }
            }
          }
        }
      }
    },
    "description": { "type": "string", "maxLength": 10000 },
    "hypothesis": { "type": "string", "maxLength": 10000 },
    "resources": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "memoryGb": { "type": "number", "minimum": 0 },
        "runtimeS": { "type": "number", "minimum": 0 }
      }
    },
    "metadata": { "type": "object", "additionalProperties": true, "maxProperties": 200 }
  }
} as const satisfies JSONSchema;

/** ExperimentIn as the route handler sees it (after validation: defaults filled in). */
export type ExperimentIn = FromSchema<typeof ExperimentIn, { references: [typeof ExperimentKey] }>;
