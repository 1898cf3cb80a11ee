/*
 * Baseline only: ECV's first gate design (v1), copied verbatim from our own code at git commit
 * 3b67ef4 (src/domain/scoring/reproduction.ts) so the obey-mode bench can run the previous design as a policy
 * in process after the service moved to gate v2. Not used by the service; do not edit except
 * to keep it compiling.
 */
/**
 * Reproduction R (SPEC §3): Beta-Binomial posterior mean of the reproduction success rate,
 * R = (α0 + k)/(α0 + β0 + m), with the project prior Beta(α0, β0).
 */
import type { Direction, Reproduction } from '../types.js';
import { directionSign, mean, type Comparison, type ObservedExperiment } from './observed.js';

/** Below this many reproduced experiments the prior is Beta(1, 1). */
export const MIN_REPRODUCED_FOR_FIT = 10;
/** Fitted prior mean α0/(α0+β0) is kept within these bounds. */
export const BETA_MEAN_MIN = 0.05;
export const BETA_MEAN_MAX = 0.95;
/** Fitted prior strength α0+β0 is kept at least this … */
export const BETA_STRENGTH_MIN = 0.5;
/** … and at most max(2, replicates): the prior never outweighs one round of reproductions. */
export const BETA_STRENGTH_MIN_CAP = 2;
/** A root's reproduction succeeds when within this many σ̂ of the claimed value. */
export const ROOT_TOLERANCE_SIGMAS = 2;

/** How one reproduction is judged. */
export type SuccessRule =
  /** Improves on the reference level p̄: s·(r − p̄) > 0. */
  | { kind: 'improves'; sign: 1 | -1; pbar: number }
  /** Lies within 2σ̂ of the claimed level (roots); σ̂ null: any value counts. */
  | { kind: 'level'; claimed: number | null; sigma: number | null };

/** Whether one finished reproduction succeeded; a failed run (value null) never does. */
export function reproductionSucceeded(r: Reproduction, rule: SuccessRule): boolean {
  const v = r.value;
  if (typeof v !== 'number' || !Number.isFinite(v)) return false;
  if (rule.kind === 'improves') return rule.sign * (v - rule.pbar) > 0;
  if (rule.claimed === null || rule.sigma === null) return true;
  return Math.abs(v - rule.claimed) <= ROOT_TOLERANCE_SIGMAS * rule.sigma;
}

/** Finished reproductions m (failed runs included) and successes k. */
export function countReproductions(
  reps: readonly Reproduction[],
  rule: SuccessRule,
): { finished: number; successes: number } {
  let successes = 0;
  for (const r of reps) if (reproductionSucceeded(r, rule)) successes++;
  return { finished: reps.length, successes };
}

/** R = (α0 + k)/(α0 + β0 + m); with m = 0 the prior mean α0/(α0 + β0). */
export function reproductionScore(k: number, m: number, alpha0: number, beta0: number): number {
  const a = alpha0 > 0 && Number.isFinite(alpha0) ? alpha0 : 1;
  const b = beta0 > 0 && Number.isFinite(beta0) ? beta0 : 1;
  const r = (a + k) / (a + b + m);
  return r > 1 ? 1 : r > 0 ? r : 0;
}

export interface BetaPrior {
  alpha0: number;
  beta0: number;
  fitted: boolean;
}

/**
 * Method of moments on per-experiment success rates k_i/m_i: mean m̄ and sample variance
 * v give α0 + β0 = m̄(1−m̄)/v − 1 and α0 = m̄·(α0 + β0). The mean is kept in
 * [0.05, 0.95] and the strength in [0.5, max(2, replicates)]; v = 0 gives the cap.
 * Fewer than 10 rates: Beta(1, 1).
 */
export function fitBetaPrior(rates: readonly number[], replicates: number): BetaPrior {
  if (rates.length < MIN_REPRODUCED_FOR_FIT) return { alpha0: 1, beta0: 1, fitted: false };
  const n = rates.length;
  let mean = 0;
  for (const r of rates) mean += r;
  mean /= n;
  let v = 0;
  for (const r of rates) v += (r - mean) * (r - mean);
  v /= n - 1;
  const cap = Math.max(BETA_STRENGTH_MIN_CAP, Number.isFinite(replicates) ? replicates : 0);
  const m = Math.min(BETA_MEAN_MAX, Math.max(BETA_MEAN_MIN, mean));
  const raw = v > 0 ? (m * (1 - m)) / v - 1 : Infinity;
  const strength = Math.min(cap, Math.max(BETA_STRENGTH_MIN, raw));
  return { alpha0: m * strength, beta0: (1 - m) * strength, fitted: true };
}

/**
 * The success rule for an experiment's reproductions: improve on p̄ when X has a reference
 * (premise or baseline), else (roots, and the rare non-root with no reference at all)
 * reproduce the claimed level within 2σ̂. The claimed level is X's value, else the mean of
 * its replicates; with neither, any reproduction that produced a value succeeds.
 */
export function successRuleFor(
  e: ObservedExperiment,
  comparison: Comparison,
  sigma: number | null,
  direction: Direction,
): SuccessRule {
  if (!comparison.isRoot && comparison.pbar !== null)
    return { kind: 'improves', sign: directionSign(direction), pbar: comparison.pbar };
  const reps = (e.replicates ?? []).filter((v) => Number.isFinite(v));
  const claimed =
    typeof e.value === 'number' && Number.isFinite(e.value)
      ? e.value
      : reps.length > 0
        ? mean(reps)
        : null;
  return { kind: 'level', claimed, sigma };
}
