/**
 * Project-wide statistics (SPEC §3): σ̂ and ν, the effect prior g (adaptive shrinkage, fitted by
 * EM against each proposal's premise level), and the run-success Beta prior. Pure and
 * deterministic; scores record the version they used.
 */
import type { ProjectConfig, ProjectStats } from '../types.js';
import { defaultPrior, fitPrior, GRID_SCALES, type AshPrior, type FitPoint } from './ash.js';
import { chainNodes, fitRunPrior } from './confidence.js';
import { computeLevels } from './levels.js';
import { estimateNoise, sigmaIsKnown } from './noise.js';
import { directionSign, type ObservedExperiment } from './observed.js';

export interface StatsInput {
  project: ProjectConfig;
  experiments: readonly ObservedExperiment[];
  /** The statistics in use (their prior warm-starts the fit; version + 1 is returned). */
  previous?: ProjectStats | null;
  /** Fit the prior anew (default true); false keeps `previous.prior` and refreshes σ̂ only. */
  refitPrior?: boolean;
  /** Observations now (recorded as priorAtCount when the prior is refit). */
  observationCount?: number;
  /** Version of the statistics in use when `previous` is not given. */
  previousVersion?: number;
}

/**
 * The proposals the prior is fitted on (SPEC §3): every non-crash experiment with a reference
 * (its premise's cavity level, or its baseline) and at least one run, keeps and discards alike,
 * as d = ū − m_ref with V = v_ref + σ̂²/n.
 */
export function fitPoints(project: ProjectConfig, experiments: readonly ObservedExperiment[], g: AshPrior, sigma: number): FitPoint[] {
  const nodes = chainNodes(experiments, directionSign(project.metric.direction));
  const { levels } = computeLevels(nodes, g, sigma);
  const out: FitPoint[] = [];
  for (const e of experiments) {
    // Unknown rows never enter the prior fit (issue 20), as they never enter σ̂.
    if (e.status === 'crash' || e.status === 'unknown') continue;
    const lv = levels.get(e.key);
    if (lv?.d === null || lv?.d === undefined || lv.V === null) continue;
    out.push({ d: lv.d, V: lv.V });
  }
  return out;
}

/** π = 1 − null weight and the mean scale of the non-null part, in σ̂ (summaries for reports). */
function summarize(g: AshPrior): { pi: number; tau: number } {
  const pi = 1 - g.null;
  let sum = 0;
  GRID_SCALES.forEach((rel, k) => (sum += (g.gains[k] + g.losses[k]) * rel));
  return { pi, tau: pi > 0 ? sum / pi : 0 };
}

/**
 * σ̂/ν (pooled within-commit groups + prior, MAD fallback); the effect prior by EM in two
 * passes (levels under the previous prior, fit, which the scorer then uses); the run-success
 * prior by moments (Beta(19, 1) under 10 reproduced experiments).
 */
export function computeProjectStats(input: StatsInput): ProjectStats {
  const { project, experiments } = input;
  const prev = input.previous ?? null;
  const noise = estimateNoise(project, experiments);
  // The fit starts from g0 and reads levels under g0, never the previous fit: the prior then
  // depends on the data alone, not on the order they arrived in (a replayed log ends where a
  // fresh ingest of its last version does).
  const start = defaultPrior();
  let prior: AshPrior = prev?.prior ?? start;
  let fitted = prev?.fitted ?? false;
  let nProposals = prev?.nProposals ?? 0;
  let logLik = prev?.logLik;
  let priorAtCount = prev?.priorAtCount;
  const refit = input.refitPrior ?? true;
  if (noise.sigma !== null && (refit || !prev?.prior)) {
    const points = fitPoints(project, experiments, start, noise.sigma);
    nProposals = points.length;
    if (points.length > 0) {
      const fit = fitPrior(points, noise.sigma);
      prior = fit.prior;
      logLik = fit.logLik;
      fitted = true;
    } else {
      prior = defaultPrior();
      fitted = false;
      logLik = undefined;
    }
    priorAtCount = input.observationCount ?? priorAtCount;
  }
  const rates: number[] = [];
  for (const e of experiments) {
    const reps = e.reproductions ?? [];
    if (e.status === 'unknown') continue;
    if (reps.length === 0) continue;
    rates.push(reps.filter((r) => r.value !== null && Number.isFinite(r.value) && !r.error).length / reps.length);
  }
  const beta = fitRunPrior(rates);
  const version = prev ? prev.version : typeof input.previousVersion === 'number' && Number.isFinite(input.previousVersion) ? Math.floor(input.previousVersion) : 0;
  const { pi, tau } = summarize(prior);
  const stats: ProjectStats = {
    version: version + 1,
    sigma: noise.sigma,
    nu: noise.nu,
    sigmaSource: noise.source,
    pi,
    tau,
    fitted,
    nProposals,
    alpha0: beta.alpha0,
    beta0: beta.beta0,
    sigmaFloored: noise.floored,
    betaFitted: beta.fitted,
    nReproduced: rates.length,
    prior,
    sigmaKnown: sigmaIsKnown(noise.source, noise.nu),
  };
  if (logLik !== undefined) stats.logLik = logLik;
  if (priorAtCount !== undefined) stats.priorAtCount = priorAtCount;
  return stats;
}

/** The data must grow by this share since the last fit before the statistics are refit (SPEC §3). */
export const REFIT_GROWTH = 0.1;
/**
 * Below this many observations every write refits: a night's loop (100–300 experiments and their
 * reproductions) is then scored exactly as from its data alone, at a few hundred ms per write.
 * In the obey bench, holding the statistics between 10% refits in such small projects moved the
 * decisions (effects < noise, 20 loops: contamination 8.7% → 10.0%, true gain 71% → 64% of flat's).
 */
export const REFIT_ALWAYS_BELOW = 500;

/**
 * Whether a write must refit the project statistics (σ̂, ν, the prior, the run-success prior)
 * and rescore the whole project, rather than rescore only what it affects under the current
 * ones (SPEC §3: "refit when the data grew by ≥ 10%, in batch"). Due when there are none yet,
 * when σ̂ is unusable, when σ̂ is not measured yet and the write gave a commit a repeated run
 * (`repeatsRun`: the first gate's bootstrap runs must move σ̂ at once; a log without repeats
 * leaves it where it is), while the project is small (REFIT_ALWAYS_BELOW observations), and when
 * the observations (experiments + reproductions) grew by REFIT_GROWTH since the count the
 * statistics were fitted at.
 */
export function statsDue(prev: ProjectStats | null | undefined, fittedAtCount: number | null | undefined, count: number, repeatsRun = true): boolean {
  if (!prev || typeof fittedAtCount !== 'number' || !Number.isFinite(fittedAtCount)) return true;
  if (!(typeof prev.sigma === 'number' && prev.sigma > 0 && Number.isFinite(prev.sigma))) return true;
  if (repeatsRun && !sigmaIsKnown(prev.sigmaSource, prev.nu)) return true;
  if (count < REFIT_ALWAYS_BELOW) return true;
  return count >= fittedAtCount * (1 + REFIT_GROWTH) || count < fittedAtCount;
}
