/*
 * Baseline only: ECV's first gate design (v1), copied verbatim from our own code at git commit
 * 3b67ef4 (src/domain/scoring/confidence.ts) so the obey-mode bench can run the previous design as a policy
 * in process after the service moved to gate v2. Not used by the service; do not edit except
 * to keep it compiling.
 */
/**
 * Confidence of one result (SPEC §3): C = wR·R + wS·S + wE·E + wQ·Q, the hard gates and
 * anchor eligibility (SPEC §4). Pure: everything comes in through ScoreInput.
 *
 * Invariants: every component and C are finite and in [0, 1]; z and δ are finite or null.
 */
import type { ProjectConfig, ProjectStats, Reason, Score, Weights } from '../types.js';
import { DEFAULT_WEIGHTS, DEFAULTS } from '../types.js';
import { codeQuality } from './code-quality.js';
import { effectScore } from './effect.js';
import { sigmaFloor } from './noise.js';
import {
  compareWithReference,
  observations,
  standardError,
  type ObservedExperiment,
} from './observed.js';
import { countReproductions, reproductionScore, successRuleFor } from './reproduction.js';
import { effectiveNu, posterior } from './statistics.js';

export interface ScoreInput {
  project: ProjectConfig;
  experiment: ObservedExperiment;
  /** Looked up by premiseKey by the caller; null if none. */
  premise: ObservedExperiment | null;
  stats: ProjectStats;
  /** Optional LLM review shift of Q, clamped to [REVIEW_MIN, REVIEW_MAX]. */
  review?: { adjustment: number; reasons: Reason[] };
}

/** Hard gates, in priority order (the first that applies is reported). */
export type HardGate = 'crash' | 'protected_path' | 'discard' | 'unknown_status';

/** Bounds of the LLM review's shift of Q (SPEC §9): it may lower Q more than raise it. */
export const REVIEW_MIN = -0.3;
export const REVIEW_MAX = 0.1;
/** A root anchors when its level reproduces: R ≥ this. */
export const ROOT_ANCHOR_R = 0.8;

const clamp01 = (x: number): number => (x > 1 ? 1 : x > 0 ? x : 0); // NaN ⇒ 0
const finiteOrNull = (x: number | null): number | null =>
  x !== null && Number.isFinite(x) ? x : null;
const fmt = (x: number): string =>
  Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : String(x);

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
  return {
    reproduction: clean[0] / scale,
    statistics: clean[1] / scale,
    effect: clean[2] / scale,
    code: clean[3] / scale,
  };
}

/** σ̂ to score with: the project's, raised to the floor if a caller passed σ̂ ≤ 0. */
function usableSigma(input: ScoreInput, reasons: Reason[]): number | null {
  const { stats } = input;
  if (stats.sigma === null || stats.sigma === undefined) return null;
  if (stats.sigma > 0 && Number.isFinite(stats.sigma)) {
    if (stats.sigmaFloored)
      reasons.push({
        code: 'sigma_floor',
        message: `Observed noise is 0; σ̂ raised to the floor ${fmt(stats.sigma)}.`,
      });
    return stats.sigma;
  }
  const xs = [
    ...observations(input.experiment),
    ...(input.premise ? observations(input.premise) : []),
  ];
  const scale = xs.length > 0 ? Math.max(...xs.map(Math.abs)) : 0;
  const floor = sigmaFloor(scale);
  reasons.push({
    code: 'sigma_floor',
    message: `σ̂ = ${fmt(stats.sigma)} is unusable; the floor ${fmt(floor)} is used.`,
  });
  return floor;
}

/**
 * Score one experiment: components R, S, E, Q, confidence C, hard gate, anchor
 * eligibility and the reasons an auditor needs to recompute it by hand.
 */
export function scoreExperiment(input: ScoreInput): Score {
  const { project, experiment: e, premise, stats } = input;
  const direction = project.metric.direction;
  const reasons: Reason[] = [];

  // Q and the hard gates (crash, protected path from the code; discard, unknown from status)
  const code = codeQuality(project, e);
  let hardGate: HardGate | null = code.hardGate;
  reasons.push(...code.reasons);
  if (e.status === 'discard') {
    hardGate ??= 'discard';
    reasons.push({
      code: 'discard',
      message: 'Status discard: a discard is never a premise (hard gate).',
    });
  } else if (e.status === 'unknown') {
    hardGate ??= 'unknown_status';
    reasons.push({
      code: 'unknown_status',
      message: 'Status unknown: never a premise (hard gate).',
    });
  }
  let q = code.q;
  if (input.review) {
    const adj = input.review.adjustment;
    const bounded = Number.isFinite(adj) ? Math.min(REVIEW_MAX, Math.max(REVIEW_MIN, adj)) : 0;
    reasons.push(...input.review.reasons);
    if (code.hardGate !== null) {
      reasons.push({
        code: 'review_not_applied',
        message: 'Review shift not applied: Q is hard-gated at 0.',
      });
    } else {
      q = clamp01(q + bounded);
      reasons.push({
        code: 'review',
        message: `LLM review shifted Q by ${fmt(bounded)} to ${fmt(q)}.`,
      });
    }
  }

  // Noise and the comparison with the reference
  const sigma = usableSigma(input, reasons);
  if (stats.sigmaSource === 'mad' && sigma !== null)
    reasons.push({
      code: 'sigma_from_mad',
      message: `σ̂ = ${fmt(sigma)} from 1.4826·MAD/√2 of the project's raw improvements (no prior, no replicate groups), ν = ${fmt(stats.nu)}.`,
    });
  else if (stats.sigmaSource === 'prior' && sigma !== null)
    reasons.push({
      code: 'sigma_prior_only',
      message: `σ̂ = ${fmt(sigma)} from the prior alone (no replicate groups yet).`,
    });
  const c = compareWithReference(e, premise, direction);
  let s: number;
  let eff: number;
  let z: number | null = null;
  if (c.isRoot) {
    s = 1;
    eff = 1;
    reasons.push({
      code: 'root',
      message: 'Root (no premise, no baseline): claims no improvement, S = E = 1.',
    });
  } else if (c.nX === 0) {
    s = 0;
    eff = 0;
    reasons.push({
      code: 'no_value',
      message: 'No metric value: nothing supports an improvement, S = E = 0.',
    });
  } else if (c.pbar === null) {
    s = 0.5;
    eff = 0.5;
    reasons.push({
      code: 'no_reference',
      message: 'Premise has no value and no baseline is recorded: S = E = 0.5.',
    });
  } else if (sigma === null) {
    s = 0.5;
    eff = 0.5;
    reasons.push({
      code: 'sigma_unavailable',
      message: 'No noise estimate (no prior, no replicates, < 3 improvements): S = E = 0.5.',
    });
  } else {
    const delta = c.delta as number;
    const se = standardError(sigma, c.nX, c.nP);
    z = delta / se;
    const post = posterior(z, stats.pi, stats.tau, stats.nu);
    s = post.s;
    const effect = effectScore({
      delta,
      sigma,
      pReal: post.pReal,
      tau: stats.tau,
      minEffect: project.minEffect,
    });
    eff = effect.e;
    if (c.source === 'baseline')
      reasons.push({
        code: 'baseline_reference',
        message: `Compared with the recorded baseline ${fmt(c.pbar)} (n_P = 1).`,
      });
    if (effectiveNu(stats.nu) !== Infinity)
      reasons.push({ code: 'student_t', message: `ν = ${fmt(stats.nu)} < 30: Student-t model.` });
    if (!stats.fitted)
      reasons.push({
        code: 'default_pi_tau',
        message: `Fewer than 30 proposals: π = ${fmt(stats.pi)}, τ = ${fmt(stats.tau)} (defaults).`,
      });
    reasons.push({
      code: 'statistics',
      message: `δ = ${fmt(delta)}, SE = ${fmt(se)}, z = ${fmt(z)}: S = P(μ > 0 | z) = ${fmt(s)}, P(real | z) = ${fmt(post.pReal)}.`,
    });
    reasons.push({
      code: 'effect',
      message: `Shrunk effect δ̃ = ${fmt(effect.shrunk)}: E = ${fmt(eff)}.`,
    });
  }

  // R
  const rule = successRuleFor(e, c, sigma, direction);
  const reps = countReproductions(e.reproductions ?? [], rule);
  const r = reproductionScore(reps.successes, reps.finished, stats.alpha0, stats.beta0);
  if (reps.finished === 0)
    reasons.push({
      code: 'no_reproductions',
      message: `No reproductions yet: R = α0/(α0+β0) = ${fmt(r)}, the prior mean.`,
    });
  else
    reasons.push({
      code: 'reproductions',
      message: `${reps.successes} of ${reps.finished} reproductions succeeded (failed runs count as failures): R = ${fmt(r)}.`,
    });

  // C and anchoring
  const w = normalizedWeights(project.weights);
  const components = {
    reproduction: clamp01(r),
    statistics: clamp01(s),
    effect: clamp01(eff),
    code: clamp01(q),
  };
  const value = clamp01(
    w.reproduction * components.reproduction +
      w.statistics * components.statistics +
      w.effect * components.effect +
      w.code * components.code,
  );
  const needed = Math.max(1, project.reproduction?.replicates ?? DEFAULTS.replicates);
  const anchorMin = Number.isFinite(project.anchorMin) ? project.anchorMin : DEFAULTS.anchorMin;
  const anchorEligible =
    hardGate === null &&
    reps.finished >= needed &&
    (c.isRoot ? components.reproduction >= ROOT_ANCHOR_R : components.statistics >= anchorMin);
  if (anchorEligible)
    reasons.push({
      code: 'anchor',
      message: c.isRoot
        ? `Reproduced root (R ≥ ${ROOT_ANCHOR_R}): an anchor.`
        : `Reproduced with S ≥ ${anchorMin}: an anchor.`,
    });

  return {
    value,
    components,
    sigma: sigma !== null && Number.isFinite(sigma) ? sigma : null,
    nu: Number.isFinite(stats.nu) ? stats.nu : 0,
    z: finiteOrNull(z),
    delta: finiteOrNull(c.delta),
    nX: c.nX,
    nP: c.nP,
    reproductions: reps,
    hardGate,
    anchorEligible,
    reasons,
    statsVersion: stats.version,
  };
}
