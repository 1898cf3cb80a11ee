/*
 * Baseline only: ECV's first gate design (v1), copied verbatim from our own code at git commit
 * 3b67ef4 (src/domain/scoring/stats.ts) so the obey-mode bench can run the previous design as a policy
 * in process after the service moved to gate v2. Not used by the service; do not edit except
 * to keep it compiling.
 */
/**
 * Project-wide statistics (SPEC §3, §4): σ̂ and ν, π and τ, α0 and β0. Computed in batch
 * from every experiment of the project; scores record the version they used.
 */
import type { ProjectConfig, ProjectStats } from '../types.js';
import { estimateNoise } from './noise.js';
import { compareWithReference, standardError, type ObservedExperiment } from './observed.js';
import { countReproductions, fitBetaPrior, successRuleFor } from './reproduction.js';
import {
  DEFAULT_PI,
  DEFAULT_TAU,
  effectiveNu,
  fitPiTau,
  MIN_PROPOSALS_FOR_FIT,
} from './statistics.js';

export interface StatsInput {
  project: ProjectConfig;
  experiments: ObservedExperiment[];
  /** Version of the statistics in use; the result is previousVersion + 1 (1 without). */
  previousVersion?: number;
}

/**
 * Standardized improvements z = δ/SE of the project's proposals: every non-crash
 * experiment with a reference (premise or baseline) and at least one observation,
 * keeps, discards and unknowns alike.
 */
export function proposalZs(
  project: ProjectConfig,
  experiments: readonly ObservedExperiment[],
  sigma: number,
): number[] {
  const byKey = new Map(experiments.map((e) => [e.key, e]));
  const zs: number[] = [];
  for (const e of experiments) {
    if (e.status === 'crash') continue;
    const premise = e.premiseKey !== null ? (byKey.get(e.premiseKey) ?? null) : null;
    const c = compareWithReference(e, premise, project.metric.direction);
    if (c.delta === null) continue;
    zs.push(c.delta / standardError(sigma, c.nX, c.nP));
  }
  return zs;
}

/**
 * σ̂/ν (pooled within-commit groups + prior, MAD fallback), π/τ by maximum marginal
 * likelihood (defaults π = 0.2, τ = 2 under 30 proposals or without σ̂), α0/β0 by method
 * of moments (Beta(1, 1) under 10 reproduced experiments). Pure and deterministic.
 */
export function computeProjectStats(input: StatsInput): ProjectStats {
  const { project, experiments } = input;
  const noise = estimateNoise(project, experiments);
  const zs = noise.sigma !== null ? proposalZs(project, experiments, noise.sigma) : [];
  let pi = DEFAULT_PI;
  let tau = DEFAULT_TAU;
  let logLik: number | undefined;
  const fitted = zs.length >= MIN_PROPOSALS_FOR_FIT;
  if (fitted) {
    const fit = fitPiTau(zs, noise.nu);
    pi = fit.pi;
    tau = fit.tau;
    logLik = fit.logLik;
  }

  const byKey = new Map(experiments.map((e) => [e.key, e]));
  const rates: number[] = [];
  for (const e of experiments) {
    if ((e.reproductions ?? []).length === 0) continue;
    const premise = e.premiseKey !== null ? (byKey.get(e.premiseKey) ?? null) : null;
    const c = compareWithReference(e, premise, project.metric.direction);
    const rule = successRuleFor(e, c, noise.sigma, project.metric.direction);
    const { finished, successes } = countReproductions(e.reproductions, rule);
    rates.push(successes / finished);
  }
  const beta = fitBetaPrior(rates, project.reproduction?.replicates ?? 3);
  const prev = input.previousVersion;
  const stats: ProjectStats = {
    version: (typeof prev === 'number' && Number.isFinite(prev) ? Math.floor(prev) : 0) + 1,
    sigma: noise.sigma,
    nu: noise.nu,
    sigmaSource: noise.source,
    pi,
    tau,
    fitted,
    nProposals: zs.length,
    alpha0: beta.alpha0,
    beta0: beta.beta0,
    sigmaFloored: noise.floored,
    betaFitted: beta.fitted,
    nReproduced: rates.length,
  };
  if (logLik !== undefined) stats.logLik = logLik;
  return stats;
}

/** Tolerances beyond which new statistics are worth a batch re-score. */
export const MATERIAL_CHANGE = Object.freeze({
  /** |σ' − σ|/σ */
  sigmaRel: 0.05,
  /** |ν' − ν|/ν while both use the Student-t (ν < 30); crossing 30 always counts. */
  nuRel: 0.2,
  /** |π' − π| */
  piAbs: 0.02,
  /** |τ' − τ|/τ */
  tauRel: 0.1,
  /** |α0'/(α0'+β0') − α0/(α0+β0)| */
  betaMeanAbs: 0.02,
  /** |(α0'+β0') − (α0+β0)|/(α0+β0) */
  betaStrengthRel: 0.25,
});

const within = (diff: number, tol: number): boolean => Math.abs(diff) <= tol; // NaN ⇒ false
const relWithin = (a: number, b: number, tol: number): boolean =>
  a === b || within((b - a) / Math.abs(a), tol);

/**
 * Whether the statistics moved enough that stored scores should be recomputed:
 * σ̂ appeared, vanished, changed source or moved > 5%, the t/normal regime or ν (> 20%) changed,
 * π moved > 0.02, τ > 10%, fitted/default switched, or the Beta prior's mean moved
 * > 0.02 or its strength > 25%. NaN anywhere counts as moved.
 */
export function statsMovedMaterially(prev: ProjectStats, next: ProjectStats): boolean {
  const t = MATERIAL_CHANGE;
  if ((prev.sigma === null) !== (next.sigma === null)) return true;
  if (prev.sigmaSource !== next.sigmaSource) return true; // the reasons of every score change
  if (prev.sigma !== null && next.sigma !== null && !relWithin(prev.sigma, next.sigma, t.sigmaRel))
    return true;
  const nuA = effectiveNu(prev.nu);
  const nuB = effectiveNu(next.nu);
  if ((nuA === Infinity) !== (nuB === Infinity)) return true;
  if (nuA !== Infinity && !relWithin(nuA, nuB, t.nuRel)) return true;
  if (prev.fitted !== next.fitted) return true;
  if (!within(next.pi - prev.pi, t.piAbs)) return true;
  if (!relWithin(prev.tau, next.tau, t.tauRel)) return true;
  const sA = prev.alpha0 + prev.beta0;
  const sB = next.alpha0 + next.beta0;
  if (!within(next.alpha0 / sB - prev.alpha0 / sA, t.betaMeanAbs)) return true;
  return !relWithin(sA, sB, t.betaStrengthRel);
}
