import { describe, expect, it } from 'vitest';
import { bestReachableS, chooseTarget, decideGate, decisionBudget, type DecisionInput } from '../../../src/domain/gate/decision.js';
import { defaultPrior, scoreProject, type ObservedExperiment } from '../../../src/domain/scoring/index.js';
import type { Score } from '../../../src/domain/types.js';
import { makeExperiment as ex, makeProject, makeStats } from '../scoring/fixtures.js';

const up = makeProject({ metric: { name: 'acc', direction: 'maximize' } });
const stats = makeStats({ sigma: 1, nu: 100 });
const reps = (xs: number[]) => xs.map((value, seed) => ({ seed, value }));
const codes = (r: { reasons: { code: string }[] }) => r.reasons.map((x) => x.code);

/** X's score in a two-commit project: root r with `rootRuns`, X on r with `xRuns` (σ = 1, g0). */
function scored(rootRuns: number[], xRuns: number[], over: Partial<ObservedExperiment> = {}): Score {
  const exps = [
    ex('r', { value: rootRuns[0], replicates: rootRuns.slice(1) }),
    ex('x', { value: xRuns[0], premiseKey: 'r', reproductions: reps(xRuns.slice(1)), ...over }),
  ];
  return scoreProject({ project: up, experiments: exps, stats }).get('x')!;
}
const zeros = (n: number) => Array<number>(n).fill(0);

function input(score: Score | null, over: Partial<DecisionInput> = {}, compounded: number | null = score?.value ?? null): DecisionInput {
  return {
    x: { key: 'x', score, compounded, inheritedHardGate: null },
    premise: { key: 'r', runs: 4 },
    root: { key: 'r', runs: 4 },
    threshold: 0.6,
    sMin: 0.92,
    sReject: 0.25,
    minEffect: 0,
    maxReproductions: 8,
    maxAnchorReproductions: 3,
    spent: { decision: 0, anchor: 0, sigma: 0 },
    pending: false,
    sigmaKnown: true,
    prior: defaultPrior(),
    sigma: 1,
    nu: 100,
    ...over,
  };
}

// Scores by S band (values checked in the first test).
const strong = scored(zeros(4), [5]); // S ≈ 0.998
const middling = scored(zeros(4), [3]); // S ≈ 0.76
const regression = scored(zeros(4), [-1]); // S ≈ 0.07
const crashed = scored(zeros(4), [0], { status: 'crash', value: null });

describe('decideGate', () => {
  it('has inputs in the bands the table needs', () => {
    expect(strong.components.statistics).toBeGreaterThanOrEqual(0.92);
    expect(middling.components.statistics).toBeGreaterThan(0.25);
    expect(middling.components.statistics).toBeLessThan(0.92);
    expect(regression.components.statistics).toBeLessThanOrEqual(0.25);
    expect(crashed.hardGate).toBe('crash');
  });

  const table: [string, DecisionInput, { decision: string; code: string; next: unknown }][] = [
    ['own hard gate', input(crashed), { decision: 'reject', code: 'hard_gate_crash', next: null }],
    ['own hard gate beats a high K', input(crashed, {}, 1), { decision: 'reject', code: 'hard_gate_crash', next: null }],
    ['S ≤ sReject', input(regression), { decision: 'reject', code: 'improvement_unlikely', next: null }],
    ['S ≤ sReject, even with a job pending', input(regression, { pending: true }), { decision: 'reject', code: 'improvement_unlikely', next: null }],
    ['S ≥ sMin and K ≥ threshold', input(strong, {}, 0.6), { decision: 'accept', code: 'above_threshold', next: null }],
    ['between: one more run of X', input(middling), { decision: 'reanchor', code: 'reproduce_experiment', next: { key: 'x', purpose: 'decision' } }],
    ['between, job pending', input(middling, { pending: true }), { decision: 'reanchor', code: 'reproduction_pending', next: null }],
    [
      'between, budget spent',
      input(middling, { spent: { decision: 5, anchor: 2, sigma: 1 } }),
      { decision: 'reject', code: 'budget_spent', next: null },
    ],
    ['S ≥ sMin, K < threshold: anchor X', input(strong, {}, 0.59), { decision: 'reanchor', code: 'reanchor_candidate', next: { key: 'x', purpose: 'anchor' } }],
    [
      'S ≥ sMin, K < threshold, 2 anchor runs spent',
      input(strong, { spent: { decision: 0, anchor: 2, sigma: 0 } }, 0.3),
      { decision: 'reanchor', code: 'reanchor_candidate', next: { key: 'x', purpose: 'anchor' } },
    ],
    [
      'S ≥ sMin, K < threshold, 3 anchor runs spent',
      input(strong, { spent: { decision: 0, anchor: 3, sigma: 0 } }, 0.3),
      { decision: 'reject', code: 'reanchor_exhausted', next: null },
    ],
    [
      'S ≥ sMin, K < threshold, whole budget spent',
      input(strong, { spent: { decision: 8, anchor: 0, sigma: 0 } }, 0.3),
      { decision: 'reject', code: 'reanchor_exhausted', next: null },
    ],
    ['S ≥ sMin, K < threshold, job pending', input(strong, { pending: true }, 0.3), { decision: 'reanchor', code: 'reproduction_pending', next: null }],
    ['not scored yet', input(null), { decision: 'reanchor', code: 'not_scored', next: null }],
    [
      'σ unknown: the root runs first',
      input(middling, { sigmaKnown: false, root: { key: 'r', runs: 1 } }),
      { decision: 'reanchor', code: 'sigma_unknown', next: { key: 'r', purpose: 'sigma' } },
    ],
    [
      'σ unknown, second root run',
      input(middling, { sigmaKnown: false, root: { key: 'r', runs: 2 }, spent: { decision: 0, anchor: 0, sigma: 1 } }),
      { decision: 'reanchor', code: 'sigma_unknown', next: { key: 'r', purpose: 'sigma' } },
    ],
    [
      'σ unknown, root run pending',
      input(strong, { sigmaKnown: false, root: { key: 'r', runs: 1 }, pending: true }, 1),
      { decision: 'reanchor', code: 'sigma_unknown', next: null },
    ],
    [
      'σ unknown, the second root run queued (counted) but not landed: wait for it',
      input(strong, { sigmaKnown: false, root: { key: 'r', runs: 2 }, spent: { decision: 0, anchor: 0, sigma: 2 }, pending: true }, 1),
      { decision: 'reanchor', code: 'sigma_unknown', next: null },
    ],
    [
      'σ unknown, two root runs spent: decide as usual',
      input(middling, { sigmaKnown: false, root: { key: 'r', runs: 2 }, spent: { decision: 0, anchor: 0, sigma: 2 } }),
      { decision: 'reanchor', code: 'reproduce_experiment', next: { key: 'x', purpose: 'decision' } },
    ],
    [
      'σ unknown but the root already has 3 runs',
      input(strong, { sigmaKnown: false, root: { key: 'r', runs: 3 } }, 0.9),
      { decision: 'accept', code: 'above_threshold', next: null },
    ],
  ];

  it.each(table)('%s', (_name, inp, want) => {
    const got = decideGate(inp);
    expect(got.decision).toBe(want.decision);
    expect(codes(got)).toContain(want.code);
    expect(got.next).toEqual(want.next);
    for (const r of got.reasons) expect(r.message.length).toBeGreaterThan(10);
  });

  it('rejects what inherits a hard gate, naming the premise', () => {
    const got = decideGate({ ...input(strong, {}, 0.9), x: { key: 'x', score: strong, compounded: 0.9, inheritedHardGate: { key: 'p7', code: 'protected_path' } } });
    expect(got.decision).toBe('reject');
    expect(got.reasons[0].code).toBe('premise_hard_gated');
    expect(got.reasons[0].message).toContain('p7');
    expect(got.next).toBeNull();
    // its own key as the inherited gate is not an inheritance
    const self = decideGate({ ...input(strong, {}, 0.9), x: { key: 'x', score: strong, compounded: 0.9, inheritedHardGate: { key: 'x', code: 'crash' } } });
    expect(self.decision).toBe('accept');
  });

  describe('the run that shrinks V more (chooseTarget)', () => {
    it('is X when X has one run and the premise is well measured: σ²/(1·2) > v_P²/(σ² + v_P)', () => {
      const s = scored(zeros(8), [2.5]);
      const vP = s.chain!.reference!.v;
      expect(vP).toBeCloseTo(1 / 8, 12);
      expect(1 / 2).toBeGreaterThan(vP ** 2 / (1 + vP));
      expect(chooseTarget(s, { key: 'r' }, 1)).toBe('experiment');
    });

    it('is the premise when its level is the more uncertain: σ²/(3·4) < v_P²/(σ² + v_P)', () => {
      const s = scored([0], [3, 2.8, 3.1]);
      const vP = s.chain!.reference!.v;
      expect(vP).toBeCloseTo(1, 12); // one run of the root
      expect(1 / 12).toBeLessThan(vP ** 2 / (1 + vP));
      expect(chooseTarget(s, { key: 'r' }, 1)).toBe('premise');
      expect(s.components.statistics).toBeGreaterThan(0.25);
      expect(s.components.statistics).toBeLessThan(0.92);
      const got = decideGate(input(s, { premise: { key: 'r', runs: 1 } }));
      expect(got).toMatchObject({ decision: 'reanchor', next: { key: 'r', purpose: 'decision' } });
      expect(codes(got)).toContain('reproduce_premise');
      // without a reproducible premise, X itself
      expect(chooseTarget(s, null, 1)).toBe('experiment');
      expect(decideGate(input(s, { premise: null })).next).toEqual({ key: 'x', purpose: 'decision' });
    });
  });

  describe('futility', () => {
    // X and its root measured 8 times each, X one σ better: S ≈ 0.5.
    const s = scored(zeros(8), Array<number>(8).fill(1));

    it('rejects when even the optimistic outcome of the remaining budget cannot reach sMin', () => {
      expect(s.components.statistics).toBeGreaterThan(0.25);
      expect(s.components.statistics).toBeLessThan(0.92);
      const best = bestReachableS(s, 1, true, defaultPrior(), 1, 100, 0);
      expect(best).toBeLessThan(0.92);
      const got = decideGate(input(s, { premise: { key: 'r', runs: 8 }, spent: { decision: 7, anchor: 0, sigma: 0 } }));
      expect(got).toMatchObject({ decision: 'reject', next: null });
      expect(codes(got)).toContain('futile');
    });

    it('reanchors when it can', () => {
      const best = bestReachableS(s, 4, true, defaultPrior(), 1, 100, 0);
      expect(best).toBeGreaterThanOrEqual(0.92);
      const got = decideGate(input(s, { premise: { key: 'r', runs: 8 }, spent: { decision: 4, anchor: 0, sigma: 0 } }));
      expect(got.decision).toBe('reanchor');
      expect(got.next).not.toBeNull();
      expect(codes(got)).not.toContain('futile');
    });

    it('counts the runs it could add as degrees of freedom of σ̂ (ν + r)', () => {
      // Scored at ν = 1 (two root runs: σ̂ barely measured), X 2.6σ̂ above: the σ nodes' upper tail
      // caps S now, but 8 more runs of X also measure σ, so the budget is not futile.
      const nu1 = makeStats({ sigma: 1, nu: 1 });
      const exps = [ex('r', { value: 0, replicates: [0.5] }), ex('x', { value: 2.6, premiseKey: 'r' })];
      const x = scoreProject({ project: up, experiments: exps, stats: nu1 }).get('x')!;
      expect(x.components.statistics).toBeLessThan(0.92);
      expect(bestReachableS(x, 8, true, defaultPrior(), 1, 1, 0)).toBeGreaterThanOrEqual(0.92);
      const got = decideGate(input(x, { nu: 1, premise: { key: 'r', runs: 2 }, root: { key: 'r', runs: 3 } }));
      expect(got.decision).toBe('reanchor');
      expect(codes(got)).not.toContain('futile');
    });

    it('grows the reachable S with the runs X could add', () => {
      const vals = [1, 2, 4, 8].map((r) => bestReachableS(s, r, false, defaultPrior(), 1, 100, 0));
      for (let i = 1; i < vals.length; i++) expect(vals[i]).toBeGreaterThanOrEqual(vals[i - 1]);
      expect(bestReachableS(scored(zeros(4), [0], { status: 'crash', value: null }), 4, true, defaultPrior(), 1, 100, 0)).toBe(0);
    });
  });

  describe('the budget (one rule: jobs of the decision, counted once queued)', () => {
    it('counts every purpose against maxReproductions, and anchor runs against their own cap too', () => {
      const b = (spent: DecisionInput['spent'], max = 8, anchor = 3) => decisionBudget({ spent, maxReproductions: max, maxAnchorReproductions: anchor });
      expect(b({ decision: 0, anchor: 0, sigma: 0 })).toEqual({ used: 0, left: 8, anchorLeft: 3 });
      expect(b({ decision: 4, anchor: 1, sigma: 2 })).toEqual({ used: 7, left: 1, anchorLeft: 1 });
      expect(b({ decision: 0, anchor: 3, sigma: 0 })).toEqual({ used: 3, left: 5, anchorLeft: 0 });
      expect(b({ decision: 9, anchor: 0, sigma: 0 })).toEqual({ used: 9, left: 0, anchorLeft: 0 });
      expect(b({ decision: 0, anchor: 0, sigma: 0 }, 2, 3)).toEqual({ used: 0, left: 2, anchorLeft: 2 });
    });

    it('keeps the σ bootstrap inside the budget: a spent budget queues no more root runs', () => {
      const got = decideGate(input(middling, { sigmaKnown: false, root: { key: 'r', runs: 2 }, maxReproductions: 1, spent: { decision: 0, anchor: 0, sigma: 1 } }));
      expect(got.next).toBeNull();
      expect(got.decision).toBe('reject');
      expect(codes(got)).toContain('budget_spent');
    });

    it('never answers reanchor with no job in flight and none to queue (once scored)', () => {
      const scores = [strong, middling, regression];
      const spents = [0, 1, 2, 3, 5, 8, 9];
      for (const score of scores)
        for (const k of [0.3, 0.99])
          for (const sigmaKnown of [true, false])
            for (const runs of [1, 2, 4])
              for (const d of spents)
                for (const a of [0, 2, 3])
                  for (const sg of [0, 1, 2])
                    for (const max of [0, 1, 2, 8]) {
                      const inp = input(score, { sigmaKnown, root: { key: 'r', runs }, maxReproductions: max, spent: { decision: d, anchor: a, sigma: sg } }, k);
                      const got = decideGate(inp);
                      if (got.decision === 'reanchor') expect(got.next, JSON.stringify(inp.spent)).not.toBeNull();
                      if (got.next) expect(decisionBudget(inp).left).toBeGreaterThan(0);
                    }
    });
  });
});
