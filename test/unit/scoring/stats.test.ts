import { describe, expect, it } from 'vitest';
import { computeProjectStats, statsMovedMaterially } from '../../../src/domain/scoring/index.js';
import { fitPiTau } from '../../../src/domain/scoring/statistics.js';
import { proposalZs } from '../../../src/domain/scoring/stats.js';
import type { ObservedExperiment } from '../../../src/domain/scoring/index.js';
import { makeExperiment as ex, makeProject, makeStats, rng } from './fixtures.js';

/** A keep-if-better chain: n proposals on a root, fraction `real` with N(0, effect²) gains. */
function loop(
  seed: number,
  n: number,
  real: number,
  effect: number,
  sigma = 0.01,
): ObservedExperiment[] {
  const r = rng(seed);
  const exps: ObservedExperiment[] = [ex('k0', { value: 1 })];
  let best = 'k0';
  let bestValue = 1;
  let level = 1;
  for (let i = 1; i <= n; i++) {
    const mu = r.uniform() < real ? effect * r.normal() : 0;
    const value = level - mu + sigma * r.normal();
    const keep = value < bestValue;
    exps.push(
      ex(`k${i}`, {
        status: keep ? 'keep' : 'discard',
        value,
        baseline: bestValue,
        premiseKey: best,
      }),
    );
    if (keep) {
      best = `k${i}`;
      bestValue = value;
      level -= mu;
    }
  }
  return exps;
}

describe('computeProjectStats', () => {
  it('uses defaults below 30 proposals and Beta(1, 1) below 10 reproduced experiments', () => {
    const s = computeProjectStats({
      project: makeProject({ sigma0: 0.01 }),
      experiments: loop(1, 20, 0.3, 0.03),
    });
    expect(s).toMatchObject({
      version: 1,
      pi: 0.2,
      tau: 2,
      fitted: false,
      nProposals: 20,
      alpha0: 1,
      beta0: 1,
      betaFitted: false,
    });
    expect(s.logLik).toBeUndefined();
  });

  it('bumps the version it was given', () => {
    expect(
      computeProjectStats({ project: makeProject(), experiments: [], previousVersion: 41 }).version,
    ).toBe(42);
  });

  it('fits π, τ over keeps and discards alike (not crashes, not roots)', () => {
    // Proposals on one well-measured root (20 replicates), so that p̄ is not a lucky winner:
    // in a keep-if-better chain the premise's single value is selected low, which biases
    // the next z's (see docs/scoring.md, "Known limitations").
    const r = rng(3);
    const exps: ObservedExperiment[] = [
      ex('k0', { value: 1, replicates: Array.from({ length: 19 }, () => 1 + 0.01 * r.normal()) }),
    ];
    for (let i = 1; i <= 400; i++) {
      const mu = r.uniform() < 0.3 ? 0.03 * r.normal() : 0;
      const value = 1 - mu + 0.01 * r.normal();
      exps.push(
        ex(`k${i}`, {
          status: value < 1 ? 'keep' : 'discard',
          value,
          baseline: 1,
          premiseKey: 'k0',
        }),
      );
    }
    exps.push(ex('crashy', { status: 'crash', premiseKey: 'k0', baseline: 1 }));
    exps.push(ex('unk', { status: 'unknown', value: 1.001, premiseKey: 'k0', baseline: 1 }));
    const project = makeProject({ sigma0: 0.01, nu0: 10_000 }); // σ known: ν ≥ 30, normal model
    const s = computeProjectStats({ project, experiments: exps });
    expect(s.nProposals).toBe(401); // 400 + the unknown with a value
    expect(s.fitted).toBe(true);
    const f = fitPiTau(proposalZs(project, exps, s.sigma as number), s.nu);
    expect(s.pi).toBe(f.pi);
    expect(s.tau).toBe(f.tau);
    expect(s.logLik).toBe(f.logLik);
    // generating values: π = 0.3; effects N(0, 0.03²) against SE = 0.01·√(1 + 1/20) are
    // τ = 0.03/0.01025 ≈ 2.9 in SE units
    expect(Math.abs(s.pi - 0.3)).toBeLessThan(0.1);
    expect(Math.abs(s.tau - 2.9)).toBeLessThan(0.8);
  });

  it('fits the Beta prior from ≥ 10 reproduced experiments', () => {
    const exps: ObservedExperiment[] = [ex('r', { value: 1 })];
    for (let i = 0; i < 12; i++)
      exps.push(
        ex(`x${i}`, {
          value: 0.99,
          premiseKey: 'r',
          // i % 3 successes out of 3 (minimize: success when below p̄ = 1)
          reproductions: [0, 1, 2].map((j) => ({ seed: j, value: j < i % 3 ? 0.99 : 1.01 })),
        }),
      );
    const s = computeProjectStats({ project: makeProject({ sigma0: 0.01 }), experiments: exps });
    expect(s.betaFitted).toBe(true);
    expect(s.nReproduced).toBe(12);
    // rates: four each of 0, 1/3, 2/3 → mean 1/3; python: np.var([0]*4+[1/3]*4+[2/3]*4, ddof=1) = 0.0808080…
    //   strength = (1/3)(2/3)/0.080808 − 1 = 1.75 (below the cap 3)
    expect(s.alpha0 / (s.alpha0 + s.beta0)).toBeCloseTo(1 / 3, 12);
    expect(s.alpha0 + s.beta0).toBeCloseTo(((1 / 3) * (2 / 3)) / (8 / 99) - 1, 12);
  });
});

describe('statsMovedMaterially', () => {
  const base = makeStats({
    sigma: 0.01,
    nu: 12,
    pi: 0.3,
    tau: 2,
    fitted: true,
    alpha0: 2,
    beta0: 2,
  });
  it.each([
    ['nothing', {}, false],
    ['σ +4%', { sigma: 0.0104 }, false],
    ['σ +6%', { sigma: 0.0106 }, true],
    ['σ vanished', { sigma: null }, true],
    ['σ source', { sigmaSource: 'pooled' as const }, true],
    ['ν 12 → 14', { nu: 14 }, false],
    ['ν 12 → 15', { nu: 15 }, true],
    ['ν crosses 30', { nu: 31 }, true],
    ['π +0.015', { pi: 0.315 }, false],
    ['π +0.03', { pi: 0.33 }, true],
    ['τ +9%', { tau: 2.18 }, false],
    ['τ +11%', { tau: 2.22 }, true],
    ['defaults ↔ fitted', { fitted: false }, true],
    ['Beta mean +0.01', { alpha0: 2.04, beta0: 1.96 }, false],
    ['Beta mean +0.03', { alpha0: 2.12, beta0: 1.88 }, true],
    ['Beta strength ×1.3', { alpha0: 2.6, beta0: 2.6 }, true],
    ['NaN', { pi: NaN }, true],
  ])('%s', (_name, change, moved) => {
    expect(statsMovedMaterially(base, { ...base, ...change })).toBe(moved);
  });

  it('ignores ν changes once both are in the normal regime', () => {
    expect(statsMovedMaterially({ ...base, nu: 40 }, { ...base, nu: 400 })).toBe(false);
  });
});
