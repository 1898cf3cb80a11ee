/**
 * The SPEC §14 figures of obey-mode loops, at equal experiments (every loop its n experiments,
 * reproductions on separate runners) and at equal compute (a loop stops when its runs — its own,
 * its extra seeds and its reproductions — reach n). A loop's decisions depend only on its past, so
 * the equal-compute loop is the equal-experiments loop cut where its runs reach the budget.
 */
import type { ObeyLoop, ObeyStep } from './loop.js';

export type Mode = 'experiments' | 'compute';

export interface ObeySummary {
  policy: string;
  mode: Mode;
  loops: number;
  experiments: number;
  keeps: number;
  accepted: number;
  /** Accepted keeps whose true effect is ≤ minEffect, as a share of accepted keeps. */
  contamination: number;
  /** Share of truly improving keeps accepted; the same for keeps with effect ≥ σ. */
  keptReal: number;
  keptReal1s: number;
  /** Keeps with effect ≥ σ (the denominator of keptReal1s). */
  keeps1s: number;
  /** Share of every non-crash proposal with effect ≥ σ that ended up accepted (keep rule included). */
  endToEnd1s: number;
  /** (runs − experiments) / experiments: reproductions and extra seeds per experiment. */
  reproductionsPerExperiment: number;
  /** Mean true gain of the final head over the baseline, σ units. */
  gainSigma: number;
  /** Mean false premises on the final chain (every accepted keep is on it: rejects are reverted). */
  falseInChain: number;
  /** Calibration of S at acceptance: mean S of accepted keeps with an S, and the share of them real. */
  calibration: { n: number; meanS: number; shareReal: number } | null;
}

/** The steps a loop of budget `budget` runs completes (equal compute), or all of them. */
export function stepsWithin(loop: ObeyLoop, mode: Mode, budget: number): ObeyStep[] {
  if (mode === 'experiments') return loop.steps;
  const out: ObeyStep[] = [];
  for (const st of loop.steps) {
    if (st.runs > budget) break;
    out.push(st);
  }
  return out;
}

const share = <T>(xs: T[], p: (x: T) => boolean) =>
  xs.length ? xs.filter(p).length / xs.length : NaN;
const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/**
 * Pools `loops` (one policy, one regime) into its figures. `budget` is the runs of the equal-compute
 * cut (the experiments per loop); `minEffect` the smallest effect that counts as real.
 */
export function summarizeObey(
  loops: ObeyLoop[],
  opts: { mode: Mode; budget: number; sigma: number; minEffect?: number },
): ObeySummary {
  const minEffect = opts.minEffect ?? 0;
  const real = (st: ObeyStep) => st.effect > minEffect;
  const cut = loops.map((l) => ({ l, steps: stepsWithin(l, opts.mode, opts.budget) }));
  const all = cut.flatMap((c) => c.steps);
  const proposals = all.filter((st) => !st.crash);
  const keeps = proposals.filter((st) => st.keep);
  const accepted = keeps.filter((st) => st.accepted);
  const keeps1s = keeps.filter((st) => st.effect >= opts.sigma);
  const experiments = cut.reduce((t, c) => t + 1 + c.steps.length, 0);
  const runs = cut.reduce((t, c) => t + (c.steps.at(-1)?.runs ?? c.l.baselineRuns), 0);
  const withS = accepted.filter((st) => st.s !== undefined);
  return {
    policy: loops[0]?.policy ?? '',
    mode: opts.mode,
    loops: loops.length,
    experiments,
    keeps: keeps.length,
    accepted: accepted.length,
    contamination: share(accepted, (st) => !real(st)),
    keptReal: share(keeps.filter(real), (st) => st.accepted),
    keptReal1s: share(keeps1s, (st) => st.accepted),
    keeps1s: keeps1s.length,
    endToEnd1s: share(
      proposals.filter((st) => st.effect >= opts.sigma),
      (st) => st.accepted,
    ),
    reproductionsPerExperiment: experiments ? (runs - experiments) / experiments : NaN,
    gainSigma: avg(cut.map((c) => c.steps.at(-1)?.headGainSigma ?? 0)),
    falseInChain: avg(cut.map((c) => c.steps.filter((st) => st.accepted && !real(st)).length)),
    calibration: withS.length
      ? { n: withS.length, meanS: avg(withS.map((st) => st.s!)), shareReal: share(withS, real) }
      : null,
  };
}

/** True gain of a policy as a share of flat keep's over the same proposer seeds (ratio of means). */
export function gainShare(policy: ObeySummary, flat: ObeySummary): number {
  return flat.gainSigma > 0 ? policy.gainSigma / flat.gainSigma : NaN;
}
