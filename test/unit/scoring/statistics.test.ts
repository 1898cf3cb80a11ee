import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PI,
  FIT_GRID,
  fitPiTau,
  logMarginalLikelihood,
  PI_MAX,
  PI_MIN,
  posterior,
  TAU_MAX,
  TAU_MIN,
} from '../../../src/domain/scoring/statistics.js';
import { rng } from './fixtures.js';

const close = (a: number, b: number, tol: number): void => {
  expect(Math.abs(a - b)).toBeLessThanOrEqual(tol);
};

describe('S = P(μ > 0 | z), normal model (ν ≥ 30)', () => {
  // Reference: mpmath, straight from SPEC §3:
  //   s2 = 1 + τ²; a = π·m.npdf(z, 0, m.sqrt(s2)); n = (1 − π)·m.npdf(z, 0, 1)
  //   S = a·m.ncdf(z·τ/m.sqrt(s2))/(a + n); P(real|z) = a/(a + n)
  const cases: Array<[number, number, number, number, number]> = [
    // z, π, τ, S, P(real|z)
    [2, 0.2, 2, 0.343279958459076, 0.356402386046689],
    [-1.5, 0.2, 2, 0.0193803163704505, 0.215681345735022],
    [0, 0.5, 1, 0.207106781186548, 0.414213562373095],
    [3.3, 0.05, 0.7, 0.199349701212658, 0.205349424049929],
  ];
  it.each(cases)('z=%f π=%f τ=%f', (z, pi, tau, s, pReal) => {
    const p = posterior(z, pi, tau, Infinity);
    close(p.s, s, 1e-13);
    close(p.pReal, pReal, 1e-13);
    // ν ≥ 30 is the normal model
    expect(posterior(z, pi, tau, 30).s).toBe(p.s);
  });

  it('is exact in the tails where plain densities underflow (|z| = 60 … 1e6)', () => {
    // mpmath: S(60, .2, 2) = 1.0 to 30 digits; S(−60, .2, 2) = 3.07e-628 (below double range)
    expect(posterior(60, 0.2, 2, Infinity).s).toBe(1);
    expect(posterior(-60, 0.2, 2, Infinity).s).toBe(0);
    expect(posterior(-60, 0.2, 2, Infinity).pReal).toBe(1);
    for (const z of [-1e6, -1e3, 1e3, 1e6]) {
      const p = posterior(z, 0.2, 2, Infinity);
      expect(p.s).toBe(z > 0 ? 1 : 0);
      expect(Number.isFinite(p.logMarginal)).toBe(true);
    }
  });
});

describe('S with Student-t (ν < 30)', () => {
  // Reference: the model integrated numerically over the uncertainty of σ̂, independent
  // of the closed (skew-t) form used in the code. z = w/√V, V = σ̂²/σ² ~ χ²_ν/ν,
  // w ~ N(0, 1) (null) or N(0, 1+τ²) with P(μ > 0 | w) = Φ(w·τ/√(1+τ²)):
  //   import mpmath as m; m.mp.dps = 30; s = m.sqrt(1 + τ**2)
  //   fV = lambda v: ν·m.exp((ν/2−1)·m.log(ν·v) − ν·v/2 − (ν/2)·m.log(2) − m.loggamma(ν/2))
  //   I = lambda g: m.quad(lambda v: fV(v)·m.sqrt(v)·g(z·m.sqrt(v)), [0, .1, 1, 10, m.inf])
  //   num = I(lambda w: m.npdf(w, 0, s)·m.ncdf(w·τ/s)); alt = I(lambda w: m.npdf(w, 0, s))
  //   nul = I(lambda w: m.npdf(w, 0, 1)); S = π·num/(π·alt + (1−π)·nul); P(real) = π·alt/(…)
  const cases: Array<[number, number, number, number, number, number]> = [
    // z, π, τ, ν, S, P(real|z)
    [2, 0.2, 2, 5, 0.277159134095832, 0.294648458777056],
    [-1.5, 0.2, 2, 2, 0.0238370785950068, 0.203466651620964],
    [3.3, 0.05, 0.7, 12, 0.106953693023474, 0.115281041965805],
    [60, 0.2, 2, 4, 0.857888384326774, 0.860746886634894],
    [-60, 0.2, 2, 4, 0.00285850230812056, 0.860746886634894],
  ];
  it.each(cases)('z=%f π=%f τ=%f ν=%f', (z, pi, tau, nu, s, pReal) => {
    const p = posterior(z, pi, tau, nu);
    close(p.s, s, 1e-12);
    close(p.pReal, pReal, 1e-12);
  });

  it('has the limits of the t model at |z| = 1e6', () => {
    // z → ∞: P(real|z) → π·s^ν/(π·s^ν + 1 − π), s² = 1 + τ² (both components have t tails);
    // P(μ > 0 | real, z) → T_{ν+1}(τ·√(ν+1)). Python: 0.2·25/(0.2·25 + 0.8) = 0.8620689655172414,
    // scipy.stats.t.cdf(2·math.sqrt(5), 5) = 0.9967168640862185.
    const p = posterior(1e6, 0.2, 2, 4);
    close(p.pReal, 0.8620689655172414, 1e-9);
    close(p.s, 0.8620689655172414 * 0.9967168640862185, 1e-9);
    const q = posterior(-1e6, 0.2, 2, 4);
    close(q.s, 0.8620689655172414 * (1 - 0.9967168640862185), 1e-9);
  });

  it('caps S at the values docs/scoring.md quotes for the defaults π = 0.2, τ = 2', () => {
    // python: s = math.sqrt(5); pr = 0.2·s**ν/(0.2·s**ν + 0.8); pr·stats.t.cdf(2·math.sqrt(ν+1), ν+1)
    const caps: Array<[number, number]> = [
      [2, 0.544300187123935],
      [3, 0.7305613725343699],
      [5, 0.9319576947395228],
      [10, 0.9987031910350008],
    ];
    for (const [nu, cap] of caps) close(posterior(1e9, 0.2, 2, nu).s, cap, 1e-9);
  });

  it('is non-decreasing in z', () => {
    for (const nu of [2, 5, 29, Infinity]) {
      let prev = -1;
      for (let z = -80; z <= 80; z += 0.25) {
        const s = posterior(z, 0.2, 2, nu).s;
        expect(s).toBeGreaterThanOrEqual(prev - 1e-15);
        prev = s;
      }
    }
  });
});

describe('π, τ by maximum marginal likelihood', () => {
  // 60 z's and the reference MLE from scipy (L-BFGS-B from 5 starts, bounds as in the code):
  //   rng = np.random.default_rng(7); real = rng.random(60) < 0.3
  //   z = np.round(np.where(real, rng.normal(0, 3, 60), 0) + rng.normal(0, 1, 60), 3)
  //   nll = lambda p: -np.sum(np.logaddexp(np.log(p[0]) + la(p[1]), np.log1p(-p[0]) + ln))
  //   normal: la = norm.logpdf(z, 0, s), ln = norm.logpdf(z);
  //   ν = 6:  la = t.logpdf(z/s, 6) − log s, ln = t.logpdf(z, 6)
  const zs = [
    0.193, 0.089, -0.591, 0.263, -1.998, -1.131, -0.226, -2.129, 0.847, -1.746, 0.757, 1.095,
    -5.198, 0.131, -1.537, 1.249, 1.442, -0.066, -0.274, -0.16, 3.595, -0.185, -0.543, 1.007,
    -1.156, -0.626, -1.278, 1.257, -0.154, 0.966, 0.013, -0.767, 1.678, -1.58, 0.008, -0.391, -0.3,
    -5.251, -0.807, -3.411, -6.777, -1.054, 0.337, 1.407, -1.454, -0.209, -2.504, -1.761, 0.735,
    -0.023, 0.071, -0.752, 2.015, -0.539, -0.143, -1.002, -1.216, 1.336, -0.507, 0.292,
  ];

  it('matches the scipy MLE (normal)', () => {
    const f = fitPiTau(zs, Infinity);
    close(f.pi, 0.1824685861814341, 1e-4);
    close(f.tau, 3.3865725492662095, 1e-3);
    close(f.logLik, -109.62164165037592, 1e-8);
    close(logMarginalLikelihood(zs, f.pi, f.tau, Infinity), f.logLik, 1e-9);
  });

  it('matches the scipy MLE (Student-t, ν = 6)', () => {
    const f = fitPiTau(zs, 6);
    close(f.pi, 0.13503525248440312, 1e-4);
    close(f.tau, 3.2080989546279586, 1e-3);
    close(f.logLik, -110.42453726566066, 1e-8);
  });

  it('is at least as likely as every nearby point and grid neighbour', () => {
    for (const nu of [Infinity, 6]) {
      const f = fitPiTau(zs, nu);
      const du =
        (Math.log(PI_MAX / (1 - PI_MAX)) - Math.log(PI_MIN / (1 - PI_MIN))) / (FIT_GRID - 1);
      const dv = Math.log(TAU_MAX / TAU_MIN) / (FIT_GRID - 1);
      const u = Math.log(f.pi / (1 - f.pi));
      const v = Math.log(f.tau);
      for (const a of [-1, -0.01, 0, 0.01, 1])
        for (const b of [-1, -0.01, 0, 0.01, 1]) {
          const pi = 1 / (1 + Math.exp(-(u + a * du)));
          const tau = Math.exp(v + b * dv);
          if (pi < PI_MIN || pi > PI_MAX || tau < TAU_MIN || tau > TAU_MAX) continue;
          expect(logMarginalLikelihood(zs, pi, tau, nu)).toBeLessThanOrEqual(f.logLik + 1e-9);
        }
    }
  });

  it('recovers the generating π = 0.3, τ = 3 from 3000 synthetic proposals', () => {
    const r = rng(2024);
    const synth: number[] = [];
    for (let i = 0; i < 3000; i++)
      synth.push((r.uniform() < 0.3 ? 3 * r.normal() : 0) + r.normal());
    const f = fitPiTau(synth, Infinity);
    expect(Math.abs(f.pi - 0.3)).toBeLessThan(0.05);
    expect(Math.abs(f.tau - 3)).toBeLessThan(0.4);
  });

  it('is deterministic and stays within its bounds', () => {
    expect(fitPiTau(zs, 4)).toEqual(fitPiTau(zs, 4));
    const nulls = Array.from({ length: 100 }, (_, i) => Math.sin(i) * 0.8);
    const f = fitPiTau(nulls, Infinity);
    expect(f.pi).toBeGreaterThanOrEqual(PI_MIN);
    expect(f.pi).toBeLessThan(DEFAULT_PI);
    const huge = Array.from({ length: 40 }, (_, i) => (i % 2 ? 1 : -1) * 1e6 * (1 + i));
    const g = fitPiTau(huge, 3);
    expect(g.tau).toBeLessThanOrEqual(TAU_MAX);
    expect(g.pi).toBeLessThanOrEqual(PI_MAX);
    expect(Number.isFinite(g.logLik)).toBe(true);
  });
});
