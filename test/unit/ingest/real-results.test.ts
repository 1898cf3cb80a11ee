import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  KEY_PATTERN,
  parseResultsTsv,
  type ParsedResults,
} from '../../../src/domain/ingest/index.js';
import { CORPUS_DIR, corpusFiles, skipWithoutCorpus } from '../../helpers/corpus.js';

const SKIP = skipWithoutCorpus('the real-log parser tests');
const FILES = corpusFiles(SKIP);
const read = (name: string): Buffer => readFileSync(`${CORPUS_DIR}${name}`);

/** Independent reading of a log: header fields and data lines, with nothing from the parser. */
function independentLines(bytes: Buffer): { header: string[]; data: string[] } {
  const lines = bytes
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .split(/\r\n|\r|\n/);
  const content = lines.filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  return {
    header: content[0].split('\t').map((h) => h.trim().toLowerCase()),
    data: content.slice(1),
  };
}

/** A deliberately simple, separate status classifier (same vocabulary as the parser's table). */
function classify(raw: string): 'keep' | 'discard' | 'crash' | 'unknown' {
  const s = raw.trim().toLowerCase();
  if (/^(keep|kept|best|new_best|final|baseline)$/.test(s) || /^kept\b/.test(s)) return 'keep';
  if (/^(discard|revert|reverted|kill)/.test(s)) return 'discard';
  if (/^(crash|error|fail|failed|incorrect|compile_error|blocked|infra_retry)$/.test(s))
    return 'crash';
  return 'unknown';
}

function independentCounts(bytes: Buffer): Record<string, number> | undefined {
  const { header, data } = independentLines(bytes);
  const col = ['status', 'decision', 'verdict', 'correctness']
    .map((n) => header.indexOf(n))
    .find((i) => i >= 0);
  if (col === undefined) return undefined;
  const counts: Record<string, number> = {};
  for (const line of data) {
    const fields = line.includes('\t') ? line.split('\t') : line.split('\\t');
    const status = classify(fields[col] ?? '');
    counts[status] = (counts[status] ?? 0) + 1;
  }
  return counts;
}

function statusCounts(parsed: ParsedResults): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const row of parsed.rows) counts[row.status] = (counts[row.status] ?? 0) + 1;
  return counts;
}

describe.skipIf(SKIP)('real autoresearch logs', () => {
  it('finds the 35 collected files', () => {
    expect(FILES.length).toBe(35);
  });

  describe.each(FILES)('%s', (file) => {
    const bytes = read(file);
    const parsed = parseResultsTsv(bytes);
    const { data } = independentLines(bytes);

    it('yields exactly one row per data line, in order', () => {
      expect(parsed.rows.length).toBe(data.length);
      parsed.rows.forEach((row, i) => {
        expect(row.seq).toBe(i);
        if (i > 0) expect(row.line).toBeGreaterThan(parsed.rows[i - 1].line);
      });
    });

    it('assigns unique keys in the key alphabet', () => {
      const keys = parsed.rows.map((r) => r.key);
      expect(new Set(keys).size).toBe(keys.length);
      for (const k of keys) expect(k).toMatch(KEY_PATTERN);
    });

    it('only takes earlier kept rows as premises, with their value as baseline', () => {
      const kept = new Map<string, number | null | undefined>();
      parsed.rows.forEach((row, i) => {
        for (const p of row.premises ?? []) expect(kept.has(p), `${row.key} → ${p}`).toBe(true);
        if (i === 0) expect(row.premises).toEqual([]);
        if ((row.premises ?? []).length > 0)
          expect(row.baseline).toBe(kept.get((row.premises ?? [])[0]) ?? null);
        if (row.status === 'crash') expect(row.value).toBeNull();
        if (row.status === 'keep') kept.set(row.key, row.value);
      });
    });

    it('follows the keep chain where the file has no lineage column', () => {
      if (parsed.roles.parent !== undefined) return;
      let last: string | undefined;
      for (const row of parsed.rows) {
        expect(row.premises).toEqual(last === undefined ? [] : [last]);
        if (row.status === 'keep') last = row.key;
      }
    });

    it('counts statuses like an independent reading of the status column', () => {
      expect(statusCounts(parsed)).toEqual(independentCounts(bytes));
    });

    it('gives the same rows for a prefix of the file', () => {
      const text = bytes.toString('utf8');
      const cut = parsed.rows[Math.ceil(parsed.rows.length / 2) - 1].line;
      const prefix = text.split('\n').slice(0, cut).join('\n') + '\n';
      const short = parseResultsTsv(prefix);
      expect(short.rows).toEqual(parsed.rows.slice(0, short.rows.length));
      expect(short.rows.length).toBe(Math.ceil(parsed.rows.length / 2));
    });

    it('reads the same with CRLF, padded header names and CSV-quoted cells (issue 20)', () => {
      let header = true;
      const dressed = bytes
        .toString('utf8')
        .split(/\r?\n/)
        .map((l) => {
          if (l.trim() === '' || l.trimStart().startsWith('#')) return l;
          if (header) {
            header = false;
            return l
              .split('\t')
              .map((c) => `  ${c} `)
              .join('\t');
          }
          // Lines written with literal \t stay as they are: quoting would hide their separators.
          if (!l.includes('\t')) return l;
          return l
            .split('\t')
            .map((c) => (c === '' ? c : `"${c.replace(/"/g, '""')}"`))
            .join('\t');
        })
        .join('\r\n');
      const p = parseResultsTsv(dressed);
      const sig = (r: ParsedResults) =>
        r.rows.map((x) => [x.key, x.status, x.value, x.description ?? '', x.premises]);
      expect(p.metric).toBe(parsed.metric);
      expect(sig(p)).toEqual(sig(parsed));
      expect(p.skippedLines).toEqual([]);
    });

    it('warns only at lines of the file', () => {
      const lines = new Set(parsed.rows.map((r) => r.line));
      for (const w of parsed.warnings) {
        if (!lines.has(w.line)) expect(w.line).toBeLessThan(parsed.rows[0].line);
      }
    });
  });

  it.each([
    ['karpathy__autoresearch__exp-H100-mar8__results.tsv', { keep: 23, discard: 102, crash: 1 }],
    ['openai__parameter-golf__pull-1211-head__results.tsv', { keep: 56, discard: 117, crash: 6 }],
    // decision column: keep 8, revert 26, error 9 + infra_retry 8
    ['openai__parameter-golf__pull-245-head__results.tsv', { keep: 8, discard: 26, crash: 17 }],
    // KEPT 24 + baseline + FINAL; reverted_* 39
    ['openai__parameter-golf__pull-343-head__autoresearch-results.tsv', { keep: 26, discard: 39 }],
    // sentinel 6, parked 2, TODO 2 are unknown
    [
      'openai__parameter-golf__pull-1928-head__results.tsv',
      { keep: 81, discard: 57, crash: 2, unknown: 10 },
    ],
    // correctness column: PASS 67 + DEFERRED 1 unknown; REVERT 31 + KILL 4; FAIL 14 + BLOCKED 4
    ['Cklaus1__autokernel5090__results.tsv', { keep: 5, discard: 35, crash: 18, unknown: 68 }],
    // keep 209 + BEST 6 + NEW_BEST 7; crash 115; done/contender/parameter values unknown
    [
      'Fchaubard__zero_order_diffusion_autoresearcher__results.tsv',
      { keep: 222, discard: 681, crash: 115, unknown: 109 },
    ],
    // 29 rows with literal \t are all discards
    [
      'Nunchi-trade__auto-researchtrading__autoresearch-results.tsv',
      { keep: 2, discard: 47, crash: 3 },
    ],
    ['Nunchi-trade__auto-researchtrading__results_cfi.tsv', { keep: 5, discard: 64 }],
    // ok 71 unknown (a run that finished is no keep decision), failed 4 crash
    [
      'openai__parameter-golf__pull-1063-head__records--track_non_record_16mb--2026-03-27_CompiledLeakyReLU2_Slide64Eval_1xRTX4090--results.tsv',
      { unknown: 71, crash: 4 },
    ],
    [
      'kingjulio8238__autokernel__autokernel-mar13-gemm__results.tsv',
      { keep: 5, discard: 35, crash: 13 },
    ],
    ['colinjoc__hdr_autoresearch__applications--flares--results.tsv', { keep: 13, discard: 59 }],
  ] as const)('hand-checked status counts of %s', (file, expected) => {
    expect(statusCounts(parseResultsTsv(read(file)))).toEqual(expected);
  });

  it('reads the metric column each log uses', () => {
    const metric = (f: string) => parseResultsTsv(read(f)).metric;
    expect(metric('colinjoc__hdr_autoresearch__applications--flares--results.tsv')).toBe('tss');
    expect(metric('Chang-Han-Chen__autoresearch-moe__results.tsv')).toBe('val_bpb');
    expect(metric('Cklaus1__autokernel5090__results.tsv')).toBe('throughput_tflops');
    expect(metric('openai__parameter-golf__pull-245-head__results.tsv')).toBe('val_bpb');
    expect(metric('raphaelschwinger__autoresearch-dqn__autoresearch-results.tsv')).toBe('metric');
    expect(
      metric('korsunrodion__of_autoresearch__autoresearch-may6__autoresearch-results.tsv'),
    ).toBe('score');
    const f1651 =
      'openai__parameter-golf__pull-1651-head__records--track_10min_16mb--working--results.tsv';
    const named = parseResultsTsv(read(f1651), { metricName: 'quantized_val_bpb' });
    expect(named.metric).toBe('quantized_val_bpb');
    expect(named.rows[0].value).toBe(1.383158);
  });

  it('keeps explicit id/parent lineage of pull-1928', () => {
    const parsed = parseResultsTsv(read('openai__parameter-golf__pull-1928-head__results.tsv'));
    const byKey = new Map(parsed.rows.map((r) => [r.key, r]));
    // 0063 names its kept parent 0062 explicitly.
    expect(byKey.get('0063_swiglu_recur_3x3_mlp11')?.premises).toEqual([
      '0062_swiglu_recur_3x3_mlp8',
    ]);
    // 0045 names 0044 (parked, so never a premise): it inherits 0044's premises.
    expect(byKey.get('0045_swiglu_mlp_2')?.premises).toEqual(
      byKey.get('0044_swiglu_mlp_3')?.premises,
    );
    // 0068 names 0067, which never appears before it: keep chain, with a warning.
    const r68 = byKey.get('0068_fourgram_pruned_side_memory');
    expect(parsed.warnings).toContainEqual(
      expect.objectContaining({ line: r68?.line, code: 'unresolved_parent' }),
    );
  });

  it('splits rows written with literal \\t and keeps foreign-schema rows whole', () => {
    const nunchi = parseResultsTsv(
      read('Nunchi-trade__auto-researchtrading__autoresearch-results.tsv'),
    );
    const escaped = nunchi.rows.find((r) => r.key === 'e626c6a');
    expect(escaped).toMatchObject({
      status: 'discard',
      value: 1.09531,
      description: 'HEAD_DIM 64 (n_head 8)',
    });
    const fch = parseResultsTsv(
      read('Fchaubard__zero_order_diffusion_autoresearcher__results.tsv'),
    );
    const foreign = fch.rows.find((r) => r.key === 'r65_g2_90min');
    expect(foreign?.status).toBe('unknown');
    expect(foreign?.metadata?.extraFields).toEqual(['204.41', '90min budget, overfits slightly']);
    expect(String(foreign?.metadata?.raw)).toContain('r65_g2_90min\tspsa');
  });
});
