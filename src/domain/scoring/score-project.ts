/**
 * Scores the experiments of a project (SPEC §3) with the anchor rule (SPEC §4): levels along the
 * chain, S/E/R/Q and C, hard gates and anchors. Pure: everything comes in through the input.
 *
 * A subtree can be scored on its own (`frontier`): a commit's level depends on its premise's
 * cavity, its own runs and its children's runs, and its anchor on its premise's anchor facts and
 * its nearest anchor's level, so the entries' cavities and the stored facts of the few commits
 * above them reproduce what the whole project would compute for the subtree (same statistics).
 */
import type { ProjectConfig, ProjectStats, Reason, Score } from '../types.js';
import { DEFAULTS } from '../types.js';
import { defaultPrior, effectPosterior, probAbove, probSumAbove, type AshPrior } from './ash.js';
import { codeQuality } from './code-quality.js';
import {
  chainNodes,
  clamp01,
  finiteOrNull,
  fmt,
  normalizedWeights,
  runSuccessRate,
  RUN_PRIOR,
  REVIEW_MAX,
  REVIEW_MIN,
  SIGMA_NODES,
  SIGMA_NODES_BELOW_NU,
  summarizeEffect,
  usableSigma,
  type HardGate,
  type ProjectScoreInput,
  type ReviewShift,
} from './confidence.js';
import { computeLevels, type Gaussian, type NodeLevel } from './levels.js';
import { directionSign, observations, type ObservedExperiment } from './observed.js';

/** What a scored experiment reads of a commit outside the scored set (from its stored score). */
export interface OutsideNode {
  /** Its number of runs (nP of the experiments built on it). */
  runs: number;
  anchor: boolean;
  /** Nearest anchor at or above it (for its children), by key. */
  nearest: string | null;
  /** A hard gate lies between it and its nearest anchor. */
  gatedBelowAnchor: boolean;
  hardGate: string | null;
  /** Its full level, better units (for experiments whose nearest anchor it is). */
  full: Gaussian | null;
}

/** Scoring a subtree on its own: the entries' premise cavities and the commits above them. */
export interface ScoreFrontier {
  /** Premise cavity (better units) of each scored experiment whose premise is outside; null: none. */
  references: ReadonlyMap<string, Gaussian | null>;
  /** Premises of the entries and their nearest anchors. */
  outside: ReadonlyMap<string, OutsideNode>;
}

/** Per key: anchor, nearest anchor at or above (for its children), hard gate between. */
type AnchorFacts = Pick<OutsideNode, 'anchor' | 'nearest' | 'gatedBelowAnchor' | 'hardGate'>;

/** Everything one experiment's score reads besides the experiment itself. */
interface Context {
  project: ProjectConfig;
  stats: ProjectStats;
  g: AshPrior;
  sigma: number | null;
  nu: number;
  minEffect: number;
  sign: 1 | -1;
  anchorMin: number;
  byKey: ReadonlyMap<string, ObservedExperiment>;
  levels: ReadonlyMap<string, NodeLevel>;
  outside: ReadonlyMap<string, OutsideNode>;
  anchorFacts: Map<string, AnchorFacts>;
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

/** Reasons that describe σ̂ itself (the same on every experiment). */
function sigmaReasons(stats: ProjectStats, sigma: number | null, nu: number): Reason[] {
  const out: Reason[] = [];
  if (stats.sigmaSource === 'mad' && sigma !== null)
    out.push({ code: 'sigma_from_mad', message: `σ̂ = ${fmt(sigma)} from 1.4826·MAD/√2 of the raw improvements (no prior, nothing repeated), ν = ${fmt(nu)}.` });
  else if (stats.sigmaSource === 'prior' && sigma !== null)
    out.push({ code: 'sigma_prior_only', message: `σ̂ = ${fmt(sigma)} from the prior alone (nothing repeated yet).` });
  if (stats.sigmaFloored) out.push({ code: 'sigma_floor', message: `Observed noise is 0; σ̂ raised to the floor ${fmt(sigma ?? 0)}.` });
  return out;
}

/** S, E, the beat probability and μ's posterior of one experiment, with their reasons. */
function statisticsOf(ctx: Context, e: ObservedExperiment, lv: NodeLevel | null, isRoot: boolean, nX: number, reasons: Reason[]) {
  const { sigma, nu, minEffect, sign } = ctx;
  const d = lv?.d ?? null;
  const V = lv?.V ?? null;
  if (isRoot) {
    reasons.push({ code: 'root', message: 'Root (no premise, no baseline): claims no improvement, S = E = 1.' });
    return { s: 1, eff: 1, beat: 1, mu: null };
  }
  if (nX === 0) {
    reasons.push({ code: 'no_value', message: 'No metric value: nothing supports an improvement, S = E = 0.' });
    return { s: 0, eff: 0, beat: 0, mu: null };
  }
  if (sigma === null) {
    reasons.push({ code: 'sigma_unavailable', message: 'No noise estimate yet (no sigma0, nothing repeated, < 3 improvements): S = E = 0.5.' });
    return { s: 0.5, eff: 0.5, beat: 0.5, mu: null };
  }
  if (d === null || V === null || !lv?.reference) {
    reasons.push({ code: 'no_reference', message: 'The premise has no level and no baseline is recorded: S = E = 0.5.' });
    return { s: 0.5, eff: 0.5, beat: 0.5, mu: null };
  }
  const sum = summarizeEffect(ctx.g, d, V, sigma, nu, minEffect);
  const ref = lv.reference;
  if (ref.source === 'baseline') reasons.push({ code: 'baseline_reference', message: `Compared with the recorded baseline ${fmt(sign * ref.m)}, read as one run (variance σ̂²).` });
  if (nu < SIGMA_NODES_BELOW_NU) reasons.push({ code: 'sigma_integrated', message: `ν = ${fmt(nu)} < 30: probabilities averaged over ${SIGMA_NODES} quantile nodes of σ's posterior.` });
  reasons.push({
    code: 'statistics',
    message: `Premise level ${fmt(sign * ref.m)} ± ${fmt(Math.sqrt(ref.v))}, x̄ = ${fmt(sign * (lv.mean as number))} over ${nX} run(s): d = ${fmt(d)}, √V = ${fmt(Math.sqrt(V))}; S = P(μ > ${fmt(minEffect)} | d) = ${fmt(sum.s)}.`,
  });
  reasons.push({ code: 'effect', message: `Posterior effect E[μ|d] = ${fmt(sum.muMean)} ± ${fmt(sum.muSd)}: E = ${fmt(sum.e)}.` });
  return { s: sum.s, eff: sum.e, beat: sum.beat, mu: { mean: sum.muMean, sd: sum.muSd } };
}

/** R: a fresh reproduction runs and beats the premise's level (SPEC §3 "Reproduction R"). */
function reproductionOf(stats: ProjectStats, e: ObservedExperiment, beat: number, reasons: Reason[]) {
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
  return { r, runs, finished, okRuns };
}

/** Anchors (SPEC §4): the root, or reproduced and verified above the nearest anchor. */
function anchorOf(ctx: Context, e: ObservedExperiment, lv: NodeLevel | null, p: AnchorFacts | undefined, isRoot: boolean, hasPremise: boolean, okRuns: number, hardGate: HardGate | null, reasons: Reason[]) {
  const nearest = p ? (p.anchor ? e.premiseKey! : p.nearest) : null;
  const gatedBelowAnchor = p ? (p.anchor ? false : p.gatedBelowAnchor || p.hardGate !== null) : false;
  const { sigma } = ctx;
  const d = lv?.d ?? null;
  const V = lv?.V ?? null;
  let anchor = false;
  let anchorP: number | null = null;
  if (hardGate === null) {
    if (!hasPremise && isRoot) anchor = true;
    else if (okRuns >= 1 && nearest !== null && !gatedBelowAnchor && sigma !== null && d !== null && V !== null && lv?.reference) {
      // L_X − L_A = μ_X + (L_P − L_A): μ_X's mixture posterior plus the chain between P and A.
      const post = effectPosterior(ctx.g, d, V, sigma);
      const a = ctx.levels.get(nearest)?.full ?? ctx.outside.get(nearest)?.full;
      if (nearest === e.premiseKey) anchorP = probAbove(post, 0);
      else if (a) anchorP = probSumAbove(post, lv.reference.m - a.m, Math.sqrt(lv.reference.v + a.v));
      anchor = anchorP !== null && anchorP >= ctx.anchorMin;
    }
  }
  if (anchor)
    reasons.push({
      code: 'anchor',
      message: isRoot ? 'Root: an anchor (it states the baseline).' : `Reproduced, level verified above anchor ${nearest}: P(L > L_A) = ${fmt(anchorP!)} ≥ ${ctx.anchorMin}.`,
    });
  else if (anchorP !== null) reasons.push({ code: 'not_anchor', message: `Reproduced, but P(L > L of anchor ${nearest}) = ${fmt(anchorP)} < ${ctx.anchorMin}: not an anchor yet.` });
  return { anchor, nearest, gatedBelowAnchor };
}

const toMetric = (g: Gaussian | null, sign: 1 | -1) => (g ? { mean: sign * g.m + 0, sd: Math.sqrt(g.v) } : null);

/** The score of one experiment; records its anchor facts for the experiments built on it. */
function scoreOne(ctx: Context, input: ProjectScoreInput, e: ObservedExperiment): Score {
  const key = e.key;
  const lv = ctx.levels.get(key) ?? null;
  const premise = e.premiseKey !== null && e.premiseKey !== key ? (ctx.byKey.get(e.premiseKey) ?? null) : null;
  const outsidePremise = e.premiseKey !== null && e.premiseKey !== key && !premise ? ctx.outside.get(e.premiseKey) : undefined;
  const hasPremise = premise !== null || outsidePremise !== undefined;
  const isRoot = e.premiseKey === null && !(typeof e.baseline === 'number' && Number.isFinite(e.baseline));
  const quality = qualityOf(ctx.project, e, input.reviews?.get(key));
  const reasons: Reason[] = [...quality.reasons, ...sigmaReasons(ctx.stats, ctx.sigma, ctx.nu)];
  const nX = observations(e).length;
  const st = statisticsOf(ctx, e, lv, isRoot, nX, reasons);
  const rep = reproductionOf(ctx.stats, e, st.beat, reasons);
  const facts = hasPremise ? (ctx.anchorFacts.get(e.premiseKey!) ?? outsidePremise) : undefined;
  const an = anchorOf(ctx, e, lv, facts, isRoot, hasPremise, rep.okRuns, quality.hardGate, reasons);
  ctx.anchorFacts.set(key, { anchor: an.anchor, nearest: an.nearest, gatedBelowAnchor: an.gatedBelowAnchor, hardGate: quality.hardGate });

  const w = normalizedWeights(ctx.project.weights);
  const components = { reproduction: clamp01(rep.r), statistics: clamp01(st.s), effect: clamp01(st.eff), code: clamp01(quality.q) };
  const value = clamp01(w.reproduction * components.reproduction + w.statistics * components.statistics + w.effect * components.effect + w.code * components.code);
  const d = lv?.d ?? null;
  const V = lv?.V ?? null;
  const z = d !== null && V !== null && V > 0 ? d / Math.sqrt(V) : null;
  const { sigma, sign } = ctx;
  return {
    value,
    components,
    sigma: sigma !== null && Number.isFinite(sigma) ? sigma : null,
    nu: ctx.nu,
    z: finiteOrNull(z),
    delta: finiteOrNull(d),
    nX,
    nP: premise ? observations(premise).length : (outsidePremise?.runs ?? 0),
    reproductions: { finished: rep.finished, successes: rep.okRuns },
    hardGate: quality.hardGate,
    anchorEligible: an.anchor,
    reasons,
    statsVersion: ctx.stats.version,
    V: finiteOrNull(V),
    level: toMetric(lv?.full ?? null, sign),
    premiseLevel: lv?.reference ? { ...toMetric(lv.reference, sign)!, source: lv.reference.source } : null,
    mu: st.mu,
    chain: lv
      ? {
          full: lv.full,
          base: lv.base,
          reference: lv.reference ? { m: lv.reference.m, v: lv.reference.v } : null,
          nearestAnchor: an.nearest,
          gatedBelowAnchor: an.gatedBelowAnchor,
        }
      : null,
    runSuccess: rep.runs,
  };
}

/**
 * Scores every experiment of the input: levels along the chain, S/E/R/Q and C, hard gates and
 * anchors. With `frontier`, the input is a subtree (see the module comment). Returns scores by key.
 */
export function scoreProject(input: ProjectScoreInput & { frontier?: ScoreFrontier }): Map<string, Score> {
  const { project, experiments, stats } = input;
  const sign = directionSign(project.metric.direction);
  const g = stats.prior ?? defaultPrior();
  const sigma = usableSigma(stats, experiments);
  const nodes = chainNodes(experiments, sign);
  const { levels, order } =
    sigma !== null ? computeLevels(nodes, g, sigma, input.frontier?.references) : { levels: new Map<string, NodeLevel>(), order: nodes.map((n) => n.key) };
  const ctx: Context = {
    project,
    stats,
    g,
    sigma,
    nu: Number.isFinite(stats.nu) ? stats.nu : 0,
    minEffect: Number.isFinite(project.minEffect) ? project.minEffect : 0,
    sign,
    anchorMin: Number.isFinite(project.anchorMin) ? project.anchorMin : DEFAULTS.anchorMin,
    byKey: new Map(experiments.map((e) => [e.key, e])),
    levels,
    outside: input.frontier?.outside ?? new Map(),
    anchorFacts: new Map(),
  };
  const out = new Map<string, Score>();
  for (const key of order) out.set(key, scoreOne(ctx, input, ctx.byKey.get(key)!));
  return out;
}

/** A stored score as a commit outside a rescored subtree; null when it lacks the facts needed. */
export function outsideNodeOf(score: Score | null | undefined): OutsideNode | null {
  const c = score?.chain;
  if (!score || !c || typeof c.gatedBelowAnchor !== 'boolean') return null;
  return { runs: score.nX, anchor: score.anchorEligible, nearest: c.nearestAnchor, gatedBelowAnchor: c.gatedBelowAnchor, hardGate: score.hardGate, full: c.full };
}

/** An entry of a rescored subtree: its key, first premise and stored score. */
export interface SubtreeEntry {
  key: string;
  premiseKey: string | null;
  score: Score | null;
}

/**
 * What scoring a subtree reads of the commits above it (SPEC §4: a write recomputes only what it
 * affects), from stored scores: each entry's premise cavity, its premise and that premise's
 * nearest anchor. Valid when the entries' premises and everything above them are unaffected by
 * the write (the caller picks entries so: the premise of every written commit, or the commit
 * itself when it has none). `stored(key)` looks up those premises and anchors; null when a
 * needed stored score lacks the facts (stored by an older version, or before σ̂ existed): score
 * the whole project instead.
 */
export function subtreeFrontier(entries: readonly SubtreeEntry[], stored: (key: string) => Score | null | undefined): ScoreFrontier | null {
  const references = new Map<string, Gaussian | null>();
  const outside = new Map<string, OutsideNode>();
  const need = (key: string): OutsideNode | null => {
    const have = outside.get(key);
    if (have) return have;
    const node = outsideNodeOf(stored(key));
    if (node) outside.set(key, node);
    return node;
  };
  for (const e of entries) {
    if (e.premiseKey === null) continue;
    const own = e.score;
    const premise = stored(e.premiseKey);
    if (premise === undefined) continue; // no such premise: scored as a commit without one
    if (!own?.chain) return null;
    references.set(e.key, own.premiseLevel?.source === 'premise' ? own.chain.reference : null);
    const p = need(e.premiseKey);
    if (!p) return null;
    if (!p.anchor && p.nearest !== null && !need(p.nearest)) return null;
  }
  return { references, outside };
}
