import { describe, expect, it } from 'vitest';
import { parseResultsTsv } from '../../../src/domain/ingest/index.js';
import { ROW_LIMITS } from '../../../src/domain/ingest/limits.js';
import { isNonFiniteNumeral } from '../../../src/domain/ingest/values.js';

/** Issue 17: table rows get the JSON API's bounds, cut with a warning, never silently. */
describe('row limits of results tables', () => {
  const { metadataEntries: max, text } = ROW_LIMITS;

  it('cuts surplus fields, long descriptions and metadata.raw, recording the original sizes', () => {
    const long = `${'d'.repeat(text - 1)}💥tail`;
    const surplus = Array.from({ length: max + 50 }, (_, i) => `s${i}`).join('\t');
    const table = `commit\tval_bpb\tstatus\tdescription\nabc1234\t1.0\tkeep\t${long}\t${surplus}\n`;
    const r = parseResultsTsv(table);
    const [row] = r.rows;
    // The cut does not split the surrogate pair at the limit (a lone half cannot be stored).
    expect(row.description).toBe('d'.repeat(text - 1));
    const md = row.metadata as Record<string, unknown>;
    expect((md.extraFields as string[]).length).toBe(max);
    expect(md).toMatchObject({ extraFieldsTotal: max + 50, descriptionLength: long.length, rawLength: expect.any(Number) });
    expect((md.raw as string).length).toBeLessThanOrEqual(text);
    expect(r.warnings.map((w) => `${w.line}:${w.code}`)).toEqual(['2:field_count', '2:row_limit']);
    expect(() => parseResultsTsv(table, { strict: true })).toThrow(/strict/);
  });

  it('leaves rows within the limits alone', () => {
    const cols = Array.from({ length: max }, (_, i) => `c${i}`);
    const table = `commit\tval_bpb\tstatus\t${cols.join('\t')}\nabc1234\t1.0\tkeep\t${cols.map(() => '1').join('\t')}\n`;
    const r = parseResultsTsv(table);
    expect(r.warnings).toEqual([]);
    expect(Object.keys((r.rows[0].metadata as { columns: object }).columns)).toHaveLength(max);
  });

  it('tells numerals without a finite value from other cells', () => {
    for (const s of ['1e309', '-1e400', 'inf', '+Infinity', '-inf', 'NaN', '"inf"']) expect(isNonFiniteNumeral(s), s).toBe(true);
    for (const s of ['1.5', '1e308', '-', 'FAILED', 'infinite', '', 'x1e309']) expect(isNonFiniteNumeral(s), s).toBe(false);
  });
});
