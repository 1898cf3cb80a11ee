/**
 * The pure confidence engine (SPEC §3, anchor rule of §4). No I/O: the service layer
 * loads experiments, calls these functions and stores the results.
 * Formulas, defaults and a worked example: docs/scoring.md.
 */
export { observations, type ObservedExperiment } from './observed.js';
export {
  computeProjectStats,
  statsMovedMaterially,
  MATERIAL_CHANGE,
  type StatsInput,
} from './stats.js';
export {
  scoreExperiment,
  normalizedWeights,
  REVIEW_MIN,
  REVIEW_MAX,
  ROOT_ANCHOR_R,
  type ScoreInput,
  type HardGate,
} from './confidence.js';
export { codeQuality, parseUnifiedDiff, PENALTIES, type CodeHardGate } from './code-quality.js';
export { matchesGlob } from './glob.js';
export {
  reviewAdjustment,
  findingPenalty,
  REVIEW_CATEGORIES,
  REVIEW_SEVERITIES,
  REVIEW_RISKS,
  type CodeReview,
  type ReviewFinding,
  type ReviewCategory,
  type ReviewSeverity,
  type ReviewRisk,
} from './review.js';
export { posterior, fitPiTau, logMarginalLikelihood } from './statistics.js';
