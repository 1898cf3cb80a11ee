import { describe, expect, it } from 'vitest';
import { defaultPrior, GRID_SCALES, type AshPrior } from '../../../src/domain/scoring/ash.js';
import { scoreProject } from '../../../src/domain/scoring/score-project.js';
import { childMessage, computeLevels, stepLevel, type ChainNode, type Gaussian } from '../../../src/domain/scoring/levels.js';
import { makeExperiment as ex, makeProject, makeStats } from './fixtures.js';

/**
 * Oracle: the exact posterior of SPEC §3's chain model for one step, L_P ~ N(m, v), μ ~ g,
 * runs ~ N(L_P + μ, σ²/n), integrated numerically over a fine μ grid (composite Simpson on each
 * side of 0, step √V/4000, ±16√V around d, plus the point mass at 0). For each μ the rest is
 * conjugate-normal: the weight of μ is g(μ)·N(x̄; m + μ, v + σ²/n), and
 *  - L_X = L_P + μ has prior N(m + μ, v) and one observation x̄ with variance σ²/n;
 *  - L_P has prior N(m, v) and one observation x̄ − μ with variance σ²/n.
 * The moments of L_X (stepLevel) and of the tilted L_P (childMessage) follow by the laws of
 * total expectation and variance. This shares no code with ash.ts / levels.ts.
 */
function oracle(ref: Gaussian, xbar: number, noise: number, g: AshPrior, sigma: number) {
  const phi = (x: number, sd: number) => Math.exp(-0.5 * (x / sd) ** 2) / (sd * Math.sqrt(2 * Math.PI));
  const gDensity = (mu: number): number => {
    const ws = mu > 0 ? g.gains : g.losses;
    let s = 0;
    GRID_SCALES.forEach((rel, k) => {
      if (ws[k] > 0) s += ws[k] * 2 * phi(mu, rel * sigma);
    });
    return s;
  };
  const Vm = ref.v + noise;
  const cond = (mu: number) => {
    // L_X | μ: prior N(m + μ, v), obs x̄ with variance noise
    const px = 1 / ref.v + 1 / noise;
    const mx = ((ref.m + mu) / ref.v + xbar / noise) / px;
    // L_P | μ: prior N(m, v), obs x̄ − μ with variance noise
    const mp = (ref.m / ref.v + (xbar - mu) / noise) / px;
    return { w: phi(xbar - ref.m - mu, Math.sqrt(Vm)), mx, mp, vc: 1 / px };
  };
  // accumulators: Z, E[L_X], E[L_X²], E[L_P], E[L_P²]
  const acc = [0, 0, 0, 0, 0];
  const add = (weight: number, c: ReturnType<typeof cond>) => {
    const w = weight * c.w;
    acc[0] += w;
    acc[1] += w * c.mx;
    acc[2] += w * (c.vc + c.mx * c.mx);
    acc[3] += w * c.mp;
    acc[4] += w * (c.vc + c.mp * c.mp);
  };
  add(g.null, cond(0));
  const d = xbar - ref.m;
  const sdV = Math.sqrt(Vm);
  const N = 128_000; // even
  for (const [lo, hi] of [
    [Math.max(0, d - 16 * sdV), Math.max(0, d + 16 * sdV)],
    [Math.min(0, d - 16 * sdV), Math.min(0, d + 16 * sdV)],
  ]) {
    if (!(hi > lo)) continue;
    const h = (hi - lo) / N;
    for (let i = 0; i <= N; i++) {
      const mu = lo + i * h;
      const simpson = i === 0 || i === N ? 1 : i % 2 === 1 ? 4 : 2;
      // a node exactly at 0 belongs to the side being integrated (one-sided limit)
      const dens = mu === 0 ? gDensity(hi > 0 ? 1e-300 : -1e-300) : gDensity(mu);
      add((simpson * h * dens) / 3, cond(mu));
    }
  }
  const [Z, x1, x2, p1, p2] = acc;
  return {
    x: { m: x1 / Z, v: x2 / Z - (x1 / Z) ** 2 },
    tilt: { m: p1 / Z, v: p2 / Z - (p1 / Z) ** 2 },
  };
}

/** A prior with weight on every scale of the grid (as a fit may give), not only g0's support. */
function spreadPrior(): AshPrior {
  const K = GRID_SCALES.length;
  const gains = GRID_SCALES.map((_, k) => (k % 2 === 0 ? 0.3 : 0.1));
  const losses = GRID_SCALES.map((_, k) => (k < K / 2 ? 0.05 : 0.2));
  const total = 0.25 / gains.reduce((a, b) => a + b, 0);
  const totalL = 0.5 / losses.reduce((a, b) => a + b, 0);
  return { null: 0.25, gains: gains.map((x) => x * total), losses: losses.map((x) => x * totalL) };
}

const cases: { name: string; g: AshPrior; sigma: number; ref: Gaussian; runs: number[] }[] = [
  { name: 'g0, σ=1, small gain, 1 run', g: defaultPrior(), sigma: 1, ref: { m: 0, v: 0.5 }, runs: [1.2] },
  { name: 'g0, σ=1, big gain, 3 runs', g: defaultPrior(), sigma: 1, ref: { m: 2, v: 0.25 }, runs: [6, 5.5, 6.4] },
  { name: 'g0, σ=1, regression', g: defaultPrior(), sigma: 1, ref: { m: -1, v: 1 }, runs: [-3.5] },
  { name: 'g0, σ=1, did nothing', g: defaultPrior(), sigma: 1, ref: { m: 0.3, v: 0.2 }, runs: [0.3, 0.3] },
  { name: 'spread prior, σ=0.004 (metric units)', g: spreadPrior(), sigma: 0.004, ref: { m: 0.98, v: 0.004 ** 2 / 3 }, runs: [0.99, 0.987] },
  { name: 'spread prior, σ=2, far gain', g: spreadPrior(), sigma: 2, ref: { m: 10, v: 3 }, runs: [40] },
];

describe('stepLevel and childMessage against numerical integration of the exact posterior', () => {
  it.each(cases)('stepLevel: $name', ({ g, sigma, ref, runs }) => {
    const noise = (sigma * sigma) / runs.length;
    const xbar = runs.reduce((a, b) => a + b, 0) / runs.length;
    const want = oracle(ref, xbar, noise, g, sigma).x;
    const got = stepLevel(ref, runs, g, sigma);
    expect(got.d).toBeCloseTo(xbar - ref.m, 12);
    expect(got.V).toBeCloseTo(ref.v + noise, 12);
    const scale = sigma;
    expect(Math.abs(got.level.m - want.m) / scale).toBeLessThan(1e-7);
    expect(Math.abs(got.level.v - want.v) / (scale * scale)).toBeLessThan(1e-7);
  });

  it.each(cases)('childMessage: tilted mean and variance of the premise, $name', ({ g, sigma, ref, runs }) => {
    const noise = (sigma * sigma) / runs.length;
    const xbar = runs.reduce((a, b) => a + b, 0) / runs.length;
    const want = oracle(ref, xbar, noise, g, sigma).tilt;
    const msg = childMessage(ref, runs, g, sigma);
    if (want.v >= ref.v) {
      // the tilt widens the premise: no Gaussian message
      expect(msg).toBeNull();
      return;
    }
    expect(msg).not.toBeNull();
    const lam = 1 / ref.v + msg!.lambda;
    const mt = (ref.m / ref.v + msg!.eta) / lam;
    expect(Math.abs(mt - want.m) / sigma).toBeLessThan(1e-7);
    expect(Math.abs(1 / lam - want.v) / (sigma * sigma)).toBeLessThan(1e-7);
  });
});

const node = (key: string, premise: string | null, runs: number[], baseline: number | null = null): ChainNode => ({ key, premise, runs, baseline });
const g0 = defaultPrior();

describe('computeLevels', () => {
  it('gives a root its mean with variance σ²/n and no reference', () => {
    const { levels, order } = computeLevels([node('r', null, [1, 2, 4])], g0, 0.5);
    const r = levels.get('r')!;
    expect(order).toEqual(['r']);
    expect(r.reference).toBeNull();
    expect(r.d).toBeNull();
    expect(r.base!.m).toBeCloseTo(7 / 3, 14);
    expect(r.base!.v).toBeCloseTo(0.25 / 3, 14);
    expect(r.full).toEqual(r.base); // no proposals built on it
  });

  it('reads a recorded baseline as one run of the baseline commit, N(baseline, σ̂²)', () => {
    const { levels } = computeLevels([node('x', 'gone', [1.5], 1)], g0, 0.5);
    const x = levels.get('x')!;
    expect(x.reference).toEqual({ m: 1, v: 0.25, source: 'baseline' });
    expect(x.d).toBeCloseTo(0.5, 14);
    expect(x.V).toBeCloseTo(0.5, 14);
  });

  it('lets a proposal that did nothing sharpen its premise (a free reproduction)', () => {
    const runs = [0.1, -0.2, 0.1];
    const alone = computeLevels([node('p', null, runs)], g0, 1).levels.get('p')!;
    const { levels } = computeLevels([node('p', null, runs), node('x', 'p', [0])], g0, 1);
    const p = levels.get('p')!;
    expect(alone.base!.m).toBeCloseTo(0, 14);
    expect(p.base).toEqual(alone.base);
    expect(p.full!.v).toBeLessThan(p.base!.v);
    // X is judged against P without its own message: P's base here (no siblings)
    expect(levels.get('x')!.reference).toEqual({ ...p.base!, source: 'premise' });
  });

  it("uses as X's reference its premise's cavity: every sibling's message, not X's own", () => {
    const sigma = 1;
    const pRuns = [0, 0.4];
    const yRuns = [0.2];
    const build = (xRuns: number[]) =>
      computeLevels([node('p', null, pRuns), node('x', 'p', xRuns), node('y', 'p', yRuns)], g0, sigma).levels;
    const levels = build([0.9]);
    const base = levels.get('p')!.base!;
    const my = childMessage(base, yRuns, g0, sigma)!;
    const mx = childMessage(base, [0.9], g0, sigma)!;
    expect(my).not.toBeNull();
    expect(mx).not.toBeNull();
    const ref = levels.get('x')!.reference!;
    const lam = 1 / base.v + my.lambda;
    expect(ref.v).toBeCloseTo(1 / lam, 12);
    expect(ref.m).toBeCloseTo((base.m / base.v + my.eta) / lam, 12);
    // P's full level holds both messages, and differs from X's reference
    const full = levels.get('p')!.full!;
    const lamAll = lam + mx.lambda;
    expect(full.v).toBeCloseTo(1 / lamAll, 12);
    expect(full.m).toBeCloseTo((base.m / base.v + my.eta + mx.eta) / lamAll, 12);
    expect(full.v).toBeLessThan(ref.v);
    // X's own runs never move the reference X is judged against
    // (up to rounding: the cavity is the full level with X's message divided out)
    for (const xRuns of [[5], [-3, -2], [0.9, 0.9, 0.9]]) {
      const other = build(xRuns).get('x')!.reference!;
      expect(other.m).toBeCloseTo(ref.m, 12);
      expect(other.v).toBeCloseTo(ref.v, 12);
    }
  });

  it('computes a 10,000-deep chain without stack overflow', () => {
    const nodes: ChainNode[] = [node('c0', null, [0, 0.1])];
    for (let i = 1; i < 10_000; i++) nodes.push(node(`c${i}`, `c${i - 1}`, [i * 0.01]));
    const { levels, order } = computeLevels(nodes, g0, 0.1);
    expect(order).toHaveLength(10_000);
    expect(order[9_999]).toBe('c9999');
    for (const lv of levels.values()) {
      expect(Number.isFinite(lv.full!.m)).toBe(true);
      expect(lv.full!.v).toBeGreaterThan(0);
    }
  });

  it("moves the premise's full level with every discard built on it (scoreProject)", () => {
    const project = makeProject({ metric: { name: 'm', direction: 'maximize' } });
    const stats = makeStats({ sigma: 1, nu: 100 });
    const root = ex('p', { value: 0, replicates: [0.2, -0.2] });
    const level = (exps: ReturnType<typeof ex>[]) => scoreProject({ project, experiments: [root, ...exps], stats }).get('p')!.level!;
    const alone = level([]);
    // ten discards that did nothing: P's level sharpens
    const idle = level(Array.from({ length: 10 }, (_, i) => ex(`d${i}`, { status: 'discard', value: 0, premiseKey: 'p' })));
    expect(idle.sd).toBeLessThan(alone.sd);
    // ten discards well above P's runs: P's level moves up (a discard is evidence on P, too)
    const high = level(Array.from({ length: 10 }, (_, i) => ex(`h${i}`, { status: 'discard', value: 1, premiseKey: 'p' })));
    expect(high.mean).toBeGreaterThan(alone.mean + 0.1);
    // and ten well below move it down relative to that
    const low = level(Array.from({ length: 10 }, (_, i) => ex(`l${i}`, { status: 'discard', value: -1, premiseKey: 'p' })));
    expect(low.mean).toBeLessThan(high.mean);
  });
});
