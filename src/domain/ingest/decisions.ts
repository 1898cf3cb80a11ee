import type { ExperimentStatus } from '../types.js';
import { mapStatus, normalizeStatus } from './status.js';
import { isPlaceholder, unquote } from './values.js';

/**
 * Finding the column that holds the loop's keep/discard decisions from what the cells say,
 * not only from the header (issue 20): a `tag` column of kept/revert beside a `correctness`
 * column of PASS, or a `kept` column of 1/0.
 */

const words = (list: string): string[] => list.split(/\s+/).filter(Boolean);

/** Column names (normalized) whose 1/0, true/false, yes/no cells mean kept / not kept. */
export const KEEP_FLAG_NAMES = new Set(
  words(`keep kept is_kept keep_flag kept_flag accepted accept is_accepted improved is_improved
    improvement is_best new_best best merged adopted promoted`),
);
const FLAG_TRUE = new Set(words('1 1.0 true yes y t'));
const FLAG_FALSE = new Set(words('0 0.0 false no n f'));

/** Share of decided cells above which a column counts as holding decisions. */
export const DECISION_SHARE = 0.5;
/** A decision column has a small vocabulary; a description column that starts with "keep" has not. */
const MAX_DISTINCT = 16;

export interface DecisionStats {
  /** Cells that are not empty or a placeholder. */
  filled: number;
  /** Cells that map to keep/discard/crash. */
  decided: number;
  /** Count per distinct normalized value, for the evidence sentence. */
  values: Map<string, number>;
}

/** How many of a column's cells are keep/discard/crash words. */
export function decisionStats(cells: readonly string[]): DecisionStats {
  const values = new Map<string, number>();
  let filled = 0;
  let decided = 0;
  for (const raw of cells) {
    if (isPlaceholder(raw)) continue;
    filled++;
    if (mapStatus(raw).status !== 'unknown') decided++;
    const v = normalizeStatus(raw);
    values.set(v, (values.get(v) ?? 0) + 1);
  }
  return { filled, decided, values };
}

/** Decided share of the filled cells (0 without any). */
export const share = (s: DecisionStats): number => (s.filled === 0 ? 0 : s.decided / s.filled);

/** A column whose cells read as decisions: most map, and they use a small vocabulary. */
export const holdsDecisions = (s: DecisionStats): boolean =>
  s.decided >= 2 && share(s) >= DECISION_SHARE && s.values.size <= MAX_DISTINCT;

/** `kept 5, revert 12` — the most frequent values, for warnings. */
export function describeValues(s: DecisionStats, max = 4): string {
  const top = [...s.values.entries()].sort((a, b) => b[1] - a[1]).slice(0, max);
  const more = s.values.size > max ? ', …' : '';
  return top.map(([v, n]) => `${v} ${n}`).join(', ') + more;
}

/** True when a column named like a keep flag holds (≥ 90%) 1/0-style cells. */
export function isKeepFlag(normalizedName: string, cells: readonly string[]): boolean {
  if (!KEEP_FLAG_NAMES.has(normalizedName)) return false;
  let filled = 0;
  let flags = 0;
  for (const raw of cells) {
    if (isPlaceholder(raw)) continue;
    filled++;
    const v = unquote(raw).toLowerCase();
    if (FLAG_TRUE.has(v) || FLAG_FALSE.has(v)) flags++;
  }
  return filled > 0 && flags >= 0.9 * filled;
}

/**
 * Maps a keep-flag cell: 1 → keep; 0 → discard, or crash when the row has no metric value
 * (the run produced nothing to compare); anything else → unknown.
 */
export function mapFlag(raw: string, hasValue: boolean): ExperimentStatus {
  const v = unquote(raw).toLowerCase();
  if (FLAG_TRUE.has(v)) return 'keep';
  if (FLAG_FALSE.has(v)) return hasValue ? 'discard' : 'crash';
  return 'unknown';
}
