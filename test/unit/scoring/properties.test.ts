import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  computeProjectStats,
  scoreExperiment,
  type ObservedExperiment,
} from '../../../src/domain/scoring/index.js';
import { reproductionScore } from '../../../src/domain/scoring/reproduction.js';
import type { Direction, ProjectStats, Reproduction, Score } from '../../../src/domain/types.js';
import { allNumbers, makeExperiment as ex, makeProject, makeStats, rng } from './fixtures.js';

const direction = fc.constantFrom<Direction>('minimize', 'maximize');
const sign = (d: Direction): number => (d === 'maximize' ? 1 : -1);
const stats = fc
  .record({
    sigma: fc.double({ min: 1e-3, max: 10, noNaN: true }),
    nu: fc.oneof(
      fc.double({ min: 0.5, max: 29.9, noNaN: true }),
      fc.double({ min: 30, max: 1e4, noNaN: true }),
    ),
    pi: fc.double({ min: 0.001, max: 0.999, noNaN: true }),
    tau: fc.double({ min: 0.1, max: 50, noNaN: true }),
    alpha0: fc.double({ min: 0.05, max: 20, noNaN: true }),
    beta0: fc.double({ min: 0.05, max: 20, noNaN: true }),
  })
  .map((s) => makeStats(s));

function expectSane(s: Score): void {
  for (const v of [s.value, ...Object.values(s.components)]) {
    expect(Number.isFinite(v)).toBe(true);
    expect(v).toBeGreaterThanOrEqual(0);
    expect(v).toBeLessThanOrEqual(1);
  }
  for (const n of allNumbers(s)) expect(Number.isFinite(n)).toBe(true);
}

describe('properties of the confidence engine', () => {
  it('a regression never scores E ≥ 0.5, and a larger regression never scores higher E', () => {
    fc.assert(
      fc.property(
        direction,
        stats,
        fc.double({ min: -100, max: 100, noNaN: true }),
        fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
        fc.double({ min: 1, max: 1e3, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (dir, st, p, size, factor, minEffect) => {
          const project = makeProject({
            metric: { name: 'm', direction: dir },
            minEffect: minEffect * st.sigma!,
          });
          const premise = ex('p', { value: p });
          const at = (d: number) =>
            scoreExperiment({
              project,
              premise,
              stats: st,
              experiment: ex('x', { value: p - sign(dir) * d * st.sigma!, premiseKey: 'p' }),
            });
          const small = at(size);
          const large = at(size * factor);
          expect(small.delta!).toBeLessThan(0);
          expect(small.components.effect).toBeLessThan(0.5);
          // up to rounding: far out (|z| ~ 1e5, ν < 1) P(real|z) sits at its limit to 1e-16
          expect(large.components.effect).toBeLessThanOrEqual(small.components.effect + 1e-12);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('minimize and maximize with mirrored data give identical scores', () => {
    const project = fc.record({
      dir: direction,
      sigma0: fc.option(fc.double({ min: 1e-3, max: 1, noNaN: true }), { nil: undefined }),
      base: fc.double({ min: -10, max: 10, noNaN: true }),
      steps: fc.array(
        fc.record({
          delta: fc.double({ min: -0.5, max: 0.5, noNaN: true }),
          status: fc.constantFrom('keep', 'discard', 'crash', 'unknown') as fc.Arbitrary<
            ObservedExperiment['status']
          >,
          reps: fc.array(
            fc.option(fc.double({ min: -0.5, max: 0.5, noNaN: true }), { nil: null }),
            { maxLength: 4 },
          ),
          replicates: fc.array(fc.double({ min: -0.5, max: 0.5, noNaN: true }), { maxLength: 2 }),
        }),
        { minLength: 1, maxLength: 12 },
      ),
    });
    fc.assert(
      fc.property(project, ({ dir, sigma0, base, steps }) => {
        const build = (m: number): ObservedExperiment[] => {
          const exps = [ex('e0', { value: m * base })];
          let premise = 'e0';
          let pv = base;
          steps.forEach((st, i) => {
            const v = pv + st.delta;
            const reproductions: Reproduction[] = st.reps.map((r, j) => ({
              seed: j,
              value: r === null ? null : m * (v + r),
            }));
            exps.push(
              ex(`e${i + 1}`, {
                status: st.status,
                value: st.status === 'crash' ? null : m * v,
                replicates: st.replicates.map((r) => m * (v + r)),
                baseline: m * pv,
                premiseKey: premise,
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
          const byKey = new Map(exps.map((e) => [e.key, e]));
          return exps.map((e) => {
            const s = scoreExperiment({
              project: proj,
              experiment: e,
              premise: e.premiseKey ? byKey.get(e.premiseKey)! : null,
              stats: st,
            });
            return { ...s, reasons: s.reasons.map((r) => r.code) };
          });
        };
        expect(run(-1, dir === 'minimize' ? 'maximize' : 'minimize')).toEqual(run(1, dir));
      }),
      { numRuns: 150 },
    );
  });

  it('more successful reproductions never lower R', () => {
    fc.assert(
      fc.property(
        fc.nat(20),
        fc.nat(20),
        fc.double({ min: 0.01, max: 50, noNaN: true }),
        fc.double({ min: 0.01, max: 50, noNaN: true }),
        (a, b, alpha0, beta0) => {
          const m = Math.max(a, b);
          const k = Math.min(a, b);
          const r = reproductionScore(k, m, alpha0, beta0);
          if (k < m) expect(reproductionScore(k + 1, m, alpha0, beta0)).toBeGreaterThanOrEqual(r); // a failure turned success
          expect(reproductionScore(k + 1, m + 1, alpha0, beta0)).toBeGreaterThanOrEqual(r); // one more success
        },
      ),
    );
  });

  it('a failed reproduction turned into a success never lowers R or C (root; non-root when not below x̄)', () => {
    fc.assert(
      fc.property(
        direction,
        stats,
        fc.boolean(),
        fc.double({ min: -5, max: 5, noNaN: true }),
        fc.double({ min: -3, max: 3, noNaN: true }),
        fc.array(fc.option(fc.double({ min: -3, max: 3, noNaN: true }), { nil: null }), {
          maxLength: 4,
        }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (dir, st, isRoot, p, gain, others, u) => {
          const project = makeProject({ metric: { name: 'm', direction: dir } });
          const s = sign(dir);
          const sigma = st.sigma!;
          const x = p + s * gain * sigma;
          const otherReps: Reproduction[] = others.map((o, i) => ({
            seed: i + 1,
            value: o === null ? null : x + o * sigma,
          }));
          const base = ex('x', {
            value: x,
            premiseKey: isRoot ? null : 'p',
            reproductions: [{ seed: 0, value: null }, ...otherReps],
          });
          const premise = isRoot ? null : ex('p', { value: p });
          const before = scoreExperiment({ project, premise, stats: st, experiment: base });
          const xs = [x, ...otherReps.flatMap((r) => (r.value === null ? [] : [r.value]))];
          const xbar = xs.reduce((a, b) => a + b, 0) / xs.length;
          // the new value: for a root within 2σ̂ of the claim; otherwise an improvement on p̄
          // that is not below the current mean x̄ (in the improvement direction)
          const value = isRoot
            ? x + (2 * u - 1) * 1.9 * sigma
            : s * Math.max(s * xbar, s * p + 1e-9 * sigma) + s * u * sigma;
          const after = scoreExperiment({
            project,
            premise,
            stats: st,
            experiment: { ...base, reproductions: [{ seed: 0, value }, ...otherReps] },
          });
          expect(after.reproductions.successes).toBe(before.reproductions.successes + 1);
          expect(after.components.reproduction).toBeGreaterThanOrEqual(
            before.components.reproduction,
          );
          expect(after.value).toBeGreaterThanOrEqual(before.value - 1e-12);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('a crash and a changed protected path are always hard-gated with Q = 0', () => {
    fc.assert(
      fc.property(
        stats,
        fc.constantFrom('keep', 'discard', 'crash', 'unknown') as fc.Arbitrary<
          ObservedExperiment['status']
        >,
        fc.constantFrom('prepare.py', 'sub/dir/prepare.py', 'eval/metric.py', 'eval/a/b.py', null),
        fc.option(fc.double({ min: -10, max: 10, noNaN: true }), { nil: null }),
        fc.array(fc.option(fc.double({ min: -10, max: 10, noNaN: true }), { nil: null }), {
          maxLength: 5,
        }),
        fc.double({ min: -0.3, max: 0.1, noNaN: true }),
        (st, status, protectedPath, value, reps, adjustment) => {
          fc.pre(status === 'crash' || protectedPath !== null);
          const code = protectedPath
            ? {
                paths: [
                  { path: 'train.py', added: 3, removed: 1 },
                  { path: protectedPath, added: 1, removed: 0 },
                ],
              }
            : undefined;
          const s = scoreExperiment({
            project: makeProject(),
            premise: ex('p', { value: 1 }),
            stats: st,
            review: { adjustment, reasons: [] },
            experiment: ex('x', {
              status,
              value,
              premiseKey: 'p',
              code,
              reproductions: reps.map((v, i) => ({ seed: i, value: v })),
            }),
          });
          expect(['crash', 'protected_path']).toContain(s.hardGate);
          expect(s.components.code).toBe(0);
          expect(s.anchorEligible).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a marginal z among many null proposals scores lower S than among mostly real ones', () => {
    const project = makeProject({ sigma0: 0.01, nu0: 10_000 }); // σ̂ ≈ 0.01, normal model
    const world = (seed: number, real: number): ProjectStats => {
      const r = rng(seed);
      const exps: ObservedExperiment[] = [ex('root', { value: 1, replicates: Array(15).fill(1) })];
      for (let i = 0; i < 60; i++) {
        const mu =
          r.uniform() < real ? (r.uniform() < 0.5 ? -1 : 1) * (3 + 3 * r.uniform()) * 0.01 : 0;
        exps.push(
          ex(`x${i}`, { status: 'discard', value: 1 - mu + 0.01 * r.normal(), premiseKey: 'root' }),
        );
      }
      return computeProjectStats({ project, experiments: exps });
    };
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e9 }),
        fc.double({ min: 1.5, max: 2.5, noNaN: true }),
        (seed, z) => {
          const nullWorld = world(seed, 0);
          const realWorld = world(seed + 1, 0.8);
          expect(nullWorld.fitted && realWorld.fitted).toBe(true);
          const premise = ex('root', { value: 1, replicates: Array(15).fill(1) });
          const at = (st: ProjectStats) => {
            const se = st.sigma! * Math.sqrt(1 + 1 / 16);
            return scoreExperiment({
              project,
              premise,
              stats: st,
              experiment: ex('y', { value: 1 - z * se, premiseKey: 'root' }),
            });
          };
          expect(at(nullWorld).components.statistics).toBeLessThan(
            at(realWorld).components.statistics,
          );
        },
      ),
      { numRuns: 25 },
    );
  });

  it('outputs are always finite and in [0, 1], including |z| up to 1e6', () => {
    const anyStats = fc
      .record({
        sigma: fc.oneof(
          fc.constant(null),
          fc.constant(0),
          fc.double({ min: 1e-12, max: 1e3, noNaN: true }),
        ),
        nu: fc.oneof(fc.constant(0), fc.double({ min: 0.1, max: 1e4, noNaN: true })),
        pi: fc.double({ min: 0.001, max: 0.999, noNaN: true }),
        tau: fc.double({ min: 0.1, max: 50, noNaN: true }),
        alpha0: fc.double({ min: 0.01, max: 100, noNaN: true }),
        beta0: fc.double({ min: 0.01, max: 100, noNaN: true }),
        sigmaSource: fc.constantFrom(
          'pooled',
          'prior',
          'pooled+prior',
          'mad',
          'none',
        ) as fc.Arbitrary<ProjectStats['sigmaSource']>,
      })
      .map((s) => makeStats(s));
    fc.assert(
      fc.property(
        direction,
        anyStats,
        fc.option(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { nil: null }),
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.array(fc.option(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { nil: null }), {
          maxLength: 5,
        }),
        fc.constantFrom('keep', 'discard', 'crash', 'unknown') as fc.Arbitrary<
          ObservedExperiment['status']
        >,
        fc.boolean(),
        fc.boolean(),
        (dir, st, p, zTarget, reps, status, hasPremise, hasBaseline) => {
          const project = makeProject({ metric: { name: 'm', direction: dir } });
          const sig = st.sigma && st.sigma > 0 ? st.sigma : 1;
          const pv = p ?? 0;
          const value = pv + sign(dir) * zTarget * sig * Math.SQRT2;
          const premise = hasPremise ? ex('p', { value: p }) : null;
          const experiment = ex('x', {
            status,
            value: status === 'crash' ? null : value,
            premiseKey: hasPremise ? 'p' : null,
            baseline: hasBaseline ? pv : null,
            reproductions: reps.map((r, i) => ({
              seed: i,
              value: r === null ? null : value + r * sig,
            })),
          });
          const s = scoreExperiment({ project, premise, stats: st, experiment });
          expectSane(s);
          if (
            s.z !== null &&
            p !== null &&
            reps.length === 0 &&
            st.sigma! > 0 &&
            (hasPremise || hasBaseline)
          )
            expect(Math.abs(s.z - zTarget)).toBeLessThanOrEqual(
              1e-6 * Math.max(1, Math.abs(zTarget)),
            );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('project statistics are always finite and in range', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            value: fc.option(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { nil: null }),
            reps: fc.array(
              fc.option(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { nil: null }),
              { maxLength: 3 },
            ),
            premise: fc.nat(40),
            status: fc.constantFrom('keep', 'discard', 'crash', 'unknown') as fc.Arbitrary<
              ObservedExperiment['status']
            >,
          }),
          { maxLength: 40 },
        ),
        fc.option(fc.double({ min: 1e-6, max: 10, noNaN: true }), { nil: undefined }),
        (rows, sigma0) => {
          const exps = rows.map((r, i) =>
            ex(`e${i}`, {
              status: r.status,
              value: r.value,
              premiseKey: i === 0 ? null : `e${r.premise % i}`,
              reproductions: r.reps.map((v, j) => ({ seed: j, value: v })),
            }),
          );
          const st = computeProjectStats({ project: makeProject({ sigma0 }), experiments: exps });
          for (const n of allNumbers(st)) expect(Number.isFinite(n)).toBe(true);
          expect(st.sigma === null || st.sigma > 0).toBe(true);
          expect(st.pi).toBeGreaterThanOrEqual(0.001);
          expect(st.pi).toBeLessThanOrEqual(0.999);
          expect(st.tau).toBeGreaterThanOrEqual(0.1);
          expect(st.tau).toBeLessThanOrEqual(50);
          expect(st.alpha0).toBeGreaterThan(0);
          expect(st.beta0).toBeGreaterThan(0);
          const byKey = new Map(exps.map((e) => [e.key, e]));
          for (const e of exps)
            expectSane(
              scoreExperiment({
                project: makeProject({ sigma0 }),
                experiment: e,
                premise: e.premiseKey ? byKey.get(e.premiseKey)! : null,
                stats: st,
              }),
            );
        },
      ),
      { numRuns: 150 },
    );
  });
});
