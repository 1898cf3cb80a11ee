/*
 * Baseline only: ECV's first gate design (v1), copied verbatim from our own code at git commit
 * 3b67ef4 (src/domain/scoring/effect.ts) so the obey-mode bench can run the previous design as a policy
 * in process after the service moved to gate v2. Not used by the service; do not edit except
 * to keep it compiling.
 */
/**
 * Effect E: direction-aware effect size (SPEC §3), the probability that a fresh run of X
 * beats a fresh run of P under the shrunk effect.
 *
 *   δ̃ = P(real | z)·τ²/(1+τ²)·δ − minEffect      (metric units; E[μ|z]·SE = shrink·z·SE)
 *   E  = Φ(δ̃ / (σ̂·√2))                          (√2: two fresh runs, each with SD σ̂)
 *
 * Invariants: δ < 0 ⇒ E < 0.5 (strictly, see REGRESSION_CAP); E is non-decreasing in δ
 * for fixed SE, because P(real | z) grows with |z| and so |δ̃| grows with |δ|.
 */
import { normCdf } from './distributions.js';

/** Largest double below 0.5: Φ of a regression of 1e-17·σ̂ would round to 0.5 itself. */
export const REGRESSION_CAP = 0.5 - 2 ** -54;

export interface EffectInput {
  /** δ = s·(x̄ − p̄), metric units. */
  delta: number;
  /** σ̂, metric units, > 0. */
  sigma: number;
  /** P(real | z) from the two-group posterior. */
  pReal: number;
  /** τ, SE units. */
  tau: number;
  /** Smallest effect of interest, metric units. */
  minEffect: number;
}

export interface EffectResult {
  e: number;
  /** δ̃, the shrunk effect minus minEffect, metric units. */
  shrunk: number;
}

/** E = Φ(δ̃/(σ̂√2)) with δ̃ the posterior-mean effect minus minEffect. */
export function effectScore(input: EffectInput): EffectResult {
  const { delta, sigma, pReal, tau, minEffect } = input;
  const shrink = (pReal * tau * tau) / (1 + tau * tau);
  const shrunk = shrink * delta - (Number.isFinite(minEffect) ? minEffect : 0);
  let e = normCdf(shrunk / (sigma * Math.SQRT2));
  if (!Number.isFinite(e)) e = shrunk > 0 ? 1 : shrunk < 0 ? 0 : 0.5;
  if (delta < 0 && e > REGRESSION_CAP) e = REGRESSION_CAP;
  return { e, shrunk };
}
