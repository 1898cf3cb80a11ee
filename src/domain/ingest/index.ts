/**
 * Pure parsers that turn results tables and git history into experiment records
 * (SPEC §7). No I/O: callers read files, run git and write to the database.
 */
export { parseResultsTsv } from './results-tsv.js';
export type {
  IngestChoices,
  IngestWarning,
  ParsedResults,
  ParsedRow,
  ParseResultsOptions,
} from './results-tsv.js';
export { inferDirection, metricTokens } from './direction.js';
export { chainDirection, chainMoves, chooseDirection } from './chain.js';
export type { ChainMoves, DirectionChoice, DirectionSource } from './chain.js';
export type { ColumnChoice } from './roles.js';
export { GIT_LOG_FORMAT, gitLogArgs, parseGitLog } from './git-log.js';
export type { GitChangedPath, GitCommit } from './git-log.js';
export { attachGitLineage } from './git-lineage.js';
export { mapStatus, normalizeStatus } from './status.js';
export type { StatusMatch } from './status.js';
export { DEFAULT_MAX_BYTES, decodeInput } from './text.js';
export { hexPrefix, isPlaceholder, KEY_PATTERN, parseMetric, sanitizeKey } from './values.js';
export type { MetricCell } from './values.js';
