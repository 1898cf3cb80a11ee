/**
 * Domain types shared by the pure core (scoring, cascade, ingest) and the services.
 * No I/O here; the db layer maps rows to these at its edge.
 */

export type Direction = 'minimize' | 'maximize';
export type ExperimentStatus = 'keep' | 'discard' | 'crash' | 'unknown';

/** Component weights of the confidence C; must sum to 1. */
export interface Weights {
  reproduction: number;
  statistics: number;
  effect: number;
  code: number;
}

export interface ReproductionPolicy {
  /** Shell command template run by runners; `{commit}` and `{seed}` are substituted. */
  command: string;
  /** Regex with one capture group; default `^<metric>:\s*(\S+)` (multiline). */
  metricPattern?: string;
  /** Reproductions per re-anchor round (default 3). */
  replicates: number;
  /** Rounds of re-anchoring per experiment (default 1). */
  rounds: number;
  /** Reproductions one gate decision may schedule (absent: 8; SPEC §5). */
  maxReproductions?: number;
  /** Wall-clock budget of one reproduction, seconds. */
  timeBudgetS: number;
  /** GPU minutes the scheduler may spend per day (undefined: unlimited). */
  gpuMinutesPerDay?: number;
}

export interface ProjectConfig {
  name: string;
  metric: { name: string; direction: Direction };
  /** Gate threshold on compounded confidence K (default 0.6). */
  threshold: number;
  weights: Weights;
  /** Prior noise standard deviation in metric units (optional). */
  sigma0?: number;
  /** Pseudo degrees of freedom of the noise prior (default 2). */
  nu0: number;
  /** Smallest effect of interest, metric units (default 0). */
  minEffect: number;
  /** Posterior S an experiment needs, after its reproductions, to be an anchor (default 0.9). */
  anchorMin: number;
  /** Posterior S an accept needs (SPEC §5; absent: 0.92). */
  sMin?: number;
  /** S at or below which the gate rejects (absent: 0.25). */
  sReject?: number;
  /** The bar's margin above the head's level, in σ̂ (absent: 1.5). */
  barMargin?: number;
  /** Globs the agent must never change. */
  protectedPaths: string[];
  reproduction: ReproductionPolicy;
}

export interface ChangedPath {
  path: string;
  added: number;
  removed: number;
}

export interface CodeChange {
  diff?: string;
  paths?: ChangedPath[];
}

export interface Resources {
  memoryGb?: number;
  runtimeS?: number;
}

/** An experiment as submitted (SPEC §15 "Experiment in"). */
export interface ExperimentInput {
  key: string;
  status: ExperimentStatus;
  value?: number | null;
  baseline?: number | null;
  replicates?: number[];
  premises?: string[];
  code?: CodeChange;
  description?: string;
  hypothesis?: string;
  resources?: Resources;
  metadata?: Record<string, unknown>;
}

/** A finished reproduction run of an experiment's commit. */
export interface Reproduction {
  seed: number;
  /** Metric value, or null when the run failed (crash, timeout, no metric). */
  value: number | null;
  runner?: string;
  durationS?: number;
  error?: string;
}

export interface Reason {
  /** Stable machine-readable code, snake_case. */
  code: string;
  message: string;
}

export interface Components {
  reproduction: number;
  statistics: number;
  effect: number;
  code: number;
}

/** Where the noise estimate came from. */
export type SigmaSource = 'pooled' | 'prior' | 'pooled+prior' | 'mad' | 'none';

/**
 * Project-wide statistics every score depends on (SPEC §3). Refreshed in batch when
 * they move materially; each score records the `version` it used.
 */
export interface ProjectStats {
  version: number;
  /** Noise standard deviation σ̂ in metric units (null: nothing to estimate it from). */
  sigma: number | null;
  /** Degrees of freedom of σ̂. */
  nu: number;
  sigmaSource: SigmaSource;
  /** Prior probability that a proposal has a real effect. */
  pi: number;
  /** Spread of real effects, in SE units. */
  tau: number;
  /** True when π, τ were fitted (≥ 30 proposals) rather than defaults. */
  fitted: boolean;
  /** Number of proposals the fit saw. */
  nProposals: number;
  /** Beta prior of reproduction success. */
  alpha0: number;
  beta0: number;
  /** True when σ̂ was raised to the numerical floor (e.g. all observations identical). */
  sigmaFloored?: boolean;
  /** Maximized marginal log-likelihood of π, τ (absent when defaults were used). */
  logLik?: number;
  /** True when α0, β0 were fitted (≥ 10 reproduced experiments) rather than Beta(1, 1). */
  betaFitted?: boolean;
  /** Number of experiments with at least one finished reproduction. */
  nReproduced?: number;
}

/** The score of one experiment (SPEC §3, §15 `confidence`). */
export interface Score {
  /** Confidence C in [0, 1]. */
  value: number;
  components: Components;
  sigma: number | null;
  nu: number;
  /** Standardized improvement (null for roots and crashes). */
  z: number | null;
  /** Improvement δ = s·(x̄ − p̄) in metric units (null for roots and crashes). */
  delta: number | null;
  nX: number;
  nP: number;
  /** Finished reproductions m and successes k. */
  reproductions: { finished: number; successes: number };
  /** Hard gate reason code, or null. */
  hardGate: string | null;
  /** Whether the experiment qualifies as an anchor (SPEC §4). */
  anchorEligible: boolean;
  reasons: Reason[];
  statsVersion: number;
}

export const DEFAULT_WEIGHTS: Weights = Object.freeze({
  reproduction: 0.4,
  statistics: 0.25,
  effect: 0.2,
  code: 0.15,
}) as Weights;

export const DEFAULTS = Object.freeze({
  threshold: 0.6,
  nu0: 2,
  minEffect: 0,
  anchorMin: 0.9,
  replicates: 3,
  rounds: 1,
  timeBudgetS: 600,
});
