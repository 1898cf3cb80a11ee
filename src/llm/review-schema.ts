/**
 * The reviewer's structured-output contract: one JSON Schema, sent to the model as a strict
 * `json_schema` response format and used again here to check what comes back (a compatible
 * server may ignore `strict`, and a model may still answer off-schema).
 */
import { Ajv } from 'ajv';
import {
  REVIEW_CATEGORIES,
  REVIEW_RISKS,
  REVIEW_SEVERITIES,
  type CodeReview,
} from '../domain/scoring/index.js';

export const REVIEW_SCHEMA_NAME = 'ecv_code_review';

/** Strict structured outputs: every property required, no additional properties anywhere. */
export const REVIEW_JSON_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['findings', 'overallRisk', 'summary'],
  properties: {
    findings: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['category', 'severity', 'file', 'line', 'explanation'],
        properties: {
          category: { type: 'string', enum: [...REVIEW_CATEGORIES] },
          severity: { type: 'string', enum: [...REVIEW_SEVERITIES] },
          file: {
            type: 'string',
            description: 'Path as it appears in the diff; empty if not about one file.',
          },
          line: {
            type: ['integer', 'null'],
            description: 'Line number in the new version of the file, or null.',
          },
          explanation: {
            type: 'string',
            description: 'What the change does and why it matters for the measured result.',
          },
        },
      },
    },
    overallRisk: { type: 'string', enum: [...REVIEW_RISKS] },
    summary: { type: 'string', description: 'One or two sentences.' },
  },
} as const;

/** Findings kept from one answer; more is noise (or an attempt to flood the reasons). */
export const MAX_FINDINGS = 50;
const MAX_TEXT = 2000;

const ajv = new Ajv({ allErrors: true, strict: false });
const check = ajv.compile<CodeReview>(REVIEW_JSON_SCHEMA);

/**
 * Checks a parsed answer against the schema and normalizes it (findings capped, texts clipped,
 * non-positive lines made null). Returns the review, or the schema errors as one sentence.
 */
export function parseReview(
  value: unknown,
): { ok: true; review: CodeReview } | { ok: false; error: string } {
  if (!check(value)) {
    const errs = (check.errors ?? [])
      .slice(0, 5)
      .map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
    return { ok: false, error: errs.join('; ') || 'does not match the schema' };
  }
  const clip = (s: string) => (s.length > MAX_TEXT ? s.slice(0, MAX_TEXT) : s);
  return {
    ok: true,
    review: {
      findings: value.findings.slice(0, MAX_FINDINGS).map((f) => ({
        category: f.category,
        severity: f.severity,
        file: clip(f.file),
        line: f.line !== null && f.line >= 1 ? f.line : null,
        explanation: clip(f.explanation),
      })),
      overallRisk: value.overallRisk,
      summary: clip(value.summary),
    },
  };
}
