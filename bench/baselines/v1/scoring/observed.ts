/*
 * Baseline only: ECV's first gate design (v1), copied verbatim from our own code at git commit
 * 3b67ef4 (src/domain/scoring/observed.ts) so the obey-mode bench can run the previous design as a policy
 * in process after the service moved to gate v2. Not used by the service; do not edit except
 * to keep it compiling.
 */
/**
 * The experiment as the scorer sees it, and how it is compared with its reference
 * (premise or recorded baseline). Values are in metric units throughout.
 */
import type { CodeChange, Direction, ExperimentStatus, Reproduction } from '../types.js';

/** One experiment as the scorer sees it. */
export interface ObservedExperiment {
  key: string;
  status: ExperimentStatus;
  /** Recorded metric (null for crash / missing). */
  value: number | null;
  replicates: number[];
  /** Value it was compared against, if recorded. */
  baseline: number | null;
  /** The premise it was compared against (first premise); null = none. */
  premiseKey: string | null;
  /** Finished reproductions (value null = failed run). */
  reproductions: Reproduction[];
  code?: CodeChange;
}

const isNum = (v: number | null | undefined): v is number =>
  typeof v === 'number' && Number.isFinite(v);

/**
 * Every observation of the experiment's commit: its value, its replicates and every
 * reproduction that produced a value, successful or not (keeping only successes would
 * bias x̄ upward). Non-finite values are dropped.
 */
export function observations(e: ObservedExperiment): number[] {
  const out: number[] = [];
  if (isNum(e.value)) out.push(e.value);
  for (const r of e.replicates ?? []) if (isNum(r)) out.push(r);
  for (const r of e.reproductions ?? []) if (isNum(r.value)) out.push(r.value);
  return out;
}

/** Arithmetic mean; callers guarantee a non-empty array. */
export function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** s = +1 when larger is better, −1 when smaller is better. */
export function directionSign(d: Direction): 1 | -1 {
  return d === 'minimize' ? -1 : 1;
}

/** Where the reference level p̄ of a comparison comes from. */
export type ReferenceSource = 'premise' | 'baseline' | 'none';

/** X against its reference: x̄ over n_X observations, p̄ over n_P. */
export interface Comparison {
  /** No premise and no baseline: claims a level, not an improvement. */
  isRoot: boolean;
  source: ReferenceSource;
  nX: number;
  xbar: number | null;
  nP: number;
  pbar: number | null;
  /** δ = s·(x̄ − p̄), metric units, positive = better (null without x̄ or p̄). */
  delta: number | null;
}

/**
 * Compare X with its premise's observations, else with X's recorded baseline (n_P = 1).
 * A premise without any observation falls back to the baseline as well.
 */
export function compareWithReference(
  e: ObservedExperiment,
  premise: ObservedExperiment | null,
  direction: Direction,
): Comparison {
  const xs = observations(e);
  const ps = premise ? observations(premise) : [];
  const hasBaseline = isNum(e.baseline);
  const isRoot = e.premiseKey === null && premise === null && !hasBaseline;
  let source: ReferenceSource = 'none';
  let nP = 0;
  let pbar: number | null = null;
  if (ps.length > 0) {
    source = 'premise';
    nP = ps.length;
    pbar = mean(ps);
  } else if (hasBaseline) {
    source = 'baseline';
    nP = 1;
    pbar = e.baseline;
  }
  const xbar = xs.length > 0 ? mean(xs) : null;
  // `+ 0` turns −0 into 0 so that mirrored data give identical (not just equal) scores
  const delta =
    xbar !== null && pbar !== null && !isRoot ? directionSign(direction) * (xbar - pbar) + 0 : null;
  return { isRoot, source, nX: xs.length, xbar, nP, pbar, delta };
}

/** SE = σ̂·√(1/n_X + 1/n_P), metric units; both counts must be ≥ 1. */
export function standardError(sigma: number, nX: number, nP: number): number {
  return sigma * Math.sqrt(1 / nX + 1 / nP);
}
