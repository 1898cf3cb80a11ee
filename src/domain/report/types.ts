/**
 * The audit report model (SPEC §10): plain data built from the premise graph, reproductions
 * and the gate log. The JSON form of the report is exactly this model (schemas/report.json);
 * the HTML and Markdown renderers read nothing else.
 */
import type { Direction, ExperimentStatus } from '../types.js';

/** One experiment as the report sees it: scores and structure, no text (cheap to load for all). */
export interface ReportNode {
  key: string;
  seq: number;
  status: ExperimentStatus;
  value: number | null;
  /** Confidence C (null: not scored yet). */
  confidence: number | null;
  /** Compounded confidence K (null: not scored yet). */
  compounded: number | null;
  anchored: boolean;
  /** Own hard gate code (crash, discard, protected_path, …) or null. */
  hardGate: string | null;
  /** Key of a hard-gated ancestor this experiment inherits its gate from, or null. */
  inheritedGate: string | null;
  /** Premise keys, first premise first. */
  premises: string[];
  /** Code of the inherited hard gate (`inheritedGate`'s own), when known. */
  inheritedGateCode?: string | null;
  /** The cascade's weakest link (lowest C on the path to the nearest anchor), when scored. */
  weakest?: { key: string; confidence: number } | null;
}

/** Reproductions of one experiment, aggregated. */
export interface ReproductionStat {
  key: string;
  /** Finished runs, failed ones included. */
  runs: number;
  failed: number;
  /** Mean, min and max of the runs that produced a value (null when none did). */
  mean: number | null;
  min: number | null;
  max: number | null;
  /** Runs whose value beat the premise's level (null: no premise level to beat, e.g. a root). */
  beat?: number | null;
}

/**
 * What one reproduction showed: `reproduced` (ran and beat its premise's level), `not_better`
 * (ran, did not), `failed` (no value: crash, timeout), `ran` (a value, but nothing to beat).
 */
export type ReproductionOutcome = 'reproduced' | 'not_better' | 'failed' | 'ran';

export interface ReproductionRow {
  experiment: string;
  seed: number;
  value: number | null;
  ok: boolean;
  runner: string | null;
  durationS: number | null;
  error: string | null;
  createdAt: string;
  /** The reproduced experiment's premise level (metric units) the run had to beat; null when none. */
  premiseLevel?: number | null;
  /** Set by `assembleReport` from value, premiseLevel and the metric's direction. */
  outcome?: ReproductionOutcome;
}

export interface GateDecisionRow {
  id: number;
  experiment: string;
  decision: string;
  compounded: number | null;
  threshold: number | null;
  caller: string | null;
  /** The first reason's message, if any. */
  reason: string | null;
  createdAt: string;
}

/** Project-wide reproduction totals. */
export interface ReproductionTotals {
  runs: number;
  failed: number;
  experiments: number;
  /** Sum of reproduction durations, seconds. */
  durationS: number;
}

export interface ChainStep {
  step: number;
  key: string;
  seq: number;
  value: number | null;
  reproduced: { runs: number; failed: number; mean: number | null; min: number | null; max: number | null; beat?: number | null } | null;
  confidence: number | null;
  compounded: number | null;
  anchored: boolean;
  gated: boolean;
  /** Why a gated step is gated: a hard gate (own or inherited, with its key) or the weakest link; null when not gated. */
  gatedBy?: GatedBy | null;
  description: string | null;
}

export type GatedBy =
  | { kind: 'hard_gate'; key: string; code: string }
  | { kind: 'weakest_link'; key: string; confidence: number }
  | { kind: 'below_threshold' };

/** A node as drawn: the report's node facts, and how the drawing places and marks it. */
export interface DagNode extends Pick<ReportNode, 'key' | 'seq' | 'status' | 'value' | 'confidence' | 'compounded' | 'anchored' | 'hardGate'> {
  /** Keeps only: K < threshold, or hard-gated (own or inherited). */
  gated: boolean;
  /** Index on the main chain, or null when off it. */
  chainStep: number | null;
  /** Premises that are drawn too, first premise first. */
  premises: string[];
  description: string | null;
}

export interface ContaminationPath {
  /** The gated premise where contamination starts. */
  source: string;
  status: ExperimentStatus;
  compounded: number | null;
  /** Why it is gated: `below_threshold`, a hard gate code, or `premise_hard_gated`. */
  reason: string;
  /** Kept experiments built on it, directly or transitively. */
  affected: number;
  /** Keys from the source to its latest kept descendant (ends kept when longer than the cap). */
  path: string[];
  /** Full length of that path; `path` holds its first and last keys when longer. */
  pathLength: number;
}

export type StatusCounts = Record<ExperimentStatus, number>;

export interface ReportModel {
  version: 1;
  generatedAt: string;
  project: { name: string; metric: { name: string; direction: Direction }; threshold: number };
  summary: {
    experiments: number;
    /** Rows kept as history that the latest log no longer holds (not counted in `experiments`). */
    absent: number;
    byStatus: StatusCounts;
    /** Keeps with K < threshold or a hard gate (own or inherited). */
    gated: number;
    anchored: number;
    reproductions: number;
    reproductionsFailed: number;
    reproducedExperiments: number;
    gpuMinutes: number;
    chainLength: number;
    head: string | null;
    headCompounded: number | null;
    /** Reproduction jobs queued or running now (the HTML page refreshes itself while > 0). */
    pendingReproductions?: number;
  };
  mainChain: { length: number; elided: number; steps: ChainStep[] };
  dag: {
    total: number;
    drawn: number;
    maxNodes: number;
    elided: number;
    elidedByStatus: StatusCounts;
    nodes: DagNode[];
    /** Undrawn discards/crashes/unknowns tried directly on a drawn node: shown as "+n". */
    hiddenLeaves: { key: string; count: number }[];
  };
  contamination: { total: number; paths: ContaminationPath[] };
  gateDecisions: { total: number; items: GateDecisionRow[] };
  reproductions: { total: number; items: ReproductionRow[] };
}

export const emptyCounts = (): StatusCounts => ({ keep: 0, discard: 0, crash: 0, unknown: 0 });
