import { describe, expect, it } from 'vitest';
import {
  codeQuality,
  matchesGlob,
  parseUnifiedDiff,
  PENALTIES,
} from '../../../src/domain/scoring/index.js';
import { makeExperiment, makeProject } from './fixtures.js';

/** Code quality judges changes: these experiments build on a premise (roots are the baseline). */
const ex: typeof makeExperiment = (key, over = {}) => makeExperiment(key, { premiseKey: 'premise', ...over });

describe('matchesGlob', () => {
  it.each([
    // a glob without "/" matches the name at any depth (gitignore semantics)
    ['prepare.py', 'prepare.py', true],
    ['src/prepare.py', 'prepare.py', true],
    ['prepare.pyc', 'prepare.py', false],
    ['my_prepare.py', 'prepare.py', false],
    ['./prepare.py', 'prepare.py', true],
    ['a/b/c.lock', '*.lock', true],
    ['a/b/c.lockx', '*.lock', false],
    ['x1.py', 'x?.py', true],
    ['x12.py', 'x?.py', false],
    // a leading "/" or an inner "/" anchors at the root
    ['prepare.py', '/prepare.py', true],
    ['src/prepare.py', '/prepare.py', false],
    ['src/bench.py', 'src/bench.py', true],
    ['lib/src/bench.py', 'src/bench.py', false],
    // "**" spans zero or more directories
    ['eval/metric.py', 'eval/**', true],
    ['eval/a/b/metric.py', 'eval/**', true],
    ['evaluate.py', 'eval/**', false],
    ['src/eval/metric.py', 'eval/**', false],
    ['src/eval/metric.py', '**/eval/**', true],
    ['eval/metric.py', '**/eval/**', true],
    ['a/x/y/b.txt', 'a/**/b.txt', true],
    ['a/b.txt', 'a/**/b.txt', true],
    ['a/b.txt', 'a/*/b.txt', false],
    ['a/x/b.txt', 'a/*/b.txt', true],
    // a directory protects what is below it
    ['eval/metric.py', 'eval', true],
    ['eval/metric.py', 'eval/', true],
    ['src/eval/metric.py', 'eval', true],
    ['evaluation/metric.py', 'eval', false],
    // literal characters are literal
    ['a+b.py', 'a+b.py', true],
    ['aab.py', 'a+b.py', false],
    ['win\\prepare.py', 'prepare.py', true],
    ['', 'prepare.py', false],
    ['prepare.py', '', false],
  ])('%s ~ %s → %s', (path, glob, expected) => {
    expect(matchesGlob(path, glob)).toBe(expected);
  });
});

const diff = (file: string, removed: string[], added: string[]): string =>
  [
    `diff --git a/${file} b/${file}`,
    `--- a/${file}`,
    `+++ b/${file}`,
    '@@ -1,3 +1,3 @@',
    ...removed.map((l) => `-${l}`),
    ...added.map((l) => `+${l}`),
    ' context line',
  ].join('\n');

describe('parseUnifiedDiff', () => {
  it('finds paths (renames, /dev/null dropped) and changed lines', () => {
    const d = [
      'diff --git a/old.py b/new.py',
      'rename from old.py',
      'rename to new.py',
      '--- a/train.py',
      '+++ b/train.py',
      '-x = 1',
      '--- SQL comment removed',
      '+x = 2',
      '--- /dev/null',
      '+++ b/added.py',
      '+print(1)',
    ].join('\n');
    const p = parseUnifiedDiff(d);
    expect(p.paths.sort()).toEqual(['added.py', 'new.py', 'old.py', 'train.py']);
    expect(p.removed).toEqual(['x = 1', '-- SQL comment removed']);
    expect(p.added).toEqual(['x = 2', 'print(1)']);
  });
});

describe('codeQuality', () => {
  const project = makeProject();

  it('gives 0.5 without code information', () => {
    expect(codeQuality(project, ex('x'))).toMatchObject({
      q: 0.5,
      hardGate: null,
      reasons: [{ code: 'no_code_info' }],
    });
    expect(codeQuality(project, ex('x', { code: { diff: '  ', paths: [] } })).q).toBe(0.5);
  });

  it('gives 1 for a small, clean change', () => {
    const r = codeQuality(
      project,
      ex('x', { code: { diff: diff('train.py', ['lr = 0.02'], ['lr = 0.03']) } }),
    );
    expect(r).toEqual({ q: 1, hardGate: null, reasons: [] });
  });

  it('hard-gates a crash and a protected path with Q = 0', () => {
    expect(codeQuality(project, ex('x', { status: 'crash' }))).toMatchObject({
      q: 0,
      hardGate: 'crash',
    });
    const prot = codeQuality(
      project,
      ex('x', { code: { paths: [{ path: 'eval/metric.py', added: 1, removed: 0 }] } }),
    );
    expect(prot.q).toBe(0);
    expect(prot.hardGate).toBe('protected_path');
    const viaDiff = codeQuality(
      project,
      ex('x', { code: { diff: diff('prepare.py', ['a'], ['b']) } }),
    );
    expect(viaDiff.hardGate).toBe('protected_path');
    const renamed = codeQuality(
      project,
      ex('x', {
        code: {
          diff: 'diff --git a/prepare.py b/prep2.py\nrename from prepare.py\nrename to prep2.py\n',
        },
      }),
    );
    expect(renamed.hardGate).toBe('protected_path');
    const both = codeQuality(
      project,
      ex('x', { status: 'crash', code: { paths: [{ path: 'prepare.py', added: 1, removed: 1 }] } }),
    );
    expect(both.hardGate).toBe('crash');
    expect(both.reasons.map((r) => r.code)).toEqual(['crash', 'protected_path']);
  });

  it('penalizes large diffs by size (one penalty, not both)', () => {
    const q = (lines: number): number =>
      codeQuality(
        project,
        ex('x', { code: { paths: [{ path: 'train.py', added: lines, removed: 0 }] } }),
      ).q;
    expect(q(200)).toBe(1);
    expect(q(201)).toBe(1 - PENALTIES.large_diff);
    expect(q(1000)).toBe(1 - PENALTIES.large_diff);
    expect(q(1001)).toBe(1 - PENALTIES.very_large_diff);
  });

  it('penalizes seeding, evaluation code and new dependencies, each once', () => {
    const codes = (d: string): string[] =>
      codeQuality(project, ex('x', { code: { diff: d } })).reasons.map((r) => r.code);
    expect(codes(diff('train.py', ['torch.manual_seed(1337)'], ['torch.manual_seed(42)']))).toEqual(
      ['seed_changed'],
    );
    expect(codes(diff('train.py', [], ['np.random.seed(0)', 'random_state = 3']))).toEqual([
      'seed_changed',
    ]);
    expect(codes(diff('train.py', ['x = 1'], ['val_bpb = val_bpb * 0.9']))).toEqual([
      'eval_changed',
    ]);
    expect(codes(diff('train.py', [], ['loss = evaluate_bpb(model)']))).toEqual(['eval_changed']);
    expect(codes(diff('src/metrics.py', ['a'], ['b']))).toEqual(['eval_changed']);
    expect(codes(diff('train.py', [], ['model.eval()']))).toEqual([]); // a method call, not eval code
    expect(codes(diff('requirements.txt', [], ['flash-attn==2.6']))).toEqual(['new_dependency']);
    expect(codes(diff('train.py', [], ['import flash_attn']))).toEqual(['new_dependency']);
    expect(codes(diff('train.py', ['import math'], ['import math']))).toEqual([]); // moved, not new
    const all = codeQuality(
      project,
      ex('x', {
        code: { diff: diff('train.py', ['seed = 1'], ['seed = 2', 'import foo', 'metric = 0']) },
      }),
    );
    expect(all.q).toBeCloseTo(1 - 0.15 - 0.2 - 0.1, 12);
  });

  it('uses a distinctive metric name in the line checks, but not a common word', () => {
    const p = makeProject({ metric: { name: 'core_score', direction: 'maximize' } });
    expect(
      codeQuality(p, ex('x', { code: { diff: diff('train.py', [], ['print(core_score)']) } })).q,
    ).toBe(0.8);
    const loss = makeProject({ metric: { name: 'loss', direction: 'minimize' } });
    expect(
      codeQuality(loss, ex('x', { code: { diff: diff('train.py', [], ['loss = loss + aux']) } })).q,
    ).toBe(1);
  });

  it('never drops below 0', () => {
    const d = diff('requirements.txt', ['seed=1'], ['val_bpb', ...Array(1200).fill('x')]);
    const r = codeQuality(project, ex('x', { code: { diff: d } }));
    expect(r.q).toBeCloseTo(1 - 0.25 - 0.15 - 0.2 - 0.1, 12);
    expect(r.q).toBeGreaterThanOrEqual(0);
  });
});

describe('roots', () => {
  it('treats the root as the starting code: protected files it creates are no hard gate', () => {
    const root = makeExperiment('root', { code: { paths: [{ path: 'prepare.py', added: 40, removed: 0 }] } });
    const r = codeQuality(makeProject({ protectedPaths: ['prepare.py'] }), root);
    expect(r).toMatchObject({ q: 1, hardGate: null });
    expect(r.reasons.map((x) => x.code)).toEqual(['root_baseline']);
    const child = ex('child', { code: { paths: [{ path: 'prepare.py', added: 1, removed: 1 }] } });
    expect(codeQuality(makeProject({ protectedPaths: ['prepare.py'] }), child).hardGate).toBe('protected_path');
  });
});
