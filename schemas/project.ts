import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { ProjectName } from './shared.js';

/** A project's config (ecv.json), as `POST`/`PUT /v1/projects` take it. */
export const ProjectIn = {
  "$id": "ProjectIn",
  "type": "object",
  "additionalProperties": false,
  "required": ["name", "metric"],
  "properties": {
    "name": { "$ref": "ProjectName#" },
    "metric": {
      "type": "object",
      "additionalProperties": false,
      "required": ["name", "direction"],
      "properties": {
        "name": { "type": "string", "minLength": 1, "maxLength": 128 },
        "direction": { "type": "string", "enum": ["minimize", "maximize"] }
      }
    },
    "threshold": { "type": "number", "minimum": 0, "maximum": 1 },
    "weights": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "reproduction": { "type": "number", "minimum": 0, "maximum": 1 },
        "statistics": { "type": "number", "minimum": 0, "maximum": 1 },
        "effect": { "type": "number", "minimum": 0, "maximum": 1 },
        "code": { "type": "number", "minimum": 0, "maximum": 1 }
      }
    },
    "sigma0": { "type": "number", "exclusiveMinimum": 0 },
    "nu0": { "type": "number", "minimum": 0, "maximum": 1000000 },
    "minEffect": { "type": "number", "minimum": 0 },
    "anchorMin": { "type": "number", "minimum": 0, "maximum": 1 },
    "sMin": { "type": "number", "minimum": 0, "maximum": 1, "description": "Posterior S an accept needs (default 0.92)" },
    "sReject": { "type": "number", "minimum": 0, "maximum": 1, "description": "S at or below which the gate rejects (default 0.25)" },
    "barMargin": { "type": "number", "minimum": 0, "maximum": 100, "description": "The bar's margin above the head's level, in noise SDs (default 1.5)" },
    "protectedPaths": { "type": "array", "maxItems": 200, "items": { "type": "string", "minLength": 1, "maxLength": 512 } },
    "reproduction": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "command": { "type": "string", "maxLength": 4096 },
        "metricPattern": { "type": "string", "minLength": 1, "maxLength": 512 },
        "replicates": { "type": "integer", "minimum": 1, "maximum": 100 },
        "rounds": { "type": "integer", "minimum": 1, "maximum": 10 },
        "maxReproductions": { "type": "integer", "minimum": 1, "maximum": 1000, "description": "Reproductions one gate decision may schedule (default 8)" },
        "timeBudgetS": { "type": "integer", "minimum": 1, "maximum": 604800 },
        "gpuMinutesPerDay": { "type": "number", "minimum": 0 }
      }
    }
  }
} as const satisfies JSONSchema;

/** ProjectIn as the route handler sees it (after validation: defaults filled in). */
export type ProjectIn = FromSchema<typeof ProjectIn, { references: [typeof ProjectName] }>;
