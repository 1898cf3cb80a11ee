import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  defaultPrior,
  effectPosterior,
  expectedBeat,
  fitPrior,
  GRID_SCALES,
  normInv,
  posteriorMoments,
  priorWeights,
  probAbove,
  truncatedMoments,
  type AshPrior,
} from '../../../src/domain/scoring/ash.js';

/**
 * Oracle values: the exact posterior of μ under g0 (point mass + half-normals, σ̂ = 1) integrated
 * numerically with mpmath.quad at 30 digits (script in docs/scoring.md, "How the tests check it"):
 * S = P(μ > 0 | d), E[μ | d], E[Φ(μ)] and log p(d).
 */
const ORACLE = [
  { d: 2.0, V: 1.5, S: 0.38030525875255244, mean: 0.4460927676484269, beat: 0.6068653103897635, logMarginal: -2.625195497387714 },
  { d: -1.0, V: 2.0, S: 0.08620177644095081, mean: -0.3935356836452616, beat: 0.392062239032681, logMarginal: -1.660754317843719 },
  { d: 0.5, V: 0.3, S: 0.20371504654340847, mean: 0.07199635361317328, beat: 0.5247195979238918, logMarginal: -1.2235872814827315 },
  { d: 3.0, V: 1.1, S: 0.827541111293431, mean: 1.861756664446932, beat: 0.8624595068454747, logMarginal: -4.0399573660127714 },
  { d: 8.0, V: 1.0, S: 0.9999999999973, mean: 7.426613906134965, beat: 0.9999999307773645, logMarginal: -7.1221828249334695 },
  { d: -6.0, V: 0.5, S: 8.642273489928403e-17, mean: -5.848756592104475, beat: 9.545881609067837e-7, logMarginal: -4.336011647376051 },
];

describe('effect posterior under the adaptive-shrinkage prior', () => {
  it('has g0 of SPEC §3: 40% null, 15% gains on 0.5–4σ̂, 45% losses on 0.5–8σ̂', () => {
    const g = defaultPrior();
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(g.null).toBe(0.4);
    expect(sum(g.gains)).toBeCloseTo(0.15, 12);
    expect(sum(g.losses)).toBeCloseTo(0.45, 12);
    const support = (ws: number[]) => GRID_SCALES.filter((_, k) => ws[k] > 0);
    expect(support(g.gains)).toEqual(GRID_SCALES.filter((s) => s >= 0.5 - 1e-12 && s <= 4 + 1e-12));
    expect(support(g.losses)).toEqual(GRID_SCALES.filter((s) => s >= 0.5 - 1e-12 && s <= 8 + 1e-12));
  });

  it.each(ORACLE)('matches numerical integration at d = $d, V = $V', (c) => {
    const p = effectPosterior(defaultPrior(), c.d, c.V, 1);
    expect(p.logMarginal).toBeCloseTo(c.logMarginal, 10);
    // S in log terms where it is tiny
    if (c.S < 1e-6) expect(Math.log(probAbove(p, 0))).toBeCloseTo(Math.log(c.S), 6);
    else expect(probAbove(p, 0)).toBeCloseTo(c.S, 10);
    expect(posteriorMoments(p).mean).toBeCloseTo(c.mean, 9);
    // 16-point Gauss–Legendre over each part's quantiles: within 1e-4 of the quadrature.
    expect(expectedBeat(p, 1)).toBeCloseTo(c.beat, 4);
  });

  it('stays finite and ordered for |d|/√V far beyond 50', () => {
    for (const d of [-1e6, -500, 500, 1e6]) {
      const p = effectPosterior(defaultPrior(), d, 1, 1);
      const m = posteriorMoments(p);
      expect(Number.isFinite(m.mean) && Number.isFinite(m.variance)).toBe(true);
      expect(probAbove(p, 0)).toBe(d > 0 ? 1 : 0);
      expect(Math.sign(m.mean)).toBe(Math.sign(d));
    }
  });

  it('truncated moments: the asymptotic series joins the direct formula (mpmath at μ = −35)', () => {
    // mpmath at 50 digits, μ + φ(a)/Φ(−a) and 1 − λ(λ − a): N(−35, 1) on (0, ∞) has mean
    // 0.02852497059668787 and variance 0.0008123551683826327.
    const t = truncatedMoments(1, -35, 1);
    expect(Math.abs(t.mean / 0.02852497059668787 - 1)).toBeLessThan(1e-7);
    expect(Math.abs(t.variance / 0.0008123551683826327 - 1)).toBeLessThan(1e-6);
    const a = truncatedMoments(1, -29.999, 1);
    const b = truncatedMoments(1, -30.001, 1);
    expect(Math.abs(a.mean - b.mean) / a.mean).toBeLessThan(1e-4);
    expect(truncatedMoments(-1, 35, 1).mean).toBeCloseTo(-0.02852497059668787, 8);
  });

  it('normInv matches Φ⁻¹ (mpmath erfinv)', () => {
    expect(normInv(0.975)).toBeCloseTo(1.9599639845400543, 12);
    expect(normInv(1e-10)).toBeCloseTo(-6.361340902404057, 10);
    expect(normInv(0.3)).toBeCloseTo(-0.5244005127080408, 12);
  });

  it('S rises with d and falls with minEffect (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: -20, max: 20, noNaN: true }), fc.double({ min: 0.01, max: 20, noNaN: true }), fc.double({ min: 0.001, max: 3, noNaN: true }), (d, V, step) => {
        const g = defaultPrior();
        const lo = probAbove(effectPosterior(g, d, V, 1), 0);
        const hi = probAbove(effectPosterior(g, d + step, V, 1), 0);
        expect(hi).toBeGreaterThanOrEqual(lo - 1e-12);
        expect(probAbove(effectPosterior(g, d, V, 1), step)).toBeLessThanOrEqual(lo + 1e-12);
      }),
      { numRuns: 300 },
    );
  });

  it('is calibrated on data drawn from a known prior: mean S among S ≥ 0.92 ≈ share really > 0', () => {
    // μ from a prior of the grid's family (the truth), d = μ + N(0, V); S computed under the truth.
    const truth: AshPrior = { null: 0.3, gains: GRID_SCALES.map((s) => (s === 2 ? 0.2 : 0)), losses: GRID_SCALES.map((s) => (s === 4 ? 0.5 : 0)) };
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    const points: { d: number; mu: number }[] = [];
    for (let i = 0; i < 20000; i++) {
      const u = rnd();
      const mu = u < 0.3 ? 0 : u < 0.5 ? 2 * Math.abs(gauss()) : -4 * Math.abs(gauss());
      points.push({ mu, d: mu + gauss() * Math.SQRT1_2 });
    }
    const check = (g: AshPrior) => {
      const acc = points.map((p) => ({ ...p, s: probAbove(effectPosterior(g, p.d, 0.5, 1), 0) })).filter((p) => p.s >= 0.92);
      const meanS = acc.reduce((a, p) => a + p.s, 0) / acc.length;
      const real = acc.filter((p) => p.mu > 0).length / acc.length;
      return { n: acc.length, meanS, real };
    };
    const exact = check(truth);
    expect(exact.n).toBeGreaterThan(1000);
    expect(exact.real).toBeGreaterThan(0.92);
    expect(Math.abs(exact.meanS - exact.real)).toBeLessThan(0.015);
    // The EM fit from the same data (no truth given) is calibrated within a few points too.
    const fitted = check(fitPrior(points.map((p) => ({ d: p.d, V: 0.5 })), 1).prior);
    expect(Math.abs(fitted.meanS - fitted.real)).toBeLessThan(0.03);
  });

  it('EM recovers where the gains and losses are, with weights summing to 1', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    const pts = Array.from({ length: 3000 }, () => {
      const u = rnd();
      const mu = u < 0.2 ? 0 : u < 0.5 ? 2 * Math.abs(gauss()) : -8 * Math.abs(gauss());
      return { d: mu + gauss(), V: 1 };
    });
    const { prior } = fitPrior(pts, 1);
    const w = priorWeights(prior);
    expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const gain = prior.gains.reduce((a, b) => a + b, 0);
    const loss = prior.losses.reduce((a, b) => a + b, 0);
    expect(gain).toBeGreaterThan(0.22);
    expect(gain).toBeLessThan(0.38);
    expect(loss).toBeGreaterThan(0.42);
    const meanScale = (ws: number[]) => ws.reduce((a, x, k) => a + x * GRID_SCALES[k], 0) / ws.reduce((a, b) => a + b, 0);
    expect(meanScale(prior.losses)).toBeGreaterThan(2 * meanScale(prior.gains));
  });
});
