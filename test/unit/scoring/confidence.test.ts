import { describe, expect, it } from 'vitest';
import {
  normalizedWeights,
  probAboveLevel,
  scoreProject,
  type ObservedExperiment,
  type ProjectScoreInput,
} from '../../../src/domain/scoring/index.js';
import type { Score } from '../../../src/domain/types.js';
import { makeExperiment as ex, makeProject, makeStats } from './fixtures.js';

const codes = (s: { reasons: Array<{ code: string }> }): string[] => s.reasons.map((r) => r.code);
const clean = { paths: [{ path: 'train.py', added: 10, removed: 2 }] };
const reps = (xs: (number | null)[]) => xs.map((value, seed) => ({ seed, value }));
const project = makeProject(); // minimize val_bpb, σ̂ = 0.004 in makeStats
const root = ex('r', { value: 1.0, replicates: [0.998, 1.003] });

function score(experiments: ObservedExperiment[], over: Partial<ProjectScoreInput> = {}): Map<string, Score> {
  return scoreProject({ project, experiments, stats: makeStats(), ...over });
}
const one = (x: ObservedExperiment, over: Partial<ProjectScoreInput> = {}): Score => score([root, x], over).get(x.key)!;
const proposal = (over: Partial<ObservedExperiment> = {}) => ex('x', { value: 0.99, premiseKey: 'r', baseline: 1.0, code: clean, ...over });

describe('scoreProject', () => {
  it('keeps every component in [0, 1] and C = 0.40R + 0.25S + 0.20E + 0.15Q', () => {
    const exps = [
      root,
      proposal(),
      ex('y', { value: 1.02, premiseKey: 'r', status: 'discard' }),
      ex('z', { value: 0.97, premiseKey: 'x', reproductions: reps([0.972, null, 0.969]) }),
      ex('c', { status: 'crash', premiseKey: 'z' }),
    ];
    for (const s of score(exps).values()) {
      for (const v of [s.value, ...Object.values(s.components)]) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
      const { reproduction: R, statistics: S, effect: E, code: Q } = s.components;
      expect(s.value).toBeCloseTo(0.4 * R + 0.25 * S + 0.2 * E + 0.15 * Q, 14);
      expect(s.statsVersion).toBe(7);
    }
    // other weights are honoured (normalised when they do not sum to 1)
    const w = { reproduction: 1, statistics: 1, effect: 1, code: 1 };
    const s = one(proposal(), { project: makeProject({ weights: w }) });
    const c = s.components;
    expect(s.value).toBeCloseTo((c.reproduction + c.statistics + c.effect + c.code) / 4, 14);
  });

  it('scores a root S = E = 1 and makes it an anchor', () => {
    const s = score([root]).get('r')!;
    expect(s.components.statistics).toBe(1);
    expect(s.components.effect).toBe(1);
    expect(s.anchorEligible).toBe(true);
    expect(s.delta).toBeNull();
    expect(s.nP).toBe(0);
    expect(s.nX).toBe(3);
    expect(codes(s)).toEqual(expect.arrayContaining(['root', 'anchor']));
    expect(s.level!.mean).toBeCloseTo((1 + 0.998 + 1.003) / 3, 12);
    expect(s.level!.sd).toBeCloseTo(0.004 / Math.sqrt(3), 12);
  });

  it('measures an improvement against its premise level in the direction of the metric', () => {
    const s = one(proposal({ value: 0.98 }));
    // minimize: d = −(0.98 − m_r), m_r is r's mean (no other proposals on r); d/√V ≈ 4.4
    const mr = (1 + 0.998 + 1.003) / 3;
    expect(s.delta).toBeCloseTo(mr - 0.98, 12);
    expect(s.V).toBeCloseTo(0.004 ** 2 / 3 + 0.004 ** 2, 14);
    expect(s.premiseLevel).toMatchObject({ source: 'premise' });
    expect(s.premiseLevel!.mean).toBeCloseTo(mr, 12);
    expect(s.components.statistics).toBeGreaterThan(0.9);
    expect(s.components.effect).toBeGreaterThan(0.5);
    expect(s.mu!.mean).toBeGreaterThan(0);
    expect(s.hardGate).toBeNull();
    const worse = one(proposal({ value: 1.01 }));
    expect(worse.delta!).toBeLessThan(0);
    expect(worse.components.statistics).toBeLessThan(0.05);
    expect(worse.components.effect).toBeLessThan(0.5);
  });

  it('hard-gates a crash with Q = 0, S = E = 0', () => {
    const s = one(ex('x', { status: 'crash', premiseKey: 'r', code: clean }));
    expect(s).toMatchObject({ hardGate: 'crash', components: { code: 0, statistics: 0, effect: 0 }, anchorEligible: false });
    expect(codes(s)).toContain('no_value');
  });

  it('hard-gates a discard and an unknown status', () => {
    expect(one(proposal({ status: 'discard' })).hardGate).toBe('discard');
    expect(one(proposal({ status: 'unknown' })).hardGate).toBe('unknown_status');
    // a reproduced discard far above its premise is still no anchor
    const d = one(proposal({ status: 'discard', value: 0.95, reproductions: reps([0.95, 0.951, 0.949]) }));
    expect(d.anchorEligible).toBe(false);
  });

  it('hard-gates a changed protected path, before the status gate; the root is exempt', () => {
    const prot = { paths: [{ path: 'eval/metric.py', added: 1, removed: 0 }] };
    const s = one(proposal({ status: 'discard', code: prot }));
    expect(s.hardGate).toBe('protected_path');
    expect(s.components.code).toBe(0);
    expect(codes(s)).toEqual(expect.arrayContaining(['protected_path', 'discard']));
    const r = score([ex('r', { value: 1, code: { paths: [{ path: 'prepare.py', added: 200, removed: 0 }] } })]).get('r')!;
    expect(r.hardGate).toBeNull();
    expect(r.components.code).toBe(1);
    expect(r.anchorEligible).toBe(true);
  });

  it('bounds the review shift of Q to [−0.3, +0.1] and never applies it to a hard-gated Q', () => {
    const withReview = (x: ObservedExperiment, adjustment: number) =>
      one(x, { reviews: new Map([[x.key, { adjustment, reasons: [{ code: 'review_note', message: 'a review' }] }]]) });
    expect(withReview(proposal(), 0.5).components.code).toBe(1); // 1 + 0.1, clamped to 1
    expect(withReview(proposal({ code: undefined }), 0.5).components.code).toBeCloseTo(0.6, 15); // 0.5 + 0.1
    const down = withReview(proposal(), -1);
    expect(down.components.code).toBeCloseTo(0.7, 15);
    expect(codes(down)).toEqual(expect.arrayContaining(['review_note', 'review']));
    expect(withReview(proposal(), NaN).components.code).toBe(1);
    const gated = withReview(ex('x', { status: 'crash', premiseKey: 'r' }), 0.1);
    expect(gated.components.code).toBe(0);
    expect(codes(gated)).toContain('review_not_applied');
  });

  it('falls back to S = E = 0.5 without σ̂, and to S = E = 0 without a value', () => {
    const noSigma = one(proposal(), { stats: makeStats({ sigma: null, sigmaSource: 'none', nu: 0 }) });
    expect(noSigma.components).toMatchObject({ statistics: 0.5, effect: 0.5 });
    expect(noSigma.sigma).toBeNull();
    expect(noSigma.level).toBeNull();
    expect(codes(noSigma)).toContain('sigma_unavailable');
    const noValue = one(ex('x', { value: null, premiseKey: 'r' }));
    expect(noValue.components).toMatchObject({ statistics: 0, effect: 0 });
    expect(codes(noValue)).toContain('no_value');
  });

  it('compares with the recorded baseline, read as one run, when the premise is unknown', () => {
    const s = one(proposal({ premiseKey: 'gone' }));
    expect(s.premiseLevel).toMatchObject({ source: 'baseline' });
    expect(s.premiseLevel!.mean).toBeCloseTo(1.0, 14);
    expect(s.premiseLevel!.sd).toBeCloseTo(0.004, 14);
    expect(s.delta).toBeCloseTo(0.01, 14);
    expect(s.V).toBeCloseTo(2 * 0.004 ** 2, 14);
    expect(codes(s)).toContain('baseline_reference');
    expect(s.components.statistics).not.toBe(1); // not a root
    const noRef = one(ex('x', { value: 0.99, premiseKey: 'gone' }));
    expect(noRef.components).toMatchObject({ statistics: 0.5, effect: 0.5 });
    expect(codes(noRef)).toContain('no_reference');
  });

  it('reports where σ̂ came from and integrates over σ below ν = 30', () => {
    expect(codes(one(proposal(), { stats: makeStats({ sigmaSource: 'mad', nu: 2 }) }))).toEqual(
      expect.arrayContaining(['sigma_from_mad', 'sigma_integrated']),
    );
    expect(codes(one(proposal()))).toContain('sigma_prior_only');
    expect(codes(one(proposal()))).not.toContain('sigma_integrated');
    expect(codes(one(proposal(), { stats: makeStats({ sigmaFloored: true }) }))).toContain('sigma_floor');
    const zero = one(proposal(), { stats: makeStats({ sigma: 0 }) });
    expect(zero.sigma).toBeGreaterThan(0);
    expect(Number.isFinite(zero.z)).toBe(true);
  });

  it('R: failed reproductions lower the run rate; reproductions above the premise raise R', () => {
    const none = one(proposal());
    expect(none.runSuccess).toBeCloseTo(19 / 20, 14); // Beta(19, 1) prior mean
    const failed = one(proposal({ reproductions: reps([null, null]) }));
    expect(failed.reproductions).toEqual({ finished: 2, successes: 0 });
    expect(failed.runSuccess).toBeCloseTo(19 / 22, 14);
    expect(failed.components.reproduction).toBeLessThan(none.components.reproduction);
    const good = one(proposal({ reproductions: reps([0.99, 0.991, 0.989]) }));
    expect(good.reproductions).toEqual({ finished: 3, successes: 3 });
    expect(good.components.reproduction).toBeGreaterThan(none.components.reproduction);
    const bad = one(proposal({ reproductions: reps([1.0, 1.002, 1.001]) }));
    expect(bad.components.reproduction).toBeLessThan(none.components.reproduction);
  });

  describe('anchors (SPEC §4, the cumulative test)', () => {
    const up = makeProject({ metric: { name: 'acc', direction: 'maximize' } });
    const stats = makeStats({ sigma: 1, nu: 100 });
    const base = ex('r', { value: 0, replicates: [0.1, -0.1, 0.05, -0.05, 0, 0.02, -0.02] });

    it('makes a reproduced keep whose level is verified above its nearest anchor an anchor', () => {
      const exps = [base, ex('x', { value: 4, premiseKey: 'r', reproductions: reps([3.8, 4.1]) })];
      const s = scoreProject({ project: up, experiments: exps, stats });
      const x = s.get('x')!;
      expect(x.chain!.nearestAnchor).toBe('r');
      expect(probAboveLevel(x.chain!.full!, s.get('r')!.chain!.full!)).toBeGreaterThan(0.99);
      expect(x.anchorEligible).toBe(true);
      expect(codes(x)).toContain('anchor');
      // the same values without a reproduction of its own: no anchor
      const unreproduced = scoreProject({ project: up, experiments: [base, ex('x', { value: 4, premiseKey: 'r', replicates: [3.8, 4.1] })], stats });
      expect(unreproduced.get('x')!.anchorEligible).toBe(false);
      // nor when the reproductions fall back to the premise's level
      const fell = scoreProject({ project: up, experiments: [base, ex('x', { value: 4, premiseKey: 'r', reproductions: reps([0.1, -0.2]) })], stats });
      expect(fell.get('x')!.anchorEligible).toBe(false);
      expect(codes(fell.get('x')!)).toContain('not_anchor');
    });

    it('re-anchors a chain of small real gains, none provable alone, once their sum is provable', () => {
      // five steps of +0.8σ, each run 4 times (value + 3 reproductions)
      const keys = ['a', 'b', 'c', 'd', 'e'];
      const exps = [
        base,
        ...keys.map((k, i) => {
          const v = 0.8 * (i + 1);
          return ex(k, { value: v, premiseKey: i === 0 ? 'r' : keys[i - 1], reproductions: reps([v - 0.1, v, v - 0.05]) });
        }),
      ];
      const s = scoreProject({ project: up, experiments: exps, stats });
      // each step alone is far from provable
      for (const k of keys) expect(s.get(k)!.components.statistics).toBeLessThan(0.92);
      expect(s.get('a')!.anchorEligible).toBe(false);
      expect(codes(s.get('a')!)).toContain('not_anchor');
      // some later commit is verified above the root, the nearest anchor, by the cumulative test
      const first = keys.findIndex((k) => s.get(k)!.anchorEligible);
      expect(first).toBeGreaterThanOrEqual(1);
      for (const k of keys.slice(0, first + 1)) expect(s.get(k)!.chain!.nearestAnchor).toBe('r');
      expect(codes(s.get(keys[first])!)).toContain('anchor');
      // the commit after it is tested against the new anchor
      if (first + 1 < keys.length) expect(s.get(keys[first + 1])!.chain!.nearestAnchor).toBe(keys[first]);
      // a hard-gated ancestor below the nearest anchor blocks it
      const gatedExps = exps.map((e) => (e.key === 'a' ? { ...e, code: { paths: [{ path: 'eval/x.py', added: 1, removed: 0 }] } } : e));
      const gated = scoreProject({ project: up, experiments: gatedExps, stats });
      for (const k of keys) expect(gated.get(k)!.anchorEligible).toBe(false);
    });
  });
});

describe('normalizedWeights', () => {
  it('normalises weights that do not sum to 1 and replaces unusable ones by the defaults', () => {
    expect(normalizedWeights({ reproduction: 2, statistics: 1, effect: 1, code: 0 })).toEqual({ reproduction: 0.5, statistics: 0.25, effect: 0.25, code: 0 });
    expect(normalizedWeights({ reproduction: NaN, statistics: -1, effect: 0, code: 0 })).toEqual({ reproduction: 0.4, statistics: 0.25, effect: 0.2, code: 0.15 });
    const w = { reproduction: 0.4, statistics: 0.25, effect: 0.2, code: 0.15 };
    expect(normalizedWeights(w)).toEqual(w);
  });
});
