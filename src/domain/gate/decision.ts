/**
 * The gate's decision and its next step (SPEC §5, §6), as a pure function of the stored scores
 * and the decision's jobs so far:
 * - reject on a hard gate (own, or inherited up to the nearest anchor), when S ≤ sReject, or when
 *   the reproduction budget is spent (or cannot reach sMin even at its best);
 * - accept when S ≥ sMin and K ≥ threshold;
 * - otherwise one more reproduction: of X or of its premise, whichever shrinks V more; when
 *   S ≥ sMin but K < threshold, of X itself (to anchor it), up to maxAnchorReproductions;
 *   while σ is unknown (no sigma0, nothing repeated), of the root first, twice.
 */
import { SIGMA_KNOWN_DF, summarizeEffect, type AshPrior } from '../scoring/index.js';
import type { Reason, Score } from '../types.js';

export type Decision = 'accept' | 'reject' | 'reanchor';

/** What the next reproduction runs: the gated experiment, its premise, or the chain's root. */
export interface NextJob {
  key: string;
  purpose: 'decision' | 'anchor' | 'sigma';
}

export interface DecisionExperiment {
  key: string;
  score: Score | null;
  compounded: number | null;
  /** Inherited hard gate from the cascade (an ancestor up to the nearest anchor), if any. */
  inheritedHardGate: { key: string; code: string } | null;
}

export interface DecisionInput {
  x: DecisionExperiment;
  /** X's first premise, when it is in the project and can be reproduced (not hard-gated). */
  premise: { key: string; runs: number } | null;
  /** The root of X's premise chain and its run count (σ bootstrap). */
  root: { key: string; runs: number } | null;
  threshold: number;
  sMin: number;
  sReject: number;
  minEffect: number;
  maxReproductions: number;
  maxAnchorReproductions: number;
  /** Jobs of this decision so far, by purpose (finished or not). */
  spent: { decision: number; anchor: number; sigma: number };
  /** A job of this decision is queued or running. */
  pending: boolean;
  /** σ̂ comes from a prior or repeated runs (not a MAD guess, not absent). */
  sigmaKnown: boolean;
  prior: AshPrior;
  sigma: number | null;
  nu: number;
}

export interface DecisionResult {
  decision: Decision;
  reasons: Reason[];
  /** The reproduction to queue now (null: none, or one is pending). */
  next: NextJob | null;
}

const HARD_GATE_TEXT: Record<string, string> = {
  crash: 'the experiment crashed',
  discard: 'the experiment was discarded; a discard is never a premise',
  protected_path: 'the change touches a protected path (possible reward hacking)',
  unknown_status: 'the experiment status is unknown; it cannot be a premise',
};

/** Sigmas of optimism in the futility check: a remaining budget that cannot reach sMin even this lucky is not spent. */
export const FUTILITY_SIGMAS = 3;
/** Runs the root needs before the gate trusts σ̂ when nothing else was repeated. */
export const SIGMA_BOOTSTRAP_RUNS = SIGMA_KNOWN_DF + 1;

const f3 = (x: number) => x.toFixed(3);

/**
 * The largest S that `r` more reproductions could give: all of X's new runs FUTILITY_SIGMAS/√r
 * above X's mean so far (or its level, if higher), or all of the premise's that far below its
 * level (whichever helps more). Each of those runs is also a degree of freedom of σ̂ (ν + r): with
 * few, the σ nodes' upper tail alone would hold S down, and the check would refuse the very runs
 * that measure σ.
 */
export function bestReachableS(score: Score, r: number, canReproducePremise: boolean, g: AshPrior, sigma: number, nu: number, minEffect: number): number {
  const c = score.chain;
  if (!c?.reference || !c.full || score.delta === null || score.delta === undefined || !score.nX) return 0;
  const ref = c.reference;
  const n = score.nX;
  const xbar = score.delta + ref.m; // better units
  const shift = (FUTILITY_SIGMAS * sigma) / Math.sqrt(r);
  const s2 = sigma * sigma;
  // X reproduced r more times.
  const yX = Math.max(xbar, c.full.m) + shift;
  const xbarX = (n * xbar + r * yX) / (n + r);
  const nuR = nu + r;
  let best = summarizeEffect(g, xbarX - ref.m, ref.v + s2 / (n + r), sigma, nuR, minEffect).s;
  if (canReproducePremise) {
    const yP = ref.m - shift;
    const prec = 1 / ref.v + r / s2;
    const mP = (ref.m / ref.v + (r * yP) / s2) / prec;
    best = Math.max(best, summarizeEffect(g, xbar - mP, 1 / prec + s2 / n, sigma, nuR, minEffect).s);
  }
  return best;
}

/**
 * The one budget rule of a decision (SPEC §5): every job of the decision counts from the moment
 * it is queued, whatever its purpose or outcome (a failed run is spent too), against
 * maxReproductions in all, of which at most maxAnchorReproductions anchor X. The σ bootstrap's
 * root runs are part of the same budget.
 */
export function decisionBudget(input: Pick<DecisionInput, 'spent' | 'maxReproductions' | 'maxAnchorReproductions'>): { used: number; left: number; anchorLeft: number } {
  const used = input.spent.decision + input.spent.anchor + input.spent.sigma;
  const left = Math.max(0, input.maxReproductions - used);
  return { used, left, anchorLeft: Math.min(left, Math.max(0, input.maxAnchorReproductions - input.spent.anchor)) };
}

/** The gate's decision for X and the reproduction to queue next, if any. */
export function decideGate(input: DecisionInput): DecisionResult {
  const { x, threshold, sMin, sReject } = input;
  const reasons: Reason[] = [];
  const score = x.score;
  const own = score?.hardGate ?? null;
  if (own) {
    reasons.push({ code: `hard_gate_${own}`, message: `Rejected: ${HARD_GATE_TEXT[own] ?? own}.` });
    return { decision: 'reject', reasons, next: null };
  }
  const inherited = x.inheritedHardGate && x.inheritedHardGate.key !== x.key ? x.inheritedHardGate : null;
  if (inherited) {
    reasons.push({
      code: 'premise_hard_gated',
      message: `Rejected: premise ${inherited.key} is hard-gated (${HARD_GATE_TEXT[inherited.code] ?? inherited.code}); everything built on it inherits the gate.`,
    });
    return { decision: 'reject', reasons, next: null };
  }
  if (!score || x.compounded === null) return { decision: 'reanchor', reasons: [{ code: 'not_scored', message: 'Not scored yet.' }], next: null };
  const S = score.components.statistics;
  const K = x.compounded;
  const { used, left, anchorLeft } = decisionBudget(input);

  // σ unknown: measure the noise on the root before judging anything against it, within the
  // budget. Jobs are counted once queued, so the last bootstrap run may still be in flight: wait for it.
  const bootstrapping = input.spent.sigma < SIGMA_BOOTSTRAP_RUNS - 1 && left > 0;
  if (!input.sigmaKnown && input.root && input.root.runs < SIGMA_BOOTSTRAP_RUNS && (bootstrapping || input.pending)) {
    reasons.push({ code: 'sigma_unknown', message: `No sigma0 and nothing repeated: the root ${input.root.key} runs again to measure the noise before the decision.` });
    return { decision: 'reanchor', reasons, next: input.pending ? null : { key: input.root.key, purpose: 'sigma' } };
  }

  if (S <= sReject) {
    reasons.push({ code: 'improvement_unlikely', message: `Rejected: S = P(real improvement) = ${f3(S)} ≤ ${sReject}.` });
    return { decision: 'reject', reasons, next: null };
  }
  if (S >= sMin && K >= threshold) {
    reasons.push({ code: 'above_threshold', message: `Accepted: S = ${f3(S)} ≥ ${sMin} and K = ${f3(K)} ≥ threshold ${threshold}.` });
    if (score.anchorEligible) reasons.push({ code: 'anchored', message: 'Reproduced and verified above its nearest anchor: this experiment is an anchor.' });
    return { decision: 'accept', reasons, next: null };
  }
  if (input.pending) {
    reasons.push({ code: 'reproduction_pending', message: `S = ${f3(S)}, K = ${f3(K)}: waiting for the reproduction in flight.` });
    return { decision: 'reanchor', reasons, next: null };
  }
  if (S >= sMin) {
    // Real enough, but the chain below it is weak: reproduce X to make it an anchor.
    reasons.push({ code: 'below_threshold', message: `S = ${f3(S)} ≥ ${sMin} but K = ${f3(K)} < threshold ${threshold}.` });
    if (anchorLeft === 0) {
      reasons.push({ code: 'reanchor_exhausted', message: `Rejected: ${input.spent.anchor} reproduction(s) of ${x.key} did not anchor it; the decision is final until new evidence arrives.` });
      return { decision: 'reject', reasons, next: null };
    }
    reasons.push({ code: 'reanchor_candidate', message: `Reproducing ${x.key} to verify its level above its nearest anchor.` });
    return { decision: 'reanchor', reasons, next: { key: x.key, purpose: 'anchor' } };
  }
  // sReject < S < sMin: more evidence on the comparison itself.
  if (left === 0) {
    reasons.push({ code: 'budget_spent', message: `Rejected: S = ${f3(S)} < ${sMin} after ${used} reproduction(s), the budget of this decision (${input.maxReproductions}).` });
    return { decision: 'reject', reasons, next: null };
  }
  const sigma = input.sigma;
  if (sigma !== null && score.chain?.reference) {
    const best = bestReachableS(score, left, input.premise !== null, input.prior, sigma, input.nu, input.minEffect);
    if (best < sMin) {
      reasons.push({
        code: 'futile',
        message: `Rejected: S = ${f3(S)}; even ${left} reproduction(s) landing ${FUTILITY_SIGMAS}σ/√${left} in its favour would reach only S = ${f3(best)} < ${sMin}.`,
      });
      return { decision: 'reject', reasons, next: null };
    }
  }
  const target = chooseTarget(score, input.premise, sigma);
  reasons.push({
    code: 'reproduce_' + (target === 'premise' ? 'premise' : 'experiment'),
    message: `S = ${f3(S)} is between ${sReject} and ${sMin}: one more run of ${target === 'premise' ? `the premise ${input.premise!.key}` : x.key} (it shrinks V the most); ${used} of ${input.maxReproductions} used.`,
  });
  return { decision: 'reanchor', reasons, next: { key: target === 'premise' ? input.premise!.key : x.key, purpose: 'decision' } };
}

/**
 * Which run shrinks V = v_P + σ²/n_X more: one more run of X lowers it by σ²/(n_X(n_X + 1)),
 * one more of the premise by about v_P²/(σ² + v_P).
 */
export function chooseTarget(score: Score, premise: { key: string } | null, sigma: number | null): 'experiment' | 'premise' {
  const ref = score.chain?.reference;
  if (!premise || !ref || sigma === null || !score.nX) return 'experiment';
  const s2 = sigma * sigma;
  const n = score.nX;
  const gainX = s2 / (n * (n + 1));
  const gainP = (ref.v * ref.v) / (s2 + ref.v);
  return gainP > gainX ? 'premise' : 'experiment';
}
