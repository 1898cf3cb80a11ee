import { describe, expect, it } from 'vitest';
import { mapStatus, parseResultsTsv } from '../../../src/domain/ingest/index.js';
import { codes, HEADER, tsv } from './fixtures.js';

describe('parseResultsTsv: statuses', () => {
  it.each([
    ['keep', 'keep'],
    ['KEEP', 'keep'],
    ['kept', 'keep'],
    ['KEPT', 'keep'],
    ['keep_best', 'keep'],
    ['BEST', 'keep'],
    ['NEW_BEST', 'keep'],
    ['FINAL', 'keep'],
    ['baseline', 'keep'],
    ['discard', 'discard'],
    ['revert', 'discard'],
    ['REVERT', 'discard'],
    ['reverted', 'discard'],
    ['reverted_worse_too_big', 'discard'],
    ['revert (feature mismatch)', 'discard'],
    ['KILL', 'discard'],
    ['crash', 'crash'],
    ['error', 'crash'],
    ['FAIL', 'crash'],
    ['failed', 'crash'],
    ['incorrect', 'crash'],
    ['compile_error', 'crash'],
    ['infra_retry', 'crash'],
    ['BLOCKED', 'crash'],
    ['oom', 'crash'],
    ['ok', 'unknown'],
    ['PASS', 'unknown'],
    ['done', 'unknown'],
    ['run', 'unknown'],
    ['keep-candidate', 'unknown'],
    ['tentative', 'unknown'],
    ['sentinel', 'unknown'],
    ['parked', 'unknown'],
    ['TODO', 'unknown'],
    ['WIP', 'unknown'],
    ['curriculum_0.67', 'unknown'],
    ['n/a', 'unknown'],
    ['', 'unknown'],
  ] as const)('%s → %s', (raw, status) => {
    expect(mapStatus(raw).status).toBe(status);
  });

  it('stores unknown statuses with a warning and never builds on them', () => {
    const parsed = parseResultsTsv(
      tsv(
        HEADER,
        'a111111\t1.0\t1\tkeep\tx',
        'b222222\t0.9\t1\tsentinel\ty',
        'c333333\t0.8\t1\tKEPT\tz',
        'd444444\t0.7\t1\tdiscard\tw',
      ),
    );
    expect(parsed.rows.map((r) => [r.status, r.premises])).toEqual([
      ['keep', []],
      ['unknown', ['a111111']],
      ['keep', ['a111111']],
      ['discard', ['c333333']],
    ]);
    expect(parsed.rows[1].metadata).toMatchObject({ status: 'sentinel' });
    expect(parsed.rows[2].metadata).toMatchObject({ status: 'KEPT' });
    expect(codes(parsed)).toEqual(['3:unknown_status']);
  });

  it('reads decision / verdict / correctness columns', () => {
    for (const name of ['decision', 'verdict', 'correctness']) {
      const parsed = parseResultsTsv(
        tsv(`commit\tval_bpb\t${name}`, 'a111111\t1\tKEEP', 'b222222\t2\tREVERT'),
      );
      expect(parsed.roles.status).toBe(name);
      expect(parsed.rows.map((r) => r.status)).toEqual(['keep', 'discard']);
    }
  });

  it('derives keep/discard by the loop rule without a status column when a direction is given', () => {
    const text = tsv(
      'commit\tval_bpb\tdescription',
      'a1\t1.0\tbase',
      'a2\t1.1\tworse',
      'a3\t0.9\tbetter',
      'a4\t0.9\ttie',
      'a5\t-\tbroke',
    );
    const derived = parseResultsTsv(text, { direction: 'minimize' });
    expect(derived.rows.map((r) => r.status)).toEqual([
      'keep',
      'discard',
      'keep',
      'discard',
      'crash',
    ]);
    expect(derived.rows.map((r) => r.premises)).toEqual([[], ['a1'], ['a1'], ['a3'], ['a3']]);
    expect(derived.rows[0].metadata).toEqual({ statusDerived: true });
    expect(derived.warnings).toEqual([]);
    const maximize = parseResultsTsv(text, { direction: 'maximize' });
    expect(maximize.rows.map((r) => r.status)).toEqual([
      'keep',
      'keep',
      'discard',
      'discard',
      'crash',
    ]);
    const none = parseResultsTsv(text);
    expect(none.rows.every((r) => r.status === 'unknown' && r.premises?.length === 0)).toBe(true);
    expect(codes(none)).toEqual(['1:missing_status_column', '6:missing_metric']);
  });
});

describe('parseResultsTsv: explicit lineage', () => {
  const text = tsv(
    'id\tparent\tval_bpb\tstatus\tdescription',
    'r1\tcanonical\t2.5\tkeep\tbase',
    'r2\tr1\t2.4\tkeep\tchild of r1',
    'r3\tr1\t2.3\tparked\tparked, on r1',
    'r4\tr3\t2.2\tkeep\ton parked r3',
    'r5\tr1\t2.45\tdiscard\tcompared against r1 though r4 is newer',
    'r6\tr9\t2.1\tkeep\tforward reference',
    'r9\tr2\t2.0\tkeep\tlate',
    'r7\t—\t2.6\tdiscard\tno parent given',
    'r8\tr2, r4\t1.9\tkeep\ttwo parents',
  );
  const parsed = parseResultsTsv(text);
  const premises = Object.fromEntries(parsed.rows.map((r) => [r.key, r.premises]));

  it('wins over the keep chain and resolves to assigned keys', () => {
    expect(premises).toEqual({
      r1: [],
      r2: ['r1'],
      r3: ['r1'],
      r4: ['r1'],
      r5: ['r1'],
      r6: ['r4'],
      r9: ['r2'],
      r7: ['r9'],
      r8: ['r2', 'r4'],
    });
    expect(parsed.rows.find((r) => r.key === 'r5')?.baseline).toBe(2.5);
  });

  it('warns for unresolvable and non-kept parents', () => {
    expect(codes(parsed)).toEqual([
      '2:unresolved_parent',
      '4:unknown_status',
      '5:parent_not_kept',
      '7:unresolved_parent',
    ]);
    expect(parsed.rows[3].metadata).toMatchObject({ parent: 'r3' });
  });

  it('matches parent_commit by hash prefix and resolves repeated commits to the latest kept row', () => {
    const p = parseResultsTsv(
      tsv(
        'commit\tparent_commit\tval_bpb\tstatus',
        'abc1234\t-\t1\tkeep',
        'abc1234\tabc1234\t0.9\tkeep',
        'def5678\tabc1234567890\t0.8\tkeep',
        'fed9999\tdef5678\t0.7\tdiscard',
      ),
    );
    expect(p.rows.map((r) => r.premises)).toEqual([[], ['abc1234'], ['abc1234~2'], ['def5678']]);
  });
});
