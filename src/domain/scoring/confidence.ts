/**
 * Confidence of every result of a project (SPEC §3) and the anchor rule (SPEC §4):
 * C = wR·R + wS·S + wE·E + wQ·Q, the hard gates, the chain posterior levels and the anchors.
 * Pure: everything comes in through ProjectScoreInput. Formulas: docs/scoring.md.
 *
 * Invariants: every component and C are finite and in [0, 1]; levels are finite or null.
 */
import jstatPkg from 'jstat';
import type { ProjectConfig, ProjectStats, Reason, Weights } from '../types.js';
import { DEFAULT_WEIGHTS } from '../types.js';
import { effectPosterior, expectedBeat, posteriorMoments, probAbove, type AshPrior } from './ash.js';
import { normCdf } from './distributions.js';
import type { ChainNode, Gaussian } from './levels.js';
import { sigmaFloor } from './noise.js';
import { observations, type ObservedExperiment } from './observed.js';

const { jStat } = jstatPkg;

/** An LLM review's shift of Q (SPEC §9). */
export interface ReviewShift {
  adjustment: number;
  reasons: Reason[];
}

export interface ProjectScoreInput {
  project: ProjectConfig;
  /** Every (non-absent) experiment of the project, with premiseKey = its first premise. */
  experiments: readonly ObservedExperiment[];
  stats: ProjectStats;
  /** LLM reviews by experiment key. */
  reviews?: ReadonlyMap<string, ReviewShift>;
}

/** Hard gates, in priority order (the first that applies is reported). */
export type HardGate = 'crash' | 'protected_path' | 'discard' | 'unknown_status';

/** Bounds of the LLM review's shift of Q (SPEC §9): it may lower Q more than raise it. */
export const REVIEW_MIN = -0.3;
export const REVIEW_MAX = 0.1;
/** Below this many degrees of freedom, probabilities are integrated over σ's posterior. */
export const SIGMA_NODES_BELOW_NU = 30;
/** Quantile nodes of σ's scaled-inverse-χ² posterior. */
export const SIGMA_NODES = 5;
/** Default Beta prior of a reproduction running at all (SPEC §3). */
export const RUN_PRIOR = Object.freeze({ alpha: 19, beta: 1 });
/** Reproduced experiments needed before the run-success prior is fitted by moments. */
export const MIN_REPRODUCED_FOR_FIT = 10;

/** x clamped to [0, 1]; NaN ⇒ 0. */
export const clamp01 = (x: number): number => (x > 1 ? 1 : x > 0 ? x : 0);
/** A number for a reason sentence: four significant digits. */
export const fmt = (x: number): string => (Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : String(x));
/** x when finite, else null. */
export const finiteOrNull = (x: number | null | undefined): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/** The project's weights, made non-negative and summing to 1 (defaults if unusable). */
export function normalizedWeights(w: Weights | undefined): Weights {
  const keys = ['reproduction', 'statistics', 'effect', 'code'] as const;
  const clean = keys.map((k) => {
    const v = w?.[k];
    return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
  });
  const total = clean.reduce((a, b) => a + b, 0);
  if (!(total > 0)) return { ...DEFAULT_WEIGHTS };
  const scale = Math.abs(total - 1) < 1e-9 ? 1 : total;
  return { reproduction: clean[0] / scale, statistics: clean[1] / scale, effect: clean[2] / scale, code: clean[3] / scale };
}

/**
 * σ nodes: with ν < 30, SIGMA_NODES equal-weight quantile nodes of σ² ~ scaled-inv-χ²(ν, σ̂²),
 * σ_j² = ν·σ̂²/χ²_ν((j − ½)/J); else σ̂ alone.
 */
export function sigmaNodes(sigma: number, nu: number): number[] {
  if (!(nu > 0) || nu >= SIGMA_NODES_BELOW_NU) return [sigma];
  const out: number[] = [];
  for (let j = 1; j <= SIGMA_NODES; j++) {
    const q = jStat.chisquare.inv((j - 0.5) / SIGMA_NODES, nu);
    out.push(Math.sqrt((nu * sigma * sigma) / q));
  }
  return out;
}

/** What the improvement of X over its reference says: S, E, the beat probability and μ's posterior. */
export interface EffectSummary {
  s: number;
  e: number;
  beat: number;
  muMean: number;
  muSd: number;
}

/**
 * S = P(μ > minEffect | d), E = Φ((E[μ|d] − minEffect)/(σ√2)) and E[Φ(μ/σ)], each averaged
 * over σ's quantile nodes (the prior's scales stay at σ̂; V scales with σ_j²/σ̂²).
 */
export function summarizeEffect(g: AshPrior, d: number, V: number, sigma: number, nu: number, minEffect: number): EffectSummary {
  const nodes = sigmaNodes(sigma, nu);
  let s = 0;
  let e = 0;
  let beat = 0;
  let m1 = 0;
  let m2 = 0;
  for (const sj of nodes) {
    const r = (sj / sigma) ** 2;
    const post = effectPosterior(g, d, V * r, sigma);
    const mom = posteriorMoments(post);
    s += probAbove(post, minEffect);
    e += normCdf((mom.mean - minEffect) / (sj * Math.SQRT2));
    beat += expectedBeat(post, sj);
    m1 += mom.mean;
    m2 += mom.variance + mom.mean * mom.mean;
  }
  const J = nodes.length;
  const mean = m1 / J;
  return { s: clamp01(s / J), e: clamp01(e / J), beat: clamp01(beat / J), muMean: mean, muSd: Math.sqrt(Math.max(0, m2 / J - mean * mean)) };
}

/** Posterior mean rate of a reproduction running at all: (α0 + ok)/(α0 + β0 + finished). */
export function runSuccessRate(ok: number, finished: number, alpha0: number, beta0: number): number {
  return clamp01((alpha0 + ok) / (alpha0 + beta0 + finished));
}

/**
 * The run-success Beta prior, by moments over the project's reproduced experiments' rates
 * (ok/finished); RUN_PRIOR with fewer than MIN_REPRODUCED_FOR_FIT. Mean clamped to
 * [0.5, 0.995], strength to [2, 100].
 */
export function fitRunPrior(rates: readonly number[]): { alpha0: number; beta0: number; fitted: boolean } {
  if (rates.length < MIN_REPRODUCED_FOR_FIT) return { alpha0: RUN_PRIOR.alpha, beta0: RUN_PRIOR.beta, fitted: false };
  const m = rates.reduce((a, b) => a + b, 0) / rates.length;
  const v = rates.reduce((a, b) => a + (b - m) ** 2, 0) / (rates.length - 1);
  const mean = Math.min(0.995, Math.max(0.5, m));
  const strength = v > 0 ? Math.min(100, Math.max(2, (mean * (1 - mean)) / v - 1)) : RUN_PRIOR.alpha + RUN_PRIOR.beta;
  return { alpha0: mean * strength, beta0: (1 - mean) * strength, fitted: true };
}

/** σ̂ to score with (the floor when a caller passed σ̂ ≤ 0), or null without one. */
export function usableSigma(stats: ProjectStats, experiments: readonly ObservedExperiment[]): number | null {
  if (stats.sigma === null || stats.sigma === undefined) return null;
  if (stats.sigma > 0 && Number.isFinite(stats.sigma)) return stats.sigma;
  const xs = experiments.flatMap((e) => observations(e));
  return sigmaFloor(xs.length > 0 ? Math.max(...xs.map(Math.abs)) : 0);
}

/** The chain nodes of a project's experiments, in better units. */
export function chainNodes(experiments: readonly ObservedExperiment[], sign: 1 | -1): ChainNode[] {
  return experiments.map((e) => ({
    key: e.key,
    premise: e.premiseKey,
    runs: observations(e).map((x) => sign * x),
    baseline: typeof e.baseline === 'number' && Number.isFinite(e.baseline) ? sign * e.baseline : null,
  }));
}

/** P(L_X > L_A) for two independent Gaussian levels (the cumulative anchor test). */
export function probAboveLevel(x: Gaussian, a: Gaussian): number {
  return normCdf((x.m - a.m) / Math.sqrt(x.v + a.v));
}

