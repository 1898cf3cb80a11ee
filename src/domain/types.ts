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
  /** Legacy (v1): reproductions per round; replicates × rounds is read as maxReproductions. */
  replicates: number;
  /** Legacy (v1): rounds of re-anchoring per experiment. */
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
  /** P(L_X > L_A) a reproduced experiment needs to be an anchor (default 0.95, SPEC §4). */
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

/** A changed file as a loop reports it; the line counts are optional (schemas/experiment-in.ts). */
export interface ChangedPath {
  path: string;
  added?: number;
  removed?: number;
  binary?: boolean;
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
  /** Prior probability that a proposal has a real effect (1 − the prior's null weight). */
  pi: number;
  /** Mean scale of the prior's non-null components, in σ̂ (a summary; the prior is `prior`). */
  tau: number;
  /** True when the prior was fitted to proposals (else g0). */
  fitted: boolean;
  /** Number of proposals the fit saw. */
  nProposals: number;
  /** Beta prior of a reproduction running at all. */
  alpha0: number;
  beta0: number;
  /** True when σ̂ was raised to the numerical floor (e.g. all observations identical). */
  sigmaFloored?: boolean;
  /** Maximized marginal log-likelihood of the prior fit. */
  logLik?: number;
  /** True when α0, β0 were fitted (≥ 10 reproduced experiments) rather than Beta(19, 1). */
  betaFitted?: boolean;
  /** Number of experiments with at least one finished reproduction. */
  nReproduced?: number;
  /** The adaptive-shrinkage effect prior g (SPEC §3); absent in statistics written by v1. */
  prior?: AshPriorWeights;
  /** Observations (runs) the prior was fitted at: refit when they grew by ≥ 10%. */
  priorAtCount?: number;
  /** True when some experiment has ≥ 2 runs or a sigma0 is set (σ̂ is not a MAD guess). */
  sigmaKnown?: boolean;
}

/** Weights of the effect prior g: null, then gains and losses on the grid σ̂·2^(j/2), j = −4…10. */
export interface AshPriorWeights {
  null: number;
  gains: number[];
  losses: number[];
}

/** A Gaussian level N(m, v) in "better" units (s·value). */
export interface ChainGaussian {
  m: number;
  v: number;
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
  /** V = v_P + σ̂²/n_X, the variance of d = s·(x̄ − m_P) (null for roots and crashes). */
  V?: number | null;
  /** Posterior level of this commit (all runs and proposals built on it), metric units. */
  level?: { mean: number; sd: number } | null;
  /** The reference the improvement is measured against: the premise's level without this proposal, or the baseline. */
  premiseLevel?: { mean: number; sd: number; source: 'premise' | 'baseline' } | null;
  /** Posterior of the effect μ in better units. */
  mu?: { mean: number; sd: number } | null;
  /** The chain posterior in better units, as the gate's scheduler reads it. */
  chain?: {
    full: ChainGaussian | null;
    base: ChainGaussian | null;
    reference: ChainGaussian | null;
    nearestAnchor: string | null;
    /** A hard gate lies between this commit and its nearest anchor (absent in scores stored before it was recorded). */
    gatedBelowAnchor?: boolean;
  } | null;
  /** Posterior mean rate of a reproduction running at all. */
  runSuccess?: number;
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
  anchorMin: 0.95,
  sMin: 0.92,
  sReject: 0.25,
  barMargin: 1.5,
  maxReproductions: 8,
  /** Reproductions of X itself to anchor it when S ≥ sMin but K < threshold. */
  maxAnchorReproductions: 3,
  replicates: 3,
  rounds: 1,
  timeBudgetS: 600,
});
