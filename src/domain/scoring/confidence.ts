/**
 * Confidence of every result of a project (SPEC §3) and the anchor rule (SPEC §4):
 * C = wR·R + wS·S + wE·E + wQ·Q, the hard gates, the chain posterior levels and the anchors.
 * Pure: everything comes in through ProjectScoreInput. Formulas: docs/scoring.md.
 *
 * Invariants: every component and C are finite and in [0, 1]; levels are finite or null.
 */
import jstatPkg from 'jstat';
import type { ProjectConfig, ProjectStats, Reason, Score, Weights } from '../types.js';
import { DEFAULT_WEIGHTS, DEFAULTS } from '../types.js';
import { defaultPrior, effectPosterior, expectedBeat, posteriorMoments, probAbove, probSumAbove, type AshPrior } from './ash.js';
import { codeQuality } from './code-quality.js';
import { normCdf } from './distributions.js';
import { computeLevels, type ChainNode, type Gaussian, type NodeLevel } from './levels.js';
import { sigmaFloor } from './noise.js';
import { directionSign, observations, type ObservedExperiment } from './observed.js';

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

const clamp01 = (x: number): number => (x > 1 ? 1 : x > 0 ? x : 0); // NaN ⇒ 0
const fmt = (x: number): string => (Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : String(x));
const finiteOrNull = (x: number | null | undefined): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

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
function usableSigma(stats: ProjectStats, experiments: readonly ObservedExperiment[]): number | null {
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

/** Q, the hard gate and their reasons (SPEC §3 "Code quality", "Hard gates"). */
function qualityOf(project: ProjectConfig, e: ObservedExperiment, review: ReviewShift | undefined): { q: number; hardGate: HardGate | null; reasons: Reason[] } {
  const code = codeQuality(project, e);
  let hardGate: HardGate | null = code.hardGate;
  const reasons: Reason[] = [...code.reasons];
  if (e.status === 'discard') {
    hardGate ??= 'discard';
    reasons.push({ code: 'discard', message: 'Status discard: a discard is never a premise (hard gate).' });
  } else if (e.status === 'unknown') {
    hardGate ??= 'unknown_status';
    reasons.push({ code: 'unknown_status', message: 'Status unknown: never a premise (hard gate).' });
  }
  let q = code.q;
  if (review) {
    const adj = review.adjustment;
    const bounded = Number.isFinite(adj) ? Math.min(REVIEW_MAX, Math.max(REVIEW_MIN, adj)) : 0;
    reasons.push(...review.reasons);
    if (code.hardGate !== null) {
      reasons.push({ code: 'review_not_applied', message: 'Review shift not applied: Q is hard-gated at 0.' });
    } else {
      q = clamp01(q + bounded);
      reasons.push({ code: 'review', message: `LLM review shifted Q by ${fmt(bounded)} to ${fmt(q)}.` });
    }
  }
  return { q, hardGate, reasons };
}

/** P(L_X > L_A) for two independent Gaussian levels (the cumulative anchor test). */
export function probAboveLevel(x: Gaussian, a: Gaussian): number {
  return normCdf((x.m - a.m) / Math.sqrt(x.v + a.v));
}

const toMetric = (g: Gaussian | null, sign: 1 | -1) => (g ? { mean: sign * g.m + 0, sd: Math.sqrt(g.v) } : null);

/**
 * Scores every experiment of a project: levels along the chain, S/E/R/Q and C, hard gates and
 * anchors. Returns scores by key.
 */
export function scoreProject(input: ProjectScoreInput): Map<string, Score> {
  const { project, experiments, stats } = input;
  const sign = directionSign(project.metric.direction);
  const g = stats.prior ?? defaultPrior();
  const sigma = usableSigma(stats, experiments);
  const minEffect = Number.isFinite(project.minEffect) ? project.minEffect : 0;
  const nu = Number.isFinite(stats.nu) ? stats.nu : 0;
  const nodes = chainNodes(experiments, sign);
  const { levels, order } = sigma !== null ? computeLevels(nodes, g, sigma) : { levels: new Map<string, NodeLevel>(), order: nodes.map((n) => n.key) };
  const byKey = new Map(experiments.map((e) => [e.key, e]));
  const w = normalizedWeights(project.weights);
  const anchorMin = Number.isFinite(project.anchorMin) ? project.anchorMin : DEFAULTS.anchorMin;
  const out = new Map<string, Score>();
  /** Per key: anchor, nearest anchor at or above (for its children), hard gate between. */
  const anchorInfo = new Map<string, { anchor: boolean; nearest: string | null; gatedBelowAnchor: boolean; hardGate: string | null }>();

  for (const key of order) {
    const e = byKey.get(key)!;
    const lv = levels.get(key) ?? null;
    const hasPremise = e.premiseKey !== null && byKey.has(e.premiseKey) && e.premiseKey !== key;
    const isRoot = e.premiseKey === null && !(typeof e.baseline === 'number' && Number.isFinite(e.baseline));
    const review = input.reviews?.get(key);
    const quality = qualityOf(project, e, review);
    const reasons: Reason[] = [...quality.reasons];
    if (stats.sigmaSource === 'mad' && sigma !== null)
      reasons.push({ code: 'sigma_from_mad', message: `σ̂ = ${fmt(sigma)} from 1.4826·MAD/√2 of the raw improvements (no prior, nothing repeated), ν = ${fmt(nu)}.` });
    else if (stats.sigmaSource === 'prior' && sigma !== null)
      reasons.push({ code: 'sigma_prior_only', message: `σ̂ = ${fmt(sigma)} from the prior alone (nothing repeated yet).` });
    if (stats.sigmaFloored) reasons.push({ code: 'sigma_floor', message: `Observed noise is 0; σ̂ raised to the floor ${fmt(sigma ?? 0)}.` });

    const nX = observations(e).length;
    let s: number;
    let eff: number;
    let beat: number;
    let mu: { mean: number; sd: number } | null = null;
    const d = lv?.d ?? null;
    const V = lv?.V ?? null;
    if (isRoot) {
      s = 1;
      eff = 1;
      beat = 1;
      reasons.push({ code: 'root', message: 'Root (no premise, no baseline): claims no improvement, S = E = 1.' });
    } else if (nX === 0) {
      s = 0;
      eff = 0;
      beat = 0;
      reasons.push({ code: 'no_value', message: 'No metric value: nothing supports an improvement, S = E = 0.' });
    } else if (sigma === null) {
      s = 0.5;
      eff = 0.5;
      beat = 0.5;
      reasons.push({ code: 'sigma_unavailable', message: 'No noise estimate yet (no sigma0, nothing repeated, < 3 improvements): S = E = 0.5.' });
    } else if (d === null || V === null || !lv?.reference) {
      s = 0.5;
      eff = 0.5;
      beat = 0.5;
      reasons.push({ code: 'no_reference', message: 'The premise has no level and no baseline is recorded: S = E = 0.5.' });
    } else {
      const sum = summarizeEffect(g, d, V, sigma, nu, minEffect);
      s = sum.s;
      eff = sum.e;
      beat = sum.beat;
      mu = { mean: sum.muMean, sd: sum.muSd };
      const ref = lv.reference;
      if (ref.source === 'baseline') reasons.push({ code: 'baseline_reference', message: `Compared with the recorded baseline ${fmt(sign * ref.m)}, read as one run (variance σ̂²).` });
      if (nu < SIGMA_NODES_BELOW_NU) reasons.push({ code: 'sigma_integrated', message: `ν = ${fmt(nu)} < 30: probabilities averaged over ${SIGMA_NODES} quantile nodes of σ's posterior.` });
      reasons.push({
        code: 'statistics',
        message: `Premise level ${fmt(sign * ref.m)} ± ${fmt(Math.sqrt(ref.v))}, x̄ = ${fmt(sign * (lv.mean as number))} over ${nX} run(s): d = ${fmt(d)}, √V = ${fmt(Math.sqrt(V))}; S = P(μ > ${fmt(minEffect)} | d) = ${fmt(s)}.`,
      });
      reasons.push({ code: 'effect', message: `Posterior effect E[μ|d] = ${fmt(sum.muMean)} ± ${fmt(sum.muSd)}: E = ${fmt(eff)}.` });
    }

    // R: a fresh reproduction runs and beats the premise's level.
    const reps = e.reproductions ?? [];
    const finished = reps.length;
    const okRuns = reps.filter((r) => r.value !== null && Number.isFinite(r.value) && !r.error).length;
    const alpha0 = Number.isFinite(stats.alpha0) && stats.alpha0 > 0 ? stats.alpha0 : RUN_PRIOR.alpha;
    const beta0 = Number.isFinite(stats.beta0) && stats.beta0 > 0 ? stats.beta0 : RUN_PRIOR.beta;
    const runs = runSuccessRate(okRuns, finished, alpha0, beta0);
    const r = clamp01(runs * beat);
    reasons.push({
      code: finished === 0 ? 'no_reproductions' : 'reproductions',
      message: `${finished === 0 ? 'No reproductions yet' : `${okRuns} of ${finished} reproductions ran`}: P(run) = ${fmt(runs)}, P(beats premise) = ${fmt(beat)}, R = ${fmt(r)}.`,
    });

    // Anchors (SPEC §4): the root, or reproduced and verified above the nearest anchor.
    const p = hasPremise ? anchorInfo.get(e.premiseKey!) : undefined;
    const nearest = p ? (p.anchor ? e.premiseKey! : p.nearest) : null;
    const gatedBelow = p ? (p.anchor ? false : p.gatedBelowAnchor || p.hardGate !== null) : false;
    let anchor = false;
    let anchorP: number | null = null;
    if (quality.hardGate === null) {
      if (!hasPremise && isRoot) anchor = true;
      else if (okRuns >= 1 && nearest !== null && !gatedBelow && sigma !== null && d !== null && V !== null && lv?.reference) {
        // L_X − L_A = μ_X + (L_P − L_A): μ_X's mixture posterior plus the chain between P and A.
        const post = effectPosterior(g, d, V, sigma);
        const a = levels.get(nearest)?.full;
        if (nearest === e.premiseKey) anchorP = probAbove(post, 0);
        else if (a) anchorP = probSumAbove(post, lv.reference.m - a.m, Math.sqrt(lv.reference.v + a.v));
        anchor = anchorP !== null && anchorP >= anchorMin;
      }
    }
    anchorInfo.set(key, { anchor, nearest, gatedBelowAnchor: gatedBelow, hardGate: quality.hardGate });
    if (anchor)
      reasons.push({
        code: 'anchor',
        message: isRoot ? 'Root: an anchor (it states the baseline).' : `Reproduced, level verified above anchor ${nearest}: P(L > L_A) = ${fmt(anchorP!)} ≥ ${anchorMin}.`,
      });
    else if (anchorP !== null)
      reasons.push({ code: 'not_anchor', message: `Reproduced, but P(L > L of anchor ${nearest}) = ${fmt(anchorP)} < ${anchorMin}: not an anchor yet.` });

    const components = { reproduction: clamp01(r), statistics: clamp01(s), effect: clamp01(eff), code: clamp01(quality.q) };
    const value = clamp01(w.reproduction * components.reproduction + w.statistics * components.statistics + w.effect * components.effect + w.code * components.code);
    const z = d !== null && V !== null && V > 0 ? d / Math.sqrt(V) : null;
    out.set(key, {
      value,
      components,
      sigma: sigma !== null && Number.isFinite(sigma) ? sigma : null,
      nu,
      z: finiteOrNull(z),
      delta: finiteOrNull(d),
      nX,
      nP: hasPremise ? observations(byKey.get(e.premiseKey!)!).length : 0,
      reproductions: { finished, successes: okRuns },
      hardGate: quality.hardGate,
      anchorEligible: anchor,
      reasons,
      statsVersion: stats.version,
      V: finiteOrNull(V),
      level: toMetric(lv?.full ?? null, sign),
      premiseLevel: lv?.reference ? { ...toMetric(lv.reference, sign)!, source: lv.reference.source } : null,
      mu,
      chain: lv ? { full: lv.full, base: lv.base, reference: lv.reference ? { m: lv.reference.m, v: lv.reference.v } : null, nearestAnchor: nearest } : null,
      runSuccess: runs,
    });
  }
  return out;
}
