import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeProjectStats, fitPrior, scoreProject, type ObservedExperiment } from '../../../src/domain/scoring/index.js';
import { GRID_SCALES, type AshPrior } from '../../../src/domain/scoring/ash.js';
import type { Direction, ProjectStats, Reproduction, Score } from '../../../src/domain/types.js';
import { allNumbers, makeExperiment as ex, makeProject, makeStats, rng } from './fixtures.js';

const direction = fc.constantFrom<Direction>('minimize', 'maximize');
const status = fc.constantFrom('keep', 'discard', 'crash', 'unknown') as fc.Arbitrary<ObservedExperiment['status']>;
const small = fc.double({ min: -3, max: 3, noNaN: true });

function expectSane(s: Score): void {
  for (const v of [s.value, ...Object.values(s.components)]) {
    expect(Number.isFinite(v)).toBe(true);
    expect(v).toBeGreaterThanOrEqual(0);
    expect(v).toBeLessThanOrEqual(1);
  }
  for (const n of allNumbers(s)) expect(Number.isFinite(n)).toBe(true);
}

/** A fitted-looking prior: the EM fit on a handful of effects (in σ = 1 units). */
const priors: AshPrior[] = [
  fitPrior([-6, -3, -2.5, -1, -0.4, 0, 0.2, 0.3, 1.1, 2.5, 4].map((d) => ({ d, V: 1.25 })), 1).prior,
  fitPrior(Array.from({ length: 30 }, (_, i) => ({ d: (i % 7) - 1.5, V: 2 })), 1).prior,
];
/** Statistics held fixed (σ̂, ν and the prior do not move with the runs we change). */
const fixedStats = fc
  .record({
    sigma: fc.double({ min: 0.05, max: 5, noNaN: true }),
    nu: fc.oneof(fc.double({ min: 2, max: 29.9, noNaN: true }), fc.double({ min: 30, max: 1e4, noNaN: true })),
    prior: fc.constantFrom<AshPrior | undefined>(undefined, ...priors),
  })
  .map(({ sigma, nu, prior }) => makeStats({ sigma, nu, ...(prior ? { prior } : {}) }));

describe('properties of scoreProject', () => {
  it('is direction-aware: mirroring every value and flipping the direction gives identical scores', () => {
    const project = fc.record({
      dir: direction,
      sigma0: fc.option(fc.double({ min: 1e-3, max: 1, noNaN: true }), { nil: undefined }),
      base: fc.double({ min: -10, max: 10, noNaN: true }),
      steps: fc.array(
        fc.record({
          delta: fc.double({ min: -0.5, max: 0.5, noNaN: true }),
          status,
          onRoot: fc.boolean(),
          reps: fc.array(fc.option(fc.double({ min: -0.5, max: 0.5, noNaN: true }), { nil: null }), { maxLength: 3 }),
          replicates: fc.array(fc.double({ min: -0.5, max: 0.5, noNaN: true }), { maxLength: 2 }),
        }),
        { minLength: 1, maxLength: 10 },
      ),
    });
    fc.assert(
      fc.property(project, ({ dir, sigma0, base, steps }) => {
        const build = (m: number): ObservedExperiment[] => {
          const exps = [ex('e0', { value: m * base, replicates: [m * (base + 0.01)] })];
          let premise = 'e0';
          let pv = base;
          steps.forEach((st, i) => {
            const on = st.onRoot ? 'e0' : premise;
            const from = st.onRoot ? base : pv;
            const v = from + st.delta;
            const reproductions: Reproduction[] = st.reps.map((r, j) => ({ seed: j, value: r === null ? null : m * (v + r) }));
            exps.push(
              ex(`e${i + 1}`, {
                status: st.status,
                value: st.status === 'crash' ? null : m * v,
                replicates: st.replicates.map((r) => m * (v + r)),
                baseline: m * from,
                premiseKey: on,
                reproductions,
              }),
            );
            if (st.status === 'keep') {
              premise = `e${i + 1}`;
              pv = v;
            }
          });
          return exps;
        };
        const run = (m: number, d: Direction) => {
          const proj = makeProject({ metric: { name: 'm', direction: d }, sigma0 });
          const exps = build(m);
          const st = computeProjectStats({ project: proj, experiments: exps });
          const scores = scoreProject({ project: proj, experiments: exps, stats: st });
          // metric-unit levels mirror with the values; everything else is in "better" units
          const mirror = (g: { mean: number } | null | undefined) => (g ? { ...g, mean: m * g.mean + 0 } : g);
          return {
            stats: st,
            scores: exps.map((e) => {
              const s = scores.get(e.key)!;
              expectSane(s);
              return { ...s, level: mirror(s.level), premiseLevel: mirror(s.premiseLevel), reasons: s.reasons.map((r) => r.code) };
            }),
          };
        };
        expect(run(-1, dir === 'minimize' ? 'maximize' : 'minimize')).toEqual(run(1, dir));
      }),
      { numRuns: 60 },
    );
  });

  it('raising a reproduction of X (maximize) never lowers its S, E or R', () => {
    fc.assert(
      fc.property(
        fixedStats,
        fc.array(small, { minLength: 1, maxLength: 4 }),
        small,
        fc.array(small, { minLength: 1, maxLength: 4 }),
        fc.array(small, { maxLength: 3 }),
        fc.nat(),
        fc.double({ min: 1e-3, max: 3, noNaN: true }),
        (st, rootRuns, xValue, xReps, siblings, which, bump) => {
          const project = makeProject({ metric: { name: 'm', direction: 'maximize' } });
          const s = st.sigma!;
          const k = which % xReps.length;
          const build = (up: number) => [
            ex('r', { value: s * rootRuns[0], replicates: rootRuns.slice(1).map((v) => s * v) }),
            ...siblings.map((v, i) => ex(`s${i}`, { status: 'discard', value: s * v, premiseKey: 'r' })),
            ex('x', { value: s * xValue, premiseKey: 'r', reproductions: xReps.map((v, i) => ({ seed: i, value: s * v + (i === k ? up : 0) })) }),
          ];
          const before = scoreProject({ project, experiments: build(0), stats: st }).get('x')!;
          const after = scoreProject({ project, experiments: build(bump * s), stats: st }).get('x')!;
          const tol = 1e-9;
          expect(after.components.statistics).toBeGreaterThanOrEqual(before.components.statistics - tol);
          expect(after.components.effect).toBeGreaterThanOrEqual(before.components.effect - tol);
          expect(after.components.reproduction).toBeGreaterThanOrEqual(before.components.reproduction - tol);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('raising a reproduction of the premise never raises S of X', () => {
    fc.assert(
      fc.property(
        fixedStats,
        fc.array(small, { minLength: 1, maxLength: 4 }),
        fc.array(small, { minLength: 1, maxLength: 4 }),
        fc.array(small, { minLength: 1, maxLength: 3 }),
        fc.nat(),
        fc.double({ min: 1e-3, max: 3, noNaN: true }),
        (st, pReps, xRuns, children, which, bump) => {
          const project = makeProject({ metric: { name: 'm', direction: 'maximize' } });
          const s = st.sigma!;
          const k = which % pReps.length;
          const build = (up: number) => [
            ex('p', { value: 0, reproductions: pReps.map((v, i) => ({ seed: i, value: s * v + (i === k ? up : 0) })) }),
            ex('x', { value: s * xRuns[0], replicates: xRuns.slice(1).map((v) => s * v), premiseKey: 'p' }),
            // proposals built on X change X's level, not the comparison of X with P
            ...children.map((v, i) => ex(`c${i}`, { status: 'discard', value: s * v, premiseKey: 'x' })),
          ];
          const before = scoreProject({ project, experiments: build(0), stats: st }).get('x')!;
          const after = scoreProject({ project, experiments: build(bump * s), stats: st }).get('x')!;
          expect(after.components.statistics).toBeLessThanOrEqual(before.components.statistics + 1e-9);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps every score and statistic finite and in range on arbitrary projects', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            value: fc.option(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { nil: null }),
            reps: fc.array(fc.option(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { nil: null }), { maxLength: 3 }),
            premise: fc.nat(40),
            baseline: fc.option(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { nil: null }),
            status,
          }),
          { maxLength: 30 },
        ),
        fc.option(fc.double({ min: 1e-6, max: 10, noNaN: true }), { nil: undefined }),
        direction,
        (rows, sigma0, dir) => {
          const exps = rows.map((r, i) =>
            ex(`e${i}`, {
              status: r.status,
              value: r.value,
              baseline: i === 0 ? null : r.baseline,
              premiseKey: i === 0 ? null : `e${r.premise % i}`,
              reproductions: r.reps.map((v, j) => ({ seed: j, value: v })),
            }),
          );
          const project = makeProject({ sigma0, metric: { name: 'm', direction: dir } });
          const st = computeProjectStats({ project, experiments: exps });
          for (const n of allNumbers(st)) expect(Number.isFinite(n)).toBe(true);
          expect(st.sigma === null || st.sigma > 0).toBe(true);
          expect(st.alpha0).toBeGreaterThan(0);
          expect(st.beta0).toBeGreaterThan(0);
          const w = [st.prior!.null, ...st.prior!.gains, ...st.prior!.losses];
          expect(w.every((x) => x >= 0)).toBe(true);
          expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
          for (const s of scoreProject({ project, experiments: exps, stats: st }).values()) expectSane(s);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('calibration of S on data drawn from a known prior', () => {
  it('among keeps with S ≥ 0.92, the share with μ > 0 is within a few points of their mean S', () => {
    // True prior (σ = 1): 50% no effect, 20% gains HN(2), 30% losses HN(4); both scales are on the grid.
    expect(GRID_SCALES).toContain(2);
    expect(GRID_SCALES).toContain(4);
    const r = rng(2024);
    const project = makeProject({ metric: { name: 'acc', direction: 'maximize' }, sigma0: 1, nu0: 50 });
    let count = 0;
    let sumS = 0;
    let real = 0;
    for (let p = 0; p < 120; p++) {
      const root = ex('r', { value: r.normal(), replicates: [r.normal(), r.normal(), r.normal()] });
      const exps: ObservedExperiment[] = [root];
      const mu = new Map<string, number>();
      for (let i = 0; i < 40; i++) {
        const u = r.uniform();
        const m = u < 0.5 ? 0 : u < 0.7 ? 2 * Math.abs(r.normal()) : -4 * Math.abs(r.normal());
        const value = m + r.normal();
        mu.set(`x${i}`, m);
        exps.push(ex(`x${i}`, { status: value > (root.value as number) ? 'keep' : 'discard', value, premiseKey: 'r' }));
      }
      const stats: ProjectStats = computeProjectStats({ project, experiments: exps });
      expect(stats.nu).toBeGreaterThanOrEqual(30); // one σ node: S is the plain posterior
      const scores = scoreProject({ project, experiments: exps, stats });
      for (const e of exps.slice(1)) {
        // proposals only: the root claims no improvement (S = 1 by definition)
        if (e.status !== 'keep') continue;
        const S = scores.get(e.key)!.components.statistics;
        if (S < 0.92) continue;
        count++;
        sumS += S;
        if (mu.get(e.key)! > 0) real++;
      }
    }
    expect(count).toBeGreaterThan(120);
    const meanS = sumS / count;
    const share = real / count;
    // binomial SD of the share at ~0.98 over > 120 keeps is about 0.013
    expect(Math.abs(share - meanS)).toBeLessThan(0.03);
  });
});
