import { describe, expect, it } from 'vitest';
import { posterior } from '../../../src/domain/scoring/statistics.js';
import { effectScore } from '../../../src/domain/scoring/effect.js';
import {
  normalizedWeights,
  scoreExperiment,
  type ScoreInput,
} from '../../../src/domain/scoring/index.js';
import { makeExperiment as ex, makeProject, makeStats } from './fixtures.js';

const codes = (s: { reasons: Array<{ code: string }> }): string[] => s.reasons.map((r) => r.code);
const project = makeProject();
const clean = { paths: [{ path: 'train.py', added: 10, removed: 2 }] };
const premise = ex('p', { value: 1.0, replicates: [0.998] }); // p̄ = 0.999, n_P = 2

function score(over: Partial<ScoreInput> = {}) {
  return scoreExperiment({
    project,
    experiment: ex('x', { value: 0.99, premiseKey: 'p', baseline: 1.0, code: clean }),
    premise,
    stats: makeStats(),
    ...over,
  });
}

describe('scoreExperiment', () => {
  it('follows SPEC §3 for an improvement over its premise', () => {
    const s = score();
    // by hand: δ = −(0.99 − 0.999) = 0.009, SE = 0.004·√(1 + 1/2), z = δ/SE; ν = 100 ⇒ normal
    const se = 0.004 * Math.sqrt(1.5);
    expect(s.delta).toBeCloseTo(0.009, 15);
    expect(s.z).toBeCloseTo(0.009 / se, 12);
    expect(s.nX).toBe(1);
    expect(s.nP).toBe(2);
    const post = posterior(0.009 / se, 0.2, 2, 100);
    expect(s.components.statistics).toBeCloseTo(post.s, 12);
    const e = effectScore({
      delta: 0.009,
      sigma: 0.004,
      pReal: post.pReal,
      tau: 2,
      minEffect: 0,
    }).e;
    expect(s.components.effect).toBeCloseTo(e, 12);
    expect(s.components.reproduction).toBe(0.5);
    expect(s.components.code).toBe(1);
    expect(s.value).toBeCloseTo(0.4 * 0.5 + 0.25 * post.s + 0.2 * e + 0.15, 12);
    expect(s.hardGate).toBeNull();
    expect(s.anchorEligible).toBe(false);
    expect(s.statsVersion).toBe(7);
    expect(s.sigma).toBe(0.004);
    expect(codes(s)).toEqual([
      'sigma_prior_only',
      'default_pi_tau',
      'statistics',
      'effect',
      'no_reproductions',
    ]);
    for (const r of s.reasons) expect(r.message.length).toBeGreaterThan(10);
  });

  it('scores a root S = E = 1 and anchors it when its level reproduces (R ≥ 0.8)', () => {
    const root = ex('r', {
      value: 1.0,
      reproductions: [
        { seed: 1, value: 1.003 },
        { seed: 2, value: 0.997 },
        { seed: 3, value: 1.001 },
      ],
    });
    const s = scoreExperiment({ project, experiment: root, premise: null, stats: makeStats() });
    expect(s.components).toMatchObject({ statistics: 1, effect: 1, reproduction: 0.8, code: 0.5 }); // (1+3)/(2+3)
    expect(s.z).toBeNull();
    expect(s.delta).toBeNull();
    expect(s.nP).toBe(0);
    expect(s.anchorEligible).toBe(true);
    expect(codes(s)).toContain('root');
    const two = scoreExperiment({
      project,
      experiment: { ...root, reproductions: root.reproductions.slice(0, 2) },
      premise: null,
      stats: makeStats(),
    });
    expect(two.anchorEligible).toBe(false); // 2 < replicates
  });

  it('anchors a non-root on S ≥ anchorMin after `replicates` reproductions, not on R', () => {
    const reps = [0.97, 0.972, 0.968].map((value, i) => ({ seed: i, value }));
    const strong = ex('x', { value: 0.97, premiseKey: 'p', code: clean, reproductions: reps });
    const s = score({ experiment: strong });
    expect(s.components.statistics).toBeGreaterThan(0.9);
    expect(s.anchorEligible).toBe(true);
    // all three succeed, but a marginal improvement is no anchor
    const weakReps = [0.997, 0.996, 0.998].map((value, i) => ({ seed: i, value }));
    const weak = score({
      experiment: ex('x', { value: 0.995, premiseKey: 'p', code: clean, reproductions: weakReps }),
    });
    expect(weak.reproductions).toEqual({ finished: 3, successes: 3 });
    expect(weak.components.statistics).toBeLessThan(0.9);
    expect(weak.anchorEligible).toBe(false);
  });

  it('compares with the recorded baseline (n_P = 1) when the premise is unknown', () => {
    const s = score({
      experiment: ex('x', { value: 0.99, premiseKey: 'gone', baseline: 1.0, code: clean }),
      premise: null,
    });
    expect(s.nP).toBe(1);
    expect(s.delta).toBeCloseTo(0.01, 15);
    expect(s.z).toBeCloseTo(0.01 / (0.004 * Math.SQRT2), 12);
    expect(codes(s)).toContain('baseline_reference');
    const noPremiseKey = score({
      experiment: ex('x', { value: 0.99, baseline: 1.0 }),
      premise: null,
    });
    expect(noPremiseKey.components.statistics).not.toBe(1); // not a root
  });

  it('falls back to 0.5 with no reference or no σ̂, and to 0 without a value', () => {
    const noRef = score({
      experiment: ex('x', { value: 0.99, premiseKey: 'gone' }),
      premise: null,
    });
    expect(noRef.components).toMatchObject({ statistics: 0.5, effect: 0.5 });
    expect(codes(noRef)).toContain('no_reference');
    const noSigma = score({ stats: makeStats({ sigma: null, sigmaSource: 'none', nu: 0 }) });
    expect(noSigma.components).toMatchObject({ statistics: 0.5, effect: 0.5 });
    expect(noSigma.z).toBeNull();
    expect(noSigma.delta).toBeCloseTo(0.009, 15);
    expect(codes(noSigma)).toContain('sigma_unavailable');
    const noValue = score({ experiment: ex('x', { value: null, premiseKey: 'p' }) });
    expect(noValue.components).toMatchObject({ statistics: 0, effect: 0 });
    expect(codes(noValue)).toContain('no_value');
  });

  it('reports where σ̂ came from', () => {
    expect(codes(score({ stats: makeStats({ sigmaSource: 'mad', nu: 2 }) }))).toContain(
      'sigma_from_mad',
    );
    expect(codes(score({ stats: makeStats({ sigmaSource: 'mad', nu: 2 }) }))).toContain(
      'student_t',
    );
    expect(codes(score({ stats: makeStats({ sigmaFloored: true }) }))).toContain('sigma_floor');
    const zero = score({ stats: makeStats({ sigma: 0 }) });
    expect(codes(zero)).toContain('sigma_floor');
    expect(zero.sigma).toBeGreaterThan(0);
    expect(Number.isFinite(zero.z)).toBe(true);
  });

  it('applies the hard gates whatever C says, in priority order', () => {
    expect(score({ experiment: ex('x', { status: 'crash', premiseKey: 'p' }) })).toMatchObject({
      hardGate: 'crash',
      components: { code: 0, statistics: 0, effect: 0 },
    });
    expect(
      score({
        experiment: ex('x', { status: 'discard', value: 0.9, premiseKey: 'p', code: clean }),
      }).hardGate,
    ).toBe('discard');
    expect(
      score({ experiment: ex('x', { status: 'unknown', value: 0.9, premiseKey: 'p' }) }).hardGate,
    ).toBe('unknown_status');
    const both = score({
      experiment: ex('x', {
        status: 'discard',
        value: 0.9,
        premiseKey: 'p',
        code: { paths: [{ path: 'prepare.py', added: 1, removed: 0 }] },
      }),
    });
    expect(both.hardGate).toBe('protected_path');
    expect(codes(both)).toEqual(expect.arrayContaining(['protected_path', 'discard']));
  });

  it('applies the review shift clamped to [−0.3, +0.1], never to a hard-gated Q', () => {
    const up = score({
      review: { adjustment: 0.5, reasons: [{ code: 'review_ok', message: 'looks fine' }] },
    });
    expect(up.components.code).toBe(1); // 1 + 0.1, clamped to 1
    const half = score({
      experiment: ex('x', { value: 0.99, premiseKey: 'p' }),
      review: { adjustment: 0.5, reasons: [] },
    });
    expect(half.components.code).toBeCloseTo(0.6, 15); // 0.5 + 0.1
    const down = score({
      review: {
        adjustment: -1,
        reasons: [{ code: 'review_eval_tampering', message: 'touches eval' }],
      },
    });
    expect(down.components.code).toBeCloseTo(0.7, 15);
    expect(codes(down)).toEqual(expect.arrayContaining(['review_eval_tampering', 'review']));
    const nan = score({ review: { adjustment: NaN, reasons: [] } });
    expect(nan.components.code).toBe(1);
    const gated = score({
      experiment: ex('x', { status: 'crash', premiseKey: 'p' }),
      review: { adjustment: 0.1, reasons: [] },
    });
    expect(gated.components.code).toBe(0);
    expect(codes(gated)).toContain('review_not_applied');
  });

  it('normalizes unusable weights', () => {
    expect(normalizedWeights({ reproduction: 2, statistics: 1, effect: 1, code: 0 })).toEqual({
      reproduction: 0.5,
      statistics: 0.25,
      effect: 0.25,
      code: 0,
    });
    expect(normalizedWeights({ reproduction: NaN, statistics: -1, effect: 0, code: 0 })).toEqual({
      reproduction: 0.4,
      statistics: 0.25,
      effect: 0.2,
      code: 0.15,
    });
    const w = { reproduction: 0.4, statistics: 0.25, effect: 0.2, code: 0.15 };
    expect(normalizedWeights(w)).toEqual(w);
  });
});
