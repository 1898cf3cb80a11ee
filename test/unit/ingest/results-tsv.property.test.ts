import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../src/domain/errors.js';
import {
  KEY_PATTERN,
  parseResultsTsv,
  type ParsedResults,
} from '../../../src/domain/ingest/index.js';

const hex = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 7, maxLength: 7 });
/** A few commits reused often, to exercise duplicate keys. */
const commit = fc.oneof(hex, fc.constantFrom('abc1234', 'baseline', 'deadbee'));
const status = fc.constantFrom('keep', 'discard', 'crash');
const text = fc
  .string({ unit: fc.constantFrom(...'abc XYZ 019.,;:()=+-_/→—Δ'.split('')), maxLength: 40 })
  .map((s) => s.trim());
const value = fc
  .double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 })
  .map((v) => (Object.is(v, -0) ? 0 : v));
const row = fc.record({ commit, value, status, memory: fc.nat(100), description: text });

/** Checks the invariants every successful parse must keep. */
function checkInvariants(parsed: ParsedResults): void {
  const keys = parsed.rows.map((r) => r.key);
  expect(new Set(keys).size).toBe(keys.length);
  const kept = new Set<string>();
  for (const r of parsed.rows) {
    expect(r.key).toMatch(KEY_PATTERN);
    for (const p of r.premises ?? []) expect(kept.has(p)).toBe(true);
    if (r.status === 'keep') kept.add(r.key);
  }
}

describe('parseResultsTsv properties', () => {
  it('round-trips random valid tables: values, statuses, keys and the keep chain', () => {
    fc.assert(
      fc.property(
        fc.array(row, { minLength: 1, maxLength: 40 }),
        fc.constantFrom('\n', '\r\n'),
        fc.boolean(),
        (rows, eol, bom) => {
          const lines = ['commit\tval_bpb\tmemory_gb\tstatus\tdescription'];
          for (const r of rows)
            lines.push(
              [r.commit, String(r.value), `${r.memory}.0`, r.status, r.description].join('\t'),
            );
          const parsed = parseResultsTsv((bom ? '\uFEFF' : '') + lines.join(eol) + eol, {
            strict: false,
          });
          expect(parsed.rows).toHaveLength(rows.length);
          const seen = new Map<string, number>();
          let lastKept: string | undefined;
          parsed.rows.forEach((p, i) => {
            const r = rows[i];
            expect(p.status).toBe(r.status);
            expect(p.value).toBe(r.status === 'crash' ? null : r.value);
            expect(p.description ?? '').toBe(r.description);
            const n = (seen.get(r.commit) ?? 0) + 1;
            seen.set(r.commit, n);
            if (n === 1) expect(p.key).toBe(r.commit);
            else expect(p.key.startsWith(`${r.commit}~`)).toBe(true);
            expect(p.premises).toEqual(lastKept === undefined ? [] : [lastKept]);
            if (p.status === 'keep') lastKept = p.key;
          });
          checkInvariants(parsed);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('gives identical rows for a prefix of a longer file', () => {
    fc.assert(
      fc.property(fc.array(row, { minLength: 2, maxLength: 30 }), fc.nat(), (rows, at) => {
        const lines = ['commit\tval_bpb\tmemory_gb\tstatus\tdescription'];
        for (const r of rows)
          lines.push([r.commit, String(r.value), '1', r.status, r.description].join('\t'));
        const cut = 1 + (at % rows.length);
        const long = parseResultsTsv(lines.join('\n'));
        const short = parseResultsTsv(lines.slice(0, cut + 1).join('\n'));
        expect(short.rows).toEqual(long.rows.slice(0, cut));
      }),
      { numRuns: 100 },
    );
  });

  const tokens = fc.constantFrom(
    '\t',
    '\t',
    '\n',
    '\r\n',
    '\r',
    '#',
    '\\t',
    ' ',
    '',
    '-',
    'NA',
    'FAILED',
    '—',
    '1.5',
    '0',
    '-2e3',
    '%',
    'keep',
    'KEPT',
    'discard',
    'crash',
    'sentinel',
    'commit',
    'val_bpb',
    'status',
    'id',
    'parent',
    'abc1234',
    'abc1234',
    'x~2',
    '\0',
    '\uFEFF',
    '\uD800',
    'é',
    '"',
  );
  const cell = fc.oneof(
    fc.constantFrom(
      '',
      '-',
      'NA',
      'FAILED',
      '1.5',
      '0.98%',
      'keep',
      'KEPT',
      'discard',
      'crash',
      'sentinel',
      'abc1234',
      'abc1234',
      'x~2',
      'r1',
      'r2',
      '#',
      '\\t',
    ),
    fc.double().map(String),
    fc.string({ maxLength: 8 }),
  );
  const garbage = fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.uint8Array({ maxLength: 600 }),
    fc.array(tokens, { maxLength: 200 }).map((t) => t.join('')),
    fc
      .array(tokens, { maxLength: 100 })
      .map((t) => 'commit\tval_bpb\tstatus\tparent\n' + t.join('')),
    fc
      .tuple(
        fc.array(fc.array(cell, { maxLength: 7 }), { minLength: 1, maxLength: 30 }),
        fc.constantFrom('\n', '\r\n', '\\t\n'),
      )
      .map(([rows, eol]) =>
        ['commit\tval_bpb\tstatus\tparent\tdescription', ...rows.map((r) => r.join('\t'))].join(
          eol,
        ),
      ),
  );

  it('never throws anything but DomainError on garbage, and keeps its invariants when it parses', () => {
    fc.assert(
      fc.property(
        garbage,
        fc.boolean(),
        fc.option(fc.constantFrom('val_bpb', 'x', '')),
        (input, strict, metricName) => {
          try {
            const parsed = parseResultsTsv(input, { strict, metricName: metricName ?? undefined });
            // No rows only for a header-only log.
            if (parsed.rows.length === 0) {
              const text = typeof input === 'string' ? input : new TextDecoder().decode(input);
              const lines = text.split(/\r\n|\r|\n/);
              const skipped = (l: string) => l.trim() === '' || l.trimStart().startsWith('#');
              const headerAt = lines.findIndex((l) => !skipped(l));
              const rest = lines
                .map((l, i) => ({ l, line: i + 1 }))
                .slice(headerAt + 1)
                .filter(({ l }) => !skipped(l));
              // Only blank lines, comments, repeats of the header and lines skipped as no rows
              // of the table (each with its warning; issue 20) follow it.
              const foreign = new Set(
                parsed.warnings.filter((w) => w.code === 'foreign_line').map((w) => w.line),
              );
              expect(parsed.skippedLines).toEqual([...foreign]);
              for (const { l, line } of rest)
                expect(
                  l.split('\t')[0] === lines[headerAt].split('\t')[0] || foreign.has(line),
                ).toBe(true);
            }
            if (strict) expect(parsed.warnings).toEqual([]);
            checkInvariants(parsed);
          } catch (e) {
            if (!(e instanceof DomainError)) throw e;
            expect(['validation_failed', 'payload_too_large']).toContain(e.code);
            expect(e.errors?.length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
