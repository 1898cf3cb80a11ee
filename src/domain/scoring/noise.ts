/**
 * Noise σ̂ (metric units) and its degrees of freedom ν (SPEC §3 "Noise").
 *
 * Invariants: σ̂ is null or finite and > 0 (raised to a floor when the data say 0);
 * ν > 0 whenever σ̂ is not null.
 */
import type { Direction, ProjectConfig, SigmaSource } from '../types.js';
import { DEFAULTS } from '../types.js';
import { directionSign, observations, type ObservedExperiment } from './observed.js';

/** Consistency constant: 1.4826·MAD estimates the SD of a normal sample. */
export const MAD_SCALE = 1.4826;
/**
 * A raw improvement δ = x − p is the difference of two single runs, so under no effect
 * its SD is σ·√2: the MAD fallback divides by √2 to estimate the per-run σ that
 * SE = σ̂·√(1/n_X + 1/n_P) expects (see docs/scoring.md, "Deviations").
 */
export const MAD_DIFFERENCE_CORRECTION = Math.SQRT2;
/** Fewest raw improvements the MAD fallback uses (with 1 or 2 the MAD says nothing). */
export const MAD_MIN_IMPROVEMENTS = 3;
/** Degrees of freedom given to a MAD estimate (SPEC §3). */
export const MAD_NU = 2;
/**
 * Degrees of freedom of repeated runs before σ̂ counts as measured without a prior (SPEC §3: with
 * nothing repeated, the first gate runs the baseline twice more, so 3 runs, ν = 2). One repeat
 * (ν = 1) leaves σ̂ within a factor of 3 only about 80% of the time.
 */
export const SIGMA_KNOWN_DF = 2;

/** σ̂ comes from a prior, or from at least SIGMA_KNOWN_DF pooled degrees of freedom. */
export function sigmaIsKnown(source: string | undefined, nu: number | undefined): boolean {
  if (source === 'prior' || source === 'pooled+prior') return true;
  return source === 'pooled' && typeof nu === 'number' && nu >= SIGMA_KNOWN_DF;
}
/** σ̂ is never below this fraction of the project's typical |metric| … */
export const SIGMA_FLOOR_REL = 1e-6;
/** … nor below SIGMA_FLOOR_REL·SIGMA_FLOOR_MIN_SCALE (metric at or near 0). */
export const SIGMA_FLOOR_MIN_SCALE = 1e-6;

export interface NoiseEstimate {
  sigma: number | null;
  nu: number;
  source: SigmaSource;
  /** True when σ̂ was raised to the floor. */
  floored: boolean;
  /** Σ(n_g − 1)s_g² and Σ(n_g − 1) over groups of ≥ 2 observations. */
  pooledSs: number;
  pooledDf: number;
  groups: number;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Within-group sum of squares and degrees of freedom over groups with ≥ 2 values. */
export function pooledWithinGroups(groups: readonly number[][]): {
  ss: number;
  df: number;
  groups: number;
} {
  let ss = 0;
  let df = 0;
  let n = 0;
  for (const g of groups) {
    if (g.length < 2) continue;
    let m = 0;
    for (const x of g) m += x;
    m /= g.length;
    for (const x of g) ss += (x - m) * (x - m);
    df += g.length - 1;
    n++;
  }
  return { ss, df, groups: n };
}

/** Median of a non-empty array (mean of the two middle values for even length). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Raw improvements δ = s·(x − p) of every non-crash experiment with a value, single
 * values only: x its recorded value, p its premise's recorded value (else its baseline).
 */
export function rawImprovements(
  experiments: readonly ObservedExperiment[],
  direction: Direction,
): number[] {
  const byKey = new Map(experiments.map((e) => [e.key, e]));
  const s = directionSign(direction);
  const out: number[] = [];
  for (const e of experiments) {
    // Unknown rows (a status no one decided, or a line that was never an experiment) say nothing about noise.
    if (e.status === 'crash' || e.status === 'unknown' || !isNum(e.value)) continue;
    const p = e.premiseKey !== null ? byKey.get(e.premiseKey) : undefined;
    const ref = p && isNum(p.value) ? p.value : isNum(e.baseline) ? e.baseline : null;
    if (ref === null) continue;
    out.push(s * (e.value - ref));
  }
  return out;
}

/** σ̂ = 1.4826·MAD(δ)/√2 of raw improvements; null with fewer than 3 of them. */
export function madSigma(deltas: readonly number[]): number | null {
  if (deltas.length < MAD_MIN_IMPROVEMENTS) return null;
  const m = median(deltas);
  const mad = median(deltas.map((d) => Math.abs(d - m)));
  return (MAD_SCALE * mad) / MAD_DIFFERENCE_CORRECTION;
}

/** Smallest σ̂ allowed for a project whose typical |metric| is `scale`. */
export function sigmaFloor(scale: number): number {
  const s = isNum(scale) ? Math.abs(scale) : 0;
  return SIGMA_FLOOR_REL * Math.max(s, SIGMA_FLOOR_MIN_SCALE);
}

/** Median |observation| over the project (the scale of the floor); 0 without any. */
export function metricScale(experiments: readonly ObservedExperiment[]): number {
  const all = experiments.flatMap((e) => observations(e).map(Math.abs));
  return all.length > 0 ? median(all) : 0;
}

/**
 * σ̂ and ν for a project. With a prior (sigma0 > 0, nu0 > 0), a scaled-inverse-χ² update:
 * σ̂² = (ν0·σ0² + Σ(n_g−1)s_g²)/(ν0 + Σ(n_g−1)), ν = ν0 + Σ(n_g−1). Without a prior the
 * pooled groups alone (ν = Σ(n_g−1)); without groups either, the MAD fallback (ν = 2);
 * with nothing, σ̂ = null.
 */
export function estimateNoise(
  project: ProjectConfig,
  all: readonly ObservedExperiment[],
): NoiseEstimate {
  // σ̂ reads decided rows only: an `unknown` row may be a line that never was an experiment (issue 20).
  const experiments = all.filter((e) => e.status !== 'unknown');
  const pooled = pooledWithinGroups(experiments.map(observations));
  const nu0 = isNum(project.nu0) && project.nu0 >= 0 ? project.nu0 : DEFAULTS.nu0;
  const sigma0 = project.sigma0;
  const hasPrior = isNum(sigma0) && sigma0 > 0 && nu0 > 0;
  let sigma: number | null = null;
  let nu = 0;
  let source: SigmaSource = 'none';
  if (hasPrior) {
    sigma = Math.sqrt((nu0 * sigma0 * sigma0 + pooled.ss) / (nu0 + pooled.df));
    nu = nu0 + pooled.df;
    source = pooled.df > 0 ? 'pooled+prior' : 'prior';
  } else if (pooled.df > 0) {
    sigma = Math.sqrt(pooled.ss / pooled.df);
    nu = pooled.df;
    source = 'pooled';
  } else {
    const mad = madSigma(rawImprovements(experiments, project.metric.direction));
    if (mad !== null) {
      sigma = mad;
      nu = MAD_NU;
      source = 'mad';
    }
  }
  let floored = false;
  if (sigma !== null) {
    const floor = sigmaFloor(metricScale(experiments));
    if (!(sigma >= floor)) {
      sigma = floor;
      floored = true;
    }
  }
  return {
    sigma,
    nu,
    source,
    floored,
    pooledSs: pooled.ss,
    pooledDf: pooled.df,
    groups: pooled.groups,
  };
}
