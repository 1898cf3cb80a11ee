/**
 * Loops that obey their gate (SPEC §14): a proposer builds every proposal on the loop's head, runs
 * it, counts it a keep when it beats the policy's bar, and the policy's gate decides whether the
 * keep becomes the head (accept) or is reverted (reject: the head stays). The driver here is shared
 * by every policy; the policies only answer "keep?" and "accept?". Pure apart from the policy.
 */
import { keyOf } from '../sim/loop.js';
import { proposalStream, reproductionNoise } from '../sim/proposals.js';
import { effectOf, signOf, type ObeyRegime } from './regimes.js';

/** The loop's head: the last accepted keep (the baseline at first). */
export interface Head {
  key: string;
  /** True level, metric units. */
  trueLevel: number;
  /** Mean of its recorded runs, metric units. */
  recorded: number;
  /** True gain over the baseline, σ units. */
  gainSigma: number;
}

/** One proposal as its policy sees it (plus the truth, which only the driver's records use). */
export interface ProposalView {
  index: number;
  key: string;
  crash: boolean;
  /** Its runs (empty for a crash), metric units. */
  values: number[];
  head: Head;
}

export interface Decision {
  keep: boolean;
  accepted: boolean;
  /** S at the decision (ECV, v1): the posterior probability that the improvement is real. */
  s?: number;
  /** Reproductions the decision spent (runs beyond the proposal's own). */
  reproductions: number;
}

/** A policy: how it starts (the baseline) and what it does with each proposal. */
export interface Policy {
  id: string;
  label: string;
  /** Runs per proposal (three seeds: 3). */
  runsPerProposal: number;
  /** Posts/gates the baseline; returns reproductions spent. */
  start(root: ProposalView): Promise<number>;
  decide(p: ProposalView): Promise<Decision>;
  /** Anything the policy wants the report to know (bar source, re-post conflicts). */
  notes?(): Record<string, number>;
}

/** One step of a loop, with the truth and the running totals after it. */
export interface ObeyStep {
  index: number;
  /** True effect on the head it was built on (better units, metric units). */
  effect: number;
  crash: boolean;
  keep: boolean;
  accepted: boolean;
  s?: number;
  /** Runs used by the loop so far, this step included (baseline and reproductions included). */
  runs: number;
  /** True gain of the head after this step, σ units. */
  headGainSigma: number;
}

export interface ObeyLoop {
  policy: string;
  regime: string;
  loopSeed: number;
  /** Runs of the baseline (its own and its reproductions). */
  baselineRuns: number;
  steps: ObeyStep[];
  notes: Record<string, number>;
}

/** The k-th run of a proposal: the stream's noise for the first, keyed draws for more seeds. */
export function runNoise(
  regime: ObeyRegime,
  loopSeed: number,
  key: string,
  first: number,
  k: number,
): number {
  return k === 0 ? first : reproductionNoise(regime.id, loopSeed, key, 900_000 + k);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Runs one loop of `n` experiments (the baseline, then n − 1 proposals) under `policy`, over the
 * proposal stream of (regime, loopSeed): common random numbers across policies. `onTruth` learns
 * each commit's true level before the policy sees it (the simulated runners answer from it).
 */
export async function runObeyLoop(
  regime: ObeyRegime,
  loopSeed: number,
  n: number,
  policy: Policy,
  onTruth: (key: string, trueLevel: number) => void = () => {},
): Promise<ObeyLoop> {
  const s = signOf(regime);
  const sigma = regime.sigma;
  const stream = proposalStream(regime, loopSeed, n);
  const runsOf = (key: string, level: number, first: number) =>
    Array.from(
      { length: policy.runsPerProposal },
      (_, k) => level + sigma * runNoise(regime, loopSeed, key, first, k),
    );
  const rootKey = keyOf(0);
  onTruth(rootKey, regime.level0);
  const rootValues = runsOf(rootKey, regime.level0, stream[0].noise);
  let head: Head = {
    key: rootKey,
    trueLevel: regime.level0,
    recorded: mean(rootValues),
    gainSigma: 0,
  };
  const rootReps = await policy.start({
    index: 0,
    key: rootKey,
    crash: false,
    values: rootValues,
    head,
  });
  const baselineRuns = policy.runsPerProposal + rootReps;
  let runs = baselineRuns;
  const steps: ObeyStep[] = [];
  for (let i = 1; i < n; i++) {
    const p = stream[i];
    const key = keyOf(i);
    const effect = effectOf(regime, p, loopSeed, i, head.gainSigma);
    const trueLevel = head.trueLevel + s * effect;
    onTruth(key, trueLevel);
    const values = p.crash ? [] : runsOf(key, trueLevel, p.noise);
    const d = await policy.decide({ index: i, key, crash: p.crash, values, head });
    runs += policy.runsPerProposal + d.reproductions;
    if (d.accepted)
      head = {
        key,
        trueLevel,
        recorded: mean(values),
        gainSigma: (s * (trueLevel - regime.level0)) / sigma,
      };
    steps.push({
      index: i,
      effect,
      crash: p.crash,
      keep: d.keep,
      accepted: d.accepted,
      ...(d.s !== undefined ? { s: d.s } : {}),
      runs,
      headGainSigma: head.gainSigma,
    });
  }
  return {
    policy: policy.id,
    regime: regime.id,
    loopSeed,
    baselineRuns,
    steps,
    notes: policy.notes?.() ?? {},
  };
}

/** Improvement of a proposal's mean over a reference, in better units. */
export const better = (regime: ObeyRegime, values: number[], ref: number) =>
  signOf(regime) * (mean(values) - ref);

/**
 * The gate-free policies, as pure rules over the runs: flat keep (beats the head's recorded value,
 * every keep accepted), the fixed 2σ rule (keep as flat, accept when the gain exceeds 2σ, σ known),
 * and three seeds per proposal (flat keep on the mean of three runs).
 */
export function purePolicy(regime: ObeyRegime, id: 'flat' | '2sigma' | 'three-seeds'): Policy {
  const margin = id === '2sigma' ? 2 * regime.sigma : 0;
  return {
    id,
    label: {
      flat: 'flat keep',
      '2sigma': 'fixed 2σ rule',
      'three-seeds': 'three seeds per proposal',
    }[id],
    runsPerProposal: id === 'three-seeds' ? 3 : 1,
    start: () => Promise.resolve(0),
    decide: (p) => {
      if (p.crash) return Promise.resolve({ keep: false, accepted: false, reproductions: 0 });
      const d = better(regime, p.values, p.head.recorded);
      return Promise.resolve({ keep: d > 0, accepted: d > margin, reproductions: 0 });
    },
  };
}
