import { normCdf } from '../../src/domain/scoring/distributions.js';
import type { Proposal } from './proposals.js';
import type { Regime } from './regimes.js';

/** What one loop did with one proposal, with the ground truth beside it. */
export interface ProposalOutcome {
  index: number;
  key: string;
  status: 'keep' | 'discard' | 'crash';
  /** True effect against the premise it was built on (better-units, metric units). */
  effect: number;
  /** Observed improvement over the premise's recorded value (better-units); null for crashes. */
  observedDelta: number | null;
  /** Keeps only: did the method accept it as the next premise? */
  accepted: boolean;
  /** The method's score of the proposal (higher = more confident it is a real improvement). */
  score: number;
  /** ECV only: C at the first gate call, before any reproduction. */
  firstScore?: number;
  /** ECV only: S, the posterior probability that the improvement is real (final). */
  statistics?: number;
  /** ECV only: the first gate answer's components of C and its K. */
  firstGate?: {
    components: { reproduction: number; statistics: number; effect: number; code: number };
    compounded: number;
  };
  /** ECV only: re-anchoring rounds the gate ran before its final decision on this keep. */
  gateRounds?: number;
  /** ECV only: the experiment is an anchor at the end of the loop. */
  anchored?: boolean;
}

export interface LoopResult {
  method: string;
  loopSeed: number;
  outcomes: ProposalOutcome[];
  /** Reproductions (re-runs) spent. */
  reproductions: number;
  /** True improvement of the final premise over the baseline, in σ units. */
  trueGainSigma: number;
  /** Accepted premises on the final chain whose true effect was ≤ 0. */
  falseInChain: number;
  chainLength: number;
}

/** A baseline gate: accepts a keep or not from its observed improvement, and scores proposals. */
export interface BaselineRule {
  method: string;
  accept(observedDelta: number, sigma: number): boolean;
  score(observedDelta: number, sigma: number): number;
}

/** Direction-blind effect score: |δ| mapped through Φ, as if a drop were as good as a gain. */
export const directionBlind = (d: number, sigma: number) =>
  2 * normCdf(Math.abs(d) / (sigma * Math.SQRT2)) - 1;

export const BASELINES: BaselineRule[] = [
  // Karpathy's rule: every keep is a premise. Its score is the keep/discard decision itself.
  { method: 'flat keep/discard', accept: () => true, score: (d) => (d > 0 ? 1 : 0) },
  // σ known; the observed δ is a difference of two runs, the rule is taken literally.
  { method: 'fixed |δ| > 2σ', accept: (d, s) => d > 2 * s, score: (d, s) => d / s },
  {
    method: 'direction-blind Φ(|δ|)',
    accept: (d, s) => directionBlind(d, s) >= 0.6,
    score: (d, s) => directionBlind(d, s),
  },
];

export const keyOf = (index: number) =>
  index === 0 ? 'baseline' : `e${String(index).padStart(4, '0')}`;

/** The keep-if-better loop with a baseline gate in front of every keep (pure, no service). */
export function runBaselineLoop(
  regime: Regime,
  loopSeed: number,
  stream: Proposal[],
  rule: BaselineRule,
): LoopResult {
  const sigma = regime.sigma;
  let head = { trueLevel: regime.level0, recorded: regime.level0 + sigma * stream[0].noise };
  const outcomes: ProposalOutcome[] = [];
  let falseInChain = 0;
  let chainLength = 0;
  for (let i = 1; i < stream.length; i++) {
    const p = stream[i];
    const trueLevel = head.trueLevel - p.effect; // minimized metric: an improvement lowers it
    if (p.crash) {
      outcomes.push({
        index: i,
        key: keyOf(i),
        status: 'crash',
        effect: p.effect,
        observedDelta: null,
        accepted: false,
        score: 0,
      });
      continue;
    }
    const value = trueLevel + sigma * p.noise;
    const d = head.recorded - value;
    const keep = d > 0;
    const accepted = keep && rule.accept(d, sigma);
    outcomes.push({
      index: i,
      key: keyOf(i),
      status: keep ? 'keep' : 'discard',
      effect: p.effect,
      observedDelta: d,
      accepted,
      score: rule.score(d, sigma),
    });
    if (accepted) {
      head = { trueLevel, recorded: value };
      chainLength++;
      if (p.effect <= 0) falseInChain++;
    }
  }
  return {
    method: rule.method,
    loopSeed,
    outcomes,
    reproductions: 0,
    trueGainSigma: (regime.level0 - head.trueLevel) / sigma,
    falseInChain,
    chainLength,
  };
}
