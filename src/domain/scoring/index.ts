/**
 * The pure confidence engine (SPEC §3, anchor rule of §4). No I/O: the service layer
 * loads experiments, calls these functions and stores the results.
 * Formulas, defaults and a worked example: docs/scoring.md.
 */
export { observations, type ObservedExperiment } from './observed.js';
export { computeProjectStats, fitPoints, statsDue, REFIT_GROWTH, REFIT_ALWAYS_BELOW, type StatsInput } from './stats.js';
export { scoreProject, subtreeFrontier, outsideNodeOf, type OutsideNode, type ScoreFrontier, type SubtreeEntry } from './score-project.js';
export {
  normalizedWeights,
  summarizeEffect,
  sigmaNodes,
  runSuccessRate,
  fitRunPrior,
  probAboveLevel,
  REVIEW_MIN,
  REVIEW_MAX,
  RUN_PRIOR,
  type ProjectScoreInput,
  type ReviewShift,
  type HardGate,
} from './confidence.js';
export {
  defaultPrior,
  effectPosterior,
  fitPrior,
  posteriorMoments,
  probAbove,
  expectedBeat,
  GRID_SCALES,
  type AshPrior,
} from './ash.js';
export { computeLevels, stepLevel, childMessage, type ChainNode, type NodeLevel, type Gaussian } from './levels.js';
export { codeQuality, parseUnifiedDiff, PENALTIES, type CodeHardGate } from './code-quality.js';
export { matchesGlob } from './glob.js';
export { sigmaIsKnown, SIGMA_KNOWN_DF } from './noise.js';
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
