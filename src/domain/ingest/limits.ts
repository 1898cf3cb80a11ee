import type { IngestWarning, ParsedRow } from './results-tsv.js';

/**
 * The JSON API's bounds on an experiment (schemas/experiment-in.json), applied to rows read
 * from a results table so both paths store the same shapes: a table with a million extra
 * columns must not become one experiment with a million metadata keys.
 */
export const ROW_LIMITS = {
  /** `metadata.maxProperties`; also the most extra columns (or surplus fields) kept per row. */
  metadataEntries: 200,
  /** `description` and `hypothesis` `maxLength`; also the most of a row's text kept in `metadata.raw`. */
  text: 10_000,
} as const;

/** The first `max` UTF-16 units of `s`, not splitting a surrogate pair (a lone half cannot be stored). */
function cutText(s: string, max: number): string {
  const end = /[\uD800-\uDBFF]/.test(s.charAt(max - 1)) ? max - 1 : max;
  return s.slice(0, end);
}

/** The first `max` entries of an object, in insertion (header) order. */
function firstEntries(o: Record<string, unknown>, max: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const k in o) {
    if (n++ >= max) break;
    out[k] = o[k];
  }
  return out;
}

/**
 * Cuts what exceeds {@link ROW_LIMITS} from parsed rows, in place, with a `row_limit` warning
 * per row saying what was cut and recording the original sizes in metadata (`columnsTotal`,
 * `extraFieldsTotal`, `rawLength`, `descriptionLength`, `hypothesisLength`), so nothing
 * changes silently. Warnings are appended; under `strict` the caller rejects the file.
 * Deterministic per row, so re-ingesting the same file stays idempotent. True when it cut anything.
 */
export function applyRowLimits(rows: ParsedRow[], warnings: IngestWarning[]): boolean {
  let any = false;
  const { metadataEntries: maxEntries, text: maxText } = ROW_LIMITS;
  for (const row of rows) {
    const cut: string[] = [];
    const md = row.metadata;
    const columns = md?.columns as Record<string, unknown> | undefined;
    if (md && columns) {
      let total = 0;
      for (const _k in columns) if (++total > maxEntries) break;
      if (total > maxEntries) {
        const all = Object.keys(columns).length;
        md.columns = firstEntries(columns, maxEntries);
        md.columnsTotal = all;
        cut.push(`${all} extra column values (kept the first ${maxEntries})`);
      }
    }
    const extra = md?.extraFields;
    if (md && Array.isArray(extra) && extra.length > maxEntries) {
      md.extraFields = extra.slice(0, maxEntries);
      md.extraFieldsTotal = extra.length;
      cut.push(`${extra.length} surplus fields (kept the first ${maxEntries})`);
    }
    if (md && typeof md.raw === 'string' && md.raw.length > maxText) {
      md.rawLength = md.raw.length;
      md.raw = cutText(md.raw, maxText);
      cut.push(`the row's text in metadata.raw (${md.rawLength} characters, kept ${maxText})`);
    }
    for (const field of ['description', 'hypothesis'] as const) {
      const v = row[field];
      if (v !== undefined && v.length > maxText) {
        row.metadata = { ...row.metadata, [`${field}Length`]: v.length };
        row[field] = cutText(v, maxText);
        cut.push(`${field} (${v.length} characters, kept ${maxText})`);
      }
    }
    if (cut.length === 0) continue;
    any = true;
    warnings.push({
      line: row.line,
      code: 'row_limit',
      message: `row exceeds the limits of an experiment; cut ${cut.join('; ')}`,
    });
  }
  return any;
}
