import { describe, expect, it } from 'vitest';
import { fitPrior } from '../../../src/domain/scoring/ash.js';
import { computeProjectStats, defaultPrior, fitPoints, RUN_PRIOR, type ObservedExperiment } from '../../../src/domain/scoring/index.js';
import { makeExperiment as ex, makeProject, rng } from './fixtures.js';

const reps = (xs: (number | null)[]) => xs.map((value, seed) => ({ seed, value }));

/** Proposals on one well-measured root: a share `real` with N(0, effect²) effects, the rest none; σ = 0.01. */
function proposals(seed: number, n: number, real: number, effect: number): ObservedExperiment[] {
  const r = rng(seed);
  const exps: ObservedExperiment[] = [ex('k0', { value: 1, replicates: Array.from({ length: 9 }, () => 1 + 0.01 * r.normal()) })];
  for (let i = 1; i <= n; i++) {
    const mu = r.uniform() < real ? effect * r.normal() : 0;
    const value = 1 - mu + 0.01 * r.normal(); // minimize
    exps.push(ex(`k${i}`, { status: value < 1 ? 'keep' : 'discard', value, baseline: 1, premiseKey: 'k0' }));
  }
  return exps;
}

describe('computeProjectStats: noise', () => {
  it('pools within-commit groups with the prior as a scaled-inverse-χ² update', () => {
    // groups: [1, 1.02] (ss = 2·0.01² = 2e-4, df 1) and [0.99, 0.97, 0.98] (ss = 2e-4, df 2)
    const exps = [
      ex('a', { value: 1, replicates: [1.02] }),
      ex('b', { value: 0.99, replicates: [0.97], reproductions: reps([0.98, null]), premiseKey: 'a' }),
      ex('c', { value: 0.5, premiseKey: 'b' }), // single value: no group
    ];
    const withPrior = computeProjectStats({ project: makeProject({ sigma0: 0.01, nu0: 2 }), experiments: exps });
    expect(withPrior.sigmaSource).toBe('pooled+prior');
    expect(withPrior.nu).toBe(5);
    expect(withPrior.sigma!).toBeCloseTo(Math.sqrt((2 * 1e-4 + 4e-4) / 5), 14);
    expect(withPrior.sigmaKnown).toBe(true);
    const pooled = computeProjectStats({ project: makeProject(), experiments: exps });
    expect(pooled.sigmaSource).toBe('pooled');
    expect(pooled.nu).toBe(3);
    expect(pooled.sigma!).toBeCloseTo(Math.sqrt(4e-4 / 3), 14);
  });

  it('uses the prior alone with nothing repeated, the MAD of raw improvements without a prior, else none', () => {
    const single = [ex('a', { value: 1 }), ex('b', { value: 0.99, premiseKey: 'a' }), ex('c', { value: 1.02, premiseKey: 'a' }), ex('d', { value: 0.98, premiseKey: 'a' })];
    const prior = computeProjectStats({ project: makeProject({ sigma0: 0.01, nu0: 4 }), experiments: single });
    expect(prior).toMatchObject({ sigmaSource: 'prior', nu: 4, sigma: 0.01, sigmaKnown: true });
    const mad = computeProjectStats({ project: makeProject(), experiments: single });
    // improvements (minimize) 0.01, −0.02, 0.02: median 0.01, MAD = median(0, 0.03, 0.01) = 0.01
    expect(mad.sigmaSource).toBe('mad');
    expect(mad.nu).toBe(2);
    expect(mad.sigma!).toBeCloseTo((1.4826 * 0.01) / Math.SQRT2, 12);
    expect(mad.sigmaKnown).toBe(false);
    const none = computeProjectStats({ project: makeProject(), experiments: single.slice(0, 2) });
    expect(none).toMatchObject({ sigma: null, sigmaSource: 'none', fitted: false, sigmaKnown: false });
    expect(none.prior).toEqual(defaultPrior());
  });

  it('raises σ̂ to the floor when every repeat agrees exactly', () => {
    const s = computeProjectStats({ project: makeProject(), experiments: [ex('a', { value: 2, replicates: [2, 2] })] });
    expect(s.sigmaFloored).toBe(true);
    expect(s.sigma!).toBeGreaterThan(0);
    expect(s.sigma!).toBeLessThan(1e-5);
  });
});

describe('computeProjectStats: the effect prior', () => {
  const project = makeProject({ sigma0: 0.01, nu0: 10_000 });

  it('is refit on every non-crash proposal, keeps and discards alike', () => {
    const exps = proposals(3, 200, 0.3, 0.03);
    exps.push(ex('crashy', { status: 'crash', premiseKey: 'k0', baseline: 1 }));
    exps.push(ex('unk', { status: 'unknown', value: 1.001, premiseKey: 'k0', baseline: 1 }));
    const s = computeProjectStats({ project, experiments: exps });
    const keeps = exps.filter((e) => e.status === 'keep').length;
    expect(keeps).toBeGreaterThan(50);
    expect(keeps).toBeLessThan(150);
    // the 200 keeps and discards; no crash, no root, and no unknown row even with a value (issue 20)
    expect(s.nProposals).toBe(200);
    expect(s.fitted).toBe(true);
    // the same fit, by hand: points from the levels under g0, EM from g0
    const pts = fitPoints(project, exps, defaultPrior(), s.sigma!);
    expect(pts).toHaveLength(200);
    const fit = fitPrior(pts, s.sigma!);
    expect(s.prior).toEqual(fit.prior);
    expect(s.logLik).toBe(fit.logLik);
    expect(s.pi).toBeCloseTo(1 - fit.prior.null, 14);
    // the discards carry the regressions: a fit on keeps alone sees almost no losses
    const keepsOnly = computeProjectStats({ project, experiments: exps.filter((e) => e.status !== 'discard') });
    const losses = (g: typeof fit.prior) => g.losses.reduce((a, b) => a + b, 0);
    expect(losses(keepsOnly.prior!)).toBeLessThan(losses(s.prior!));
  });

  it('finds mostly large regressions when that is what the proposals are, and gains stay possible', () => {
    const r = rng(11);
    const exps: ObservedExperiment[] = [ex('k0', { value: 1, replicates: [1, 1.01, 0.99, 1] })];
    for (let i = 1; i <= 150; i++) {
      const mu = r.uniform() < 0.8 ? -0.08 * Math.abs(r.normal()) : 0.02; // 80% large regressions
      exps.push(ex(`k${i}`, { status: mu > 0 ? 'keep' : 'discard', value: 1 - mu + 0.01 * r.normal(), premiseKey: 'k0' }));
    }
    const s = computeProjectStats({ project, experiments: exps });
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(sum(s.prior!.losses)).toBeGreaterThan(0.6);
    expect(sum(s.prior!.gains)).toBeGreaterThan(0.05);
  });

  it('keeps the previous prior with refitPrior: false, and refreshes σ̂', () => {
    const exps = proposals(5, 60, 0.3, 0.03);
    const first = computeProjectStats({ project, experiments: exps });
    const more = [...exps, ...proposals(6, 60, 0.9, 0.05).slice(1).map((e) => ({ ...e, key: `m${e.key}` })), ex('rep', { value: 1, replicates: [1.05] })];
    const kept = computeProjectStats({ project, experiments: more, previous: first, refitPrior: false });
    expect(kept.prior).toBe(first.prior);
    expect(kept.nProposals).toBe(first.nProposals);
    expect(kept.logLik).toBe(first.logLik);
    expect(kept.sigma).not.toBe(first.sigma); // the new group entered σ̂
    const refit = computeProjectStats({ project, experiments: more, previous: first, observationCount: 999 });
    expect(refit.prior).not.toEqual(first.prior);
    expect(refit.nProposals).toBe(first.nProposals + 60);
    expect(refit.priorAtCount).toBe(999);
    expect(kept.priorAtCount).toBe(first.priorAtCount);
  });

  it('falls back to g0, unfitted, without proposals', () => {
    const s = computeProjectStats({ project, experiments: [ex('r', { value: 1, replicates: [1.01] })] });
    expect(s).toMatchObject({ fitted: false, nProposals: 0 });
    expect(s.prior).toEqual(defaultPrior());
    expect(s.pi).toBeCloseTo(0.6, 14);
  });
});

describe('computeProjectStats: run-success prior and version', () => {
  /** n experiments on a root, experiment i with ok[i % ok.length] of 4 reproductions that ran. */
  const reproduced = (n: number, ok: number[]): ObservedExperiment[] => [
    ex('r', { value: 1 }),
    ...Array.from({ length: n }, (_, i) =>
      ex(`x${i}`, { value: 0.99, premiseKey: 'r', reproductions: reps([0, 1, 2, 3].map((j) => (j < ok[i % ok.length] ? 0.99 : null))) }),
    ),
  ];

  it('is Beta(19, 1) under 10 reproduced experiments', () => {
    const s = computeProjectStats({ project: makeProject({ sigma0: 0.01 }), experiments: reproduced(9, [1, 4]) });
    expect(s).toMatchObject({ alpha0: RUN_PRIOR.alpha, beta0: RUN_PRIOR.beta, betaFitted: false, nReproduced: 9 });
    expect(RUN_PRIOR).toEqual({ alpha: 19, beta: 1 });
  });

  it('counts no reproductions of unknown rows (issue 20)', () => {
    const exps = reproduced(9, [1, 4]);
    exps.push(ex('u', { status: 'unknown', value: 0.99, premiseKey: 'r', reproductions: reps([null, null]) }));
    const s = computeProjectStats({ project: makeProject({ sigma0: 0.01 }), experiments: exps });
    expect(s.nReproduced).toBe(9);
  });

  it('is fitted by moments from 10 reproduced experiments on', () => {
    const s = computeProjectStats({ project: makeProject({ sigma0: 0.01 }), experiments: reproduced(12, [2, 3, 4]) });
    expect(s.betaFitted).toBe(true);
    expect(s.nReproduced).toBe(12);
    // rates: four each of 1/2, 3/4, 1 → mean 3/4; python: np.var([.5]*4+[.75]*4+[1]*4, ddof=1) = 0.5/11
    //   strength = (3/4)(1/4)/(0.5/11) − 1 = 3.125
    expect(s.alpha0 / (s.alpha0 + s.beta0)).toBeCloseTo(0.75, 12);
    expect(s.alpha0 + s.beta0).toBeCloseTo(0.1875 / (0.5 / 11) - 1, 12);
  });

  it('increments the version it was given', () => {
    const project = makeProject();
    const first = computeProjectStats({ project, experiments: [] });
    expect(first.version).toBe(1);
    expect(computeProjectStats({ project, experiments: [], previous: first }).version).toBe(2);
    expect(computeProjectStats({ project, experiments: [], previousVersion: 41 }).version).toBe(42);
    expect(computeProjectStats({ project, experiments: [], previous: { ...first, version: 9 }, previousVersion: 41 }).version).toBe(10);
  });
});
