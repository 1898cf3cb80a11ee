import type { ExperimentStatus } from '../types.js';
import { isPlaceholder, unquote } from './values.js';

/**
 * Status vocabulary of real autoresearch logs (compared lower-case, `-`/spaces as `_`).
 *
 * keep    — keep, kept, keeps, keeper, accept(ed), improved, merge(d), adopt(ed), promote(d);
 *           markers of the current best, which the loop builds on: best, new_best, final,
 *           baseline, champion, winner, record.
 * discard — discard(ed), revert(ed), reject(ed), worse, no_improvement, rollback,
 *           rolled_back, reset, drop(ped), kill(ed) (an idea killed after measuring), abandon(ed).
 * crash   — crash(ed), error, fail(ed)/failure, incorrect, compile_error, build_error, oom,
 *           timeout, timed_out, diverged, nan, invalid, exception, abort(ed), broken,
 *           blocked (could not run), infra_retry/infra_error (run lost to infrastructure).
 * Beyond exact matches, the first word decides (`reverted_worse`, `KEPT (final)`,
 * `revert (feature mismatch)`, `keep_best`, `crash_oom`), unless a hedge word marks the
 * row as undecided (`keep-candidate`, `tentative`, `pending`).
 *
 * Everything else is `unknown` (stored, never a premise) with a warning, notably:
 * outcome-only values that say the run finished but not whether it was kept (ok, pass,
 * done, success, completed, run, correct); bookkeeping markers (sentinel — a regression
 * re-run of an old config; parked, todo, wip, deferred, info, verify, contender, repair,
 * support); and values that are really parameters (`curriculum_0.67`).
 */
const EXACT: Record<string, ExperimentStatus> = {};
const put = (status: ExperimentStatus, words: string) => {
  for (const w of words.split(/\s+/)) if (w) EXACT[w] = status;
};
put(
  'keep',
  `keep kept keeps keeper keeping accept accepted improved improvement merge merged adopt adopted
  promote promoted best new_best newbest final baseline champion winner record`,
);
put(
  'discard',
  `discard discarded discards revert reverted reverts reject rejected worse no_improvement
  rollback rolled_back reset drop dropped kill killed abandon abandoned`,
);
put(
  'crash',
  `crash crashed error errored errors fail failed failure fails incorrect compile_error
  compile_fail compile_failed build_error build_failed oom out_of_memory timeout timed_out diverged
  divergence nan invalid exception abort aborted broken blocked infra_retry infra_error infra_fail`,
);

/** Leading words that decide a compound status (`reverted_worse`). */
const FIRST_WORD: Record<string, ExperimentStatus> = {};
for (const w of 'keep kept keeping accept accepted best final'.split(' ')) FIRST_WORD[w] = 'keep';
for (const w of 'discard discarded revert reverted reject rejected rollback drop dropped kill killed'.split(
  ' ',
)) {
  FIRST_WORD[w] = 'discard';
}
for (const w of 'crash crashed error fail failed incorrect oom timeout diverged invalid'.split(' '))
  FIRST_WORD[w] = 'crash';

const HEDGES = new Set([
  'candidate',
  'tentative',
  'maybe',
  'pending',
  'provisional',
  'unconfirmed',
  'wip',
  'todo',
  'planned',
  'queued',
  'running',
]);
const OUTCOME_ONLY = new Set([
  'ok',
  'pass',
  'passed',
  'done',
  'success',
  'succeeded',
  'successful',
  'complete',
  'completed',
  'finished',
  'run',
  'ran',
  'correct',
]);

export type StatusMatch =
  | { status: Exclude<ExperimentStatus, 'unknown'>; kind: 'exact' | 'compound' }
  | { status: 'unknown'; kind: 'empty' | 'outcome' | 'hedged' | 'unmapped' };

/** Normalizes a status cell: lower-case, whitespace and `-` runs to `_`. */
export const normalizeStatus = (raw: string): string =>
  unquote(raw)
    .toLowerCase()
    .replace(/[\s-]+/g, '_');

/** Maps a raw status cell to keep/discard/crash, or unknown with the reason. */
export function mapStatus(raw: string): StatusMatch {
  if (isPlaceholder(raw)) return { status: 'unknown', kind: 'empty' };
  const s = normalizeStatus(raw);
  const exact = EXACT[s];
  if (exact !== undefined && exact !== 'unknown') return { status: exact, kind: 'exact' };
  if (OUTCOME_ONLY.has(s)) return { status: 'unknown', kind: 'outcome' };
  const words = s.split(/[^a-z0-9]+/).filter(Boolean);
  if (words.some((w) => HEDGES.has(w))) return { status: 'unknown', kind: 'hedged' };
  const first = words.length > 0 ? FIRST_WORD[words[0]] : undefined;
  if (first !== undefined && first !== 'unknown') return { status: first, kind: 'compound' };
  return { status: 'unknown', kind: 'unmapped' };
}

/** Human sentence for an unknown status, used in warnings. */
export function unknownStatusMessage(raw: string, kind: StatusMatch['kind']): string {
  switch (kind) {
    case 'empty':
      return 'status is empty; stored as unknown';
    case 'outcome':
      return `status '${raw}' says the run finished, not whether it was kept; stored as unknown`;
    case 'hedged':
      return `status '${raw}' is not a final decision; stored as unknown`;
    default:
      return `status '${raw}' maps to none of keep/discard/crash; stored as unknown`;
  }
}
