import { describe, expect, it } from 'vitest';
import { parseResultsTsv } from '../../../src/domain/ingest/index.js';
import { codes, KARPATHY, rejection, tsv } from './fixtures.js';

/**
 * Logs no one has shown us (issue 20): small synthetic files, one per way a real log fooled
 * the header-only reading. Each checks the choice, its evidence and the warning it gives.
 */

/** `n` rows: keyed c1…, the metric improving on keeps (every third row a discard). */
function rows(n: number, cell: (i: number, keep: boolean) => string[]): string[] {
  return Array.from({ length: n }, (_, i) => {
    const keep = i % 3 !== 2;
    return [`c${i}`, ...cell(i, keep), keep ? 'keep' : 'discard'].join('\t');
  });
}

describe('the metric column when it is not named like the metric', () => {
  it('passes over a setting such as top_k in the second column for val_score', () => {
    const text = tsv(
      'run\ttop_k\tval_score\tstatus',
      ...rows(12, (i, keep) => [String([60, 120, 240][i % 3]), String(keep ? 0.5 + i / 100 : 0.1)]),
    );
    const p = parseResultsTsv(text);
    expect(p.metric).toBe('val_score');
    expect(p.choices.metric).toMatchObject({ column: 'val_score', source: 'name', guess: true });
    expect(p.choices.metric.evidence).toContain("passed over 'top_k'");
    expect(codes(p)).toContain('1:metric_guessed');
    expect(p.rows[0].value).toBe(0.5);
  });

  it('passes over a column of three values whose name says nothing', () => {
    const text = tsv(
      'commit\tbucket\tnba_core\tstatus',
      ...rows(9, (i, keep) => [String([1, 2, 4][i % 3]), String(keep ? 10 + i : 1)]),
    );
    const p = parseResultsTsv(text);
    expect(p.metric).toBe('nba_core');
    expect(p.choices.metric.evidence).toMatch(/'bucket'.*3 distinct values/);
  });

  it('passes over a column that rises on every row (a run index, a clock)', () => {
    const text = tsv(
      'commit\tmodel\tslot\tresult\tstatus',
      ...rows(9, (i, keep) => [
        'gpt',
        String(1710000000 + 60 * i),
        String(keep ? 0.5 + i / 100 : 0.2),
      ]),
    );
    const p = parseResultsTsv(text);
    expect(p.metric).toBe('result');
    expect(p.choices.metric.evidence).toContain("passed over 'slot': it rises on every row");
  });

  it('takes the value after, not the value before', () => {
    const text = tsv(
      'commit\tannual_return_before\tannual_return_after\tstatus',
      'a1\t0.10\t0.12\tkeep',
      'a2\t0.12\t0.15\tkeep',
      'a3\t0.15\t0.11\tdiscard',
    );
    const p = parseResultsTsv(text);
    expect(p.metric).toBe('annual_return_after');
    expect(p.choices.metric.evidence).toContain("'annual_return_after' is the value after");
    expect(p.choices.direction).toMatchObject({ value: 'maximize', name: 'maximize' });
  });

  it('lets the keep chain overrule a column whose kept values go both ways', () => {
    // `mix` is a setting with many values; the kept rows of quality_after improve every time.
    const text = tsv(
      'commit\tmix\tquality_after\tstatus',
      'a1\t0.7\t1.0\tkeep',
      'a2\t0.2\t1.5\tkeep',
      'a3\t0.9\t1.9\tkeep',
      'a4\t0.1\t0.3\tdiscard',
      'a5\t0.8\t2.4\tkeep',
      'a6\t0.3\t2.6\tkeep',
    );
    const p = parseResultsTsv(text);
    expect(p.metric).toBe('quality_after');
    expect(p.choices.metric).toMatchObject({ source: 'data', guess: true });
    expect(p.choices.metric.evidence).toMatch(
      /4 of 4 steps between kept rows increase.*'mix' does not/,
    );
    expect(codes(p)).toEqual(['1:metric_guessed']);
  });

  it('keeps the second column when it is named like a metric, without a warning', () => {
    const p = parseResultsTsv(KARPATHY);
    expect(p.choices.metric).toMatchObject({ column: 'val_bpb', source: 'name', guess: false });
    expect(p.warnings).toEqual([]);
  });

  it('lets the project metric win over the data', () => {
    const text = tsv('commit\tval_score\ttop_k\tstatus', 'a\t1\t60\tkeep', 'b\t2\t120\tkeep');
    const p = parseResultsTsv(text, { metricName: 'top_k' });
    expect(p.choices.metric).toMatchObject({ column: 'top_k', source: 'explicit', guess: false });
    expect(p.rows.map((r) => r.value)).toEqual([60, 120]);
  });
});

describe('the direction when the keep chain contradicts the name', () => {
  // `score` reads as maximize, but every kept row is a decrease: the loop minimized it.
  const decreasing = tsv(
    'commit\tscore\tstatus',
    'a1\t9.0\tkeep',
    'a2\t8.5\tkeep',
    'a3\t8.7\tdiscard',
    'a4\t8.1\tkeep',
    'a5\t7.9\tkeep',
  );

  it('uses the data and warns loudly when nothing declared a direction', () => {
    const p = parseResultsTsv(decreasing);
    expect(p.choices.direction).toMatchObject({
      value: 'minimize',
      source: 'data',
      guess: true,
      data: 'minimize',
      name: 'maximize',
    });
    expect(p.choices.direction.evidence).toContain('3 of 3 steps between kept rows decrease');
    const w = p.warnings.find((x) => x.code === 'direction_contradicted');
    expect(w).toMatchObject({ line: 1 });
    expect(w?.message).toMatch(/^DIRECTION CONTRADICTED: the name 'score' says maximize/);
  });

  it('keeps a declared direction and still warns', () => {
    const p = parseResultsTsv(decreasing, { direction: 'maximize', directionSource: 'project' });
    expect(p.choices.direction).toMatchObject({
      value: 'maximize',
      source: 'project',
      guess: false,
    });
    expect(codes(p)).toEqual(['1:direction_contradicted']);
    expect(p.warnings[0].message).toContain("the project's config says maximize");
    const hinted = parseResultsTsv('# direction: maximize\n' + decreasing);
    expect(hinted.choices.direction).toMatchObject({ value: 'maximize', source: 'hint' });
    expect(codes(hinted)).toEqual(['2:direction_contradicted']);
  });

  it('reads the direction of an unknown name from the keeps, as a guess', () => {
    const p = parseResultsTsv(
      tsv(
        'commit\telo\tstatus',
        'a\t1200\tkeep',
        'b\t1250\tkeep',
        'c\t1240\tdiscard',
        'd\t1300\tkeep',
      ),
    );
    expect(p.choices.direction).toMatchObject({
      value: 'maximize',
      source: 'data',
      guess: true,
      name: null,
    });
    const none = parseResultsTsv(tsv('commit\telo\tstatus', 'a\t1200\tkeep', 'b\t1190\tdiscard'));
    expect(none.choices.direction).toMatchObject({ value: null, source: 'none' });
    expect(none.choices.direction.evidence).toContain("'elo' is not a known metric name");
  });

  it('reads a direction the header states', () => {
    const p = parseResultsTsv(tsv('commit\tscore (lower is better)\tstatus', 'a\t2\tkeep'));
    expect(p.choices.direction).toMatchObject({ value: 'minimize', name: 'minimize' });
  });

  it('does not call a noisy chain a direction', () => {
    const p = parseResultsTsv(
      tsv(
        'commit\tval_loss\tstatus',
        'a\t2\tkeep',
        'b\t1.5\tkeep',
        'c\t1.8\tkeep',
        'd\t1.2\tkeep',
        'e\t1.6\tkeep',
      ),
    );
    expect(p.choices.direction).toMatchObject({ value: 'minimize', source: 'name', data: null });
    expect(codes(p)).toEqual([]);
  });
});

describe('decisions in an oddly named column', () => {
  it('reads kept/revert from `tag` when the named `correctness` column holds only PASS', () => {
    const text = tsv(
      'commit\tval_bpb\ttag\tcorrectness\tdescription',
      'a1\t1.00\tkept\tPASS\tbase',
      'a2\t0.98\tkept\tPASS\tbetter',
      'a3\t0.99\trevert\tPASS\tworse',
      'a4\t0.97\tkept\tPASS\tbetter again',
    );
    const p = parseResultsTsv(text);
    expect(p.roles.status).toBe('tag');
    expect(p.rows.map((r) => r.status)).toEqual(['keep', 'keep', 'discard', 'keep']);
    expect(p.choices.statusColumn).toMatchObject({ column: 'tag', source: 'data', guess: true });
    expect(p.choices.statusColumn.evidence).toMatch(
      /'tag' holds decision words \(kept 3, revert 1\); 'correctness' holds none \(pass 4\)/,
    );
    expect(codes(p)).toEqual(['1:status_column_guessed']);
    expect(p.rows[3].metadata?.columns).toEqual({ correctness: 'PASS' });
  });

  it('keeps a named status column that holds decisions, whatever else holds words', () => {
    const p = parseResultsTsv(
      tsv(
        'commit\tval_bpb\tnote\tstatus',
        'a\t1\tkeep\tdiscard',
        'b\t0.9\tkeep\tkeep',
        'c\t0.8\tkeep\tkeep',
      ),
    );
    expect(p.choices.statusColumn).toMatchObject({
      column: 'status',
      source: 'name',
      guess: false,
    });
    expect(p.rows.map((r) => r.status)).toEqual(['discard', 'keep', 'keep']);
  });

  it('reads a `kept` column of 1/0, a row without a value as a crash', () => {
    const text = tsv(
      'commit\tval_bpb\tkept\tdescription',
      'a1\t1.00\t1\tbase',
      'a2\t0.98\t1\tbetter',
      'a3\t0.97\t0\tbetter, but not kept',
      'a4\t-\t0\tbroke',
      'a5\t0.96\tyes\tbetter',
    );
    const p = parseResultsTsv(text);
    expect(p.rows.map((r) => r.status)).toEqual(['keep', 'keep', 'discard', 'crash', 'keep']);
    expect(p.choices.statusColumn).toMatchObject({ column: 'kept', source: 'data' });
    expect(p.choices.statusColumn.evidence).toContain('1/0 keep flags');
    // The loop rule would have kept a3 (it beats a2): the column's decision stands.
    expect(p.rows[2].metadata?.statusDerived).toBeUndefined();
    expect(p.rows[4].premises).toEqual(['a2']);
  });

  it('lets a status column named by the caller win', () => {
    const text = tsv(
      'commit\tval_bpb\tstatus\tverdict2',
      'a\t1\tkeep\tdiscard',
      'b\t0.9\tkeep\tkeep',
    );
    const p = parseResultsTsv(text, { statusColumn: 'verdict2' });
    expect(p.choices.statusColumn).toMatchObject({ column: 'verdict2', source: 'explicit' });
    expect(p.rows.map((r) => r.status)).toEqual(['discard', 'keep']);
    const missing = parseResultsTsv(text, { statusColumn: 'nope' });
    expect(codes(missing)).toEqual(['1:status_column_not_found']);
    expect(missing.roles.status).toBe('status');
  });
});

describe('lines that are not rows of the table', () => {
  const clean = KARPATHY.trimEnd().split('\n');
  const dirty = tsv(
    clean[0],
    clean[1],
    '2026-03-19 12:00:01 step 100 | loss 2.31 | 812 tok/s',
    clean[2],
    '2026-03-19T12:00:02\tbench\t3.1',
    '-----------------------------',
    'Switched to the H100 here; numbers below are not comparable.',
    clean[3],
    '=====\t=====\t=====\t=====\t=====',
    '[12:00:03]\tdecode\t6485.0\t18585.0',
    clean[4],
    clean[5],
  );

  it('are skipped with a warning each at their file line, never stored as rows', () => {
    const p = parseResultsTsv(dirty);
    const base = parseResultsTsv(KARPATHY);
    expect(p.rows.map((r) => [r.key, r.status, r.value, r.premises])).toEqual(
      base.rows.map((r) => [r.key, r.status, r.value, r.premises]),
    );
    expect(p.skippedLines).toEqual([3, 5, 6, 7, 9, 10]);
    expect(codes(p)).toEqual([3, 5, 6, 7, 9, 10].map((l) => `${l}:foreign_line`));
    expect(p.warnings[0].message).toMatch(/timestamp/);
    expect(p.rows.map((r) => r.line)).toEqual([2, 4, 8, 11, 12]);
  });

  it('keeps a row with another field count when its key is in place', () => {
    const p = parseResultsTsv(
      tsv(
        clean[0],
        clean[1],
        'r65_g2\tspsa\td2\tcurriculum\teps1e-2\t204.41\tlonger schema',
        clean[2],
      ),
    );
    expect(p.rows.map((r) => r.key)).toEqual(['baseline', 'r65_g2', 'bea057b']);
    expect(codes(p)).toContain('3:field_count');
    expect(p.skippedLines).toEqual([]);
  });

  it('skips a short line of prose whose first word looks like a key', () => {
    const p = parseResultsTsv(
      tsv(clean[0], clean[1], 'Summary\tbest was 0.98 at bea057b', 'xyz\t0.97', clean[2]),
    );
    expect(p.rows.map((r) => r.key)).toEqual(['baseline', 'xyz', 'bea057b']);
    expect(p.skippedLines).toEqual([3]);
  });

  it('are listed for a file whose only data line is foreign', () => {
    const p = parseResultsTsv(tsv(clean[0], 'training finished.'));
    expect(p.rows).toEqual([]);
    expect(p.skippedLines).toEqual([2]);
  });
});

describe('a file without a header', () => {
  const body = tsv(
    'HEAD\tmodel\t397.0\t12.1\tkeep\tbaseline run',
    'HEAD\tmodel\t391.5\t12.3\tkeep\tlarger batch',
    'HEAD\tmodel\t399.2\t12.2\tdiscard\twider mlp',
    'HEAD\tmodel\t388.0\t12.0\tkeep\tlonger warmup',
  );

  it('is read with columns inferred from the rows and one warning', () => {
    const p = parseResultsTsv(body);
    expect(p.headerInferred).toBe(true);
    expect(p.columns).toEqual(['column1', 'column2', 'metric', 'column4', 'status', 'description']);
    expect(p.rows.map((r) => [r.key, r.status, r.value, r.description])).toEqual([
      ['row-1', 'keep', 397, 'baseline run'],
      ['row-2', 'keep', 391.5, 'larger batch'],
      ['row-3', 'discard', 399.2, 'wider mlp'],
      ['row-4', 'keep', 388, 'longer warmup'],
    ]);
    expect(p.choices.statusColumn).toMatchObject({ column: 'status', source: 'data' });
    expect(p.choices.direction).toMatchObject({ value: 'minimize', source: 'data' });
    const headerless = p.warnings.find((w) => w.code === 'no_header');
    expect(headerless?.line).toBe(1);
    expect(headerless?.message).toContain('column1, column2, metric, column4, status, description');
    // The next ingest into the project (metric 'metric') finds the column by name.
    expect(parseResultsTsv(body, { metricName: 'metric' }).choices.metric.source).toBe('explicit');
  });

  it('reads a header written as a comment before the first row', () => {
    const p = parseResultsTsv(
      tsv('# run log', '# commit\tval_bpb\tstatus', 'abc1234\t0.99\tkeep', 'bcd2345\t0.98\tkeep'),
    );
    expect(p.columns).toEqual(['commit', 'val_bpb', 'status']);
    expect(p.headerInferred).toBeUndefined();
    expect(p.rows.map((r) => [r.key, r.value, r.line])).toEqual([
      ['abc1234', 0.99, 3],
      ['bcd2345', 0.98, 4],
    ]);
    expect(codes(p)).toEqual(['2:commented_header']);
  });

  it('takes a column of distinct commit hashes as the key', () => {
    const p = parseResultsTsv(
      tsv('abc1234\t0.99\tkeep\tbase line', 'bcd2345\t0.98\tkeep\tnext one'),
    );
    expect(p.columns).toEqual(['commit', 'metric', 'status', 'description']);
    expect(p.rows.map((r) => r.key)).toEqual(['abc1234', 'bcd2345']);
    expect(p.choices.keyColumn).toMatchObject({ column: 'commit', source: 'data', guess: true });
  });

  it('is rejected naming the header it needs when the rows have no shape in common', () => {
    const err = rejection(() => parseResultsTsv(tsv('abc\t1.0', 'x\ty\tz\tw', 'one two')));
    expect(err.errors).toEqual([expect.objectContaining({ line: 1, code: 'no_header' })]);
    expect(err.errors?.[0].message).toMatch(
      /add a header line naming the columns, at least the metric/,
    );
  });
});

describe('text details', () => {
  it('unquotes CSV-style quoted cells, TABs inside quotes included', () => {
    const p = parseResultsTsv(
      tsv(
        '"commit"\t"val_bpb"\t"status"\t"description"\t"notes"',
        '"abc1234"\t"0.99"\t"keep"\t"halve batch, ""again"""\t"a\tb"',
        'bcd2345\t0.98\tkeep\t"a" and "b"\tplain',
      ),
    );
    expect(p.columns).toEqual(['commit', 'val_bpb', 'status', 'description', 'notes']);
    expect(p.rows[0]).toMatchObject({
      key: 'abc1234',
      value: 0.99,
      status: 'keep',
      description: 'halve batch, "again"',
    });
    expect(p.rows[0].metadata?.columns).toEqual({ notes: 'a\tb' });
    expect(p.rows[1].description).toBe('"a" and "b"');
    expect(p.warnings).toEqual([]);
  });

  it('reads CRLF and padded header names like LF and plain ones', () => {
    const padded = KARPATHY.replace(
      'commit\tval_bpb\tmemory_gb\tstatus\tdescription',
      '  commit  \t val_bpb \tmemory_gb   \t status\tdescription  ',
    ).replace(/\n/g, '\r\n');
    const p = parseResultsTsv(padded);
    expect(p.columns).toEqual(['commit', 'val_bpb', 'memory_gb', 'status', 'description']);
    expect(p.rows).toEqual(parseResultsTsv(KARPATHY).rows);
    expect(p.choices.keyColumn).toMatchObject({ column: 'commit', source: 'name' });
  });
});

describe('a long log', () => {
  it('parses 150,000 rows (no per-line argument lists, which overflow the stack)', () => {
    const body = ['commit\tval_bpb\tstatus'];
    for (let i = 0; i < 150_000; i++)
      body.push(
        `${(0x1000000 + i).toString(16)}\t${(1 - i * 1e-7).toFixed(7)}\t${i % 3 ? 'discard' : 'keep'}`,
      );
    const p = parseResultsTsv(body.join('\n'));
    expect(p.rows).toHaveLength(150_000);
    expect(p.choices.direction).toMatchObject({ value: 'minimize', source: 'data' });
  }, 60_000);
});
