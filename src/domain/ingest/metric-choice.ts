import type { ExperimentStatus } from '../types.js';
import {
  chainDirection,
  chainIsMixed,
  chainMoves,
  describeChain,
  type ChainMoves,
} from './chain.js';
import { inferDirection, metricTokens } from './direction.js';
import { parseMetric } from './values.js';

/**
 * Choosing the metric column when nobody named it (issue 20). The old rule (the second
 * column when numeric, else the first numeric column that is not an id, status, text or
 * timestamp) stays the default order; columns that look like something else are passed
 * over, and the keep chain can overrule the order: the loop kept rows that improved its
 * metric, so the metric's kept values move one way and a hyperparameter's do not.
 */

const words = (list: string): string[] => list.split(/\s+/).filter(Boolean);
/** Name tokens of run settings, not results (`top_k`, `lr`, `batch_size`, `num_layers`). */
const HYPER = new Set(
  words(`k topk top lr learning batch step steps iters iterations bs seed seeds epoch epochs warmup dim dims d hidden width
    depth layer layers n_layer heads head dropout wd decay momentum beta beta1 beta2 alpha gamma
    lambda temperature temp eps epsilon rank window ctx context seq len block chunk budget num n
    nproc workers threads size`),
);
/** Name tokens of resources and sizes, reported beside the metric. */
const RESOURCE = new Set(words('memory mem vram gb mb kb bytes params parameters'));
const BEFORE = new Set(
  words(
    'before pre old prev previous initial init orig original baseline base ref reference start',
  ),
);
const AFTER = new Set(words('after post new final current cur end'));
/** Tokens that make a name metric-like even when no direction follows from it. */
const METRIC_WORDS = new Set(
  words(
    'metric metrics objective target fitness result value primary elo win gain profit pnl quality',
  ),
);

/** A name that reads like a metric: a direction follows from it, or it says "metric". */
export const metricLike = (name: string): boolean =>
  inferDirection(name) !== null || metricTokens(name).some((t) => METRIC_WORDS.has(t));

export interface MetricColumn {
  index: number;
  name: string;
  values: Array<number | null>;
}

/** Why a candidate was passed over, or undefined when it was not. */
function passOver(
  c: MetricColumn,
  all: readonly MetricColumn[],
  statuses: readonly ExperimentStatus[] | undefined,
): string | undefined {
  const tokens = metricTokens(c.name);
  const named = inferDirection(c.name) !== null;
  if (!named && tokens.some((t) => HYPER.has(t))) return 'its name is a setting, not a result';
  if (!named && tokens.some((t) => RESOURCE.has(t))) return 'its name is a resource';
  if (tokens.includes('delta') || tokens.includes('diff')) return 'it is a difference';
  if (tokens.some((t) => BEFORE.has(t))) {
    const core = tokens.filter((t) => !BEFORE.has(t)).join('_');
    const after = all.find((o) => {
      const t = metricTokens(o.name);
      return (
        o !== c && t.some((x) => AFTER.has(x)) && t.filter((x) => !AFTER.has(x)).join('_') === core
      );
    });
    if (after) return `'${after.name}' is the value after`;
  }
  const nums = c.values.filter((v): v is number => v !== null);
  if (nums.length >= 8 && new Set(nums).size <= 3)
    return `it holds only ${new Set(nums).size} distinct values (${[...new Set(nums)].join(', ')})`;
  // A count or a clock (run index, unix time) rises on every row, discards included; a
  // metric does not (its discards are worse). Its kept values would fake a perfect chain.
  const discards = statuses?.some((st, i) => st === 'discard' && c.values[i] !== null) ?? false;
  if (!named && discards && nums.length >= 5 && nums.every((v, i) => i === 0 || v > nums[i - 1]))
    return 'it rises on every row (a count or a clock)';
  return undefined;
}

export interface MetricPick {
  index: number;
  source: 'name' | 'data' | 'position';
  guess: boolean;
  evidence: string;
  moves?: ChainMoves;
}

/**
 * Picks the metric among numeric candidates given in the default order. `statuses` are the
 * rows' decisions when the file has a status column (for the keep chain).
 */
export function pickMetric(
  ordered: readonly MetricColumn[],
  statuses: readonly ExperimentStatus[] | undefined,
): MetricPick {
  const reasons = new Map<MetricColumn, string>();
  for (const c of ordered) {
    const why = passOver(c, ordered, statuses);
    if (why !== undefined) reasons.set(c, why);
  }
  const kept = ordered.filter((c) => !reasons.has(c));
  const pool = kept.length > 0 ? kept : [...ordered];
  const moves = new Map(
    pool.map((c) => [c, statuses ? chainMoves(c.values, statuses) : undefined]),
  );
  const monotone = (c: MetricColumn) => {
    const m = moves.get(c);
    return m !== undefined && chainDirection(m) !== null;
  };
  let chosen = pool[0];
  let source: MetricPick['source'] = metricLike(chosen.name) ? 'name' : 'position';
  // The keep chain overrules the default order only for a column not named like a metric
  // whose kept values go both ways (or never move): a named metric with a noisy chain (a
  // log that switched benchmarks) stays, and the choice stays stable as the log grows.
  const firstMoves = moves.get(chosen);
  const stuck =
    firstMoves !== undefined && firstMoves.keeps >= 3 && firstMoves.up + firstMoves.down === 0;
  if (source === 'position' && firstMoves && (chainIsMixed(firstMoves) || stuck)) {
    const better = pool.find((c) => metricLike(c.name) && monotone(c)) ?? pool.find(monotone);
    if (better) {
      chosen = better;
      source = 'data';
    }
  }
  const m = moves.get(chosen);
  const notes: string[] = [];
  if (source === 'name') notes.push(`named like a metric`);
  if (source === 'position') notes.push(`the first numeric column not named like anything else`);
  if (source === 'data') notes.push(`the kept rows move in one direction in it`);
  if (m) notes.push(describeChain(m));
  if (chosen !== pool[0])
    notes.push(`'${pool[0].name}' does not (${describeChain(moves.get(pool[0]) as ChainMoves)})`);
  // Name the columns passed over on the way to the choice (not those after it).
  const at = ordered.indexOf(chosen);
  for (const [c, why] of reasons)
    if (kept.length > 0 && ordered.indexOf(c) < at) notes.push(`passed over '${c.name}': ${why}`);
  // A name that reads like a metric in the default place is no guess; anything else is.
  const guess = !(source === 'name' && chosen === ordered[0]);
  return {
    index: chosen.index,
    source,
    guess,
    evidence: notes.join('; '),
    ...(m ? { moves: m } : {}),
  };
}

/** Numbers of a column, null for cells that are not numbers. */
export const columnNumbers = (cells: readonly string[]): Array<number | null> =>
  cells.map((c) => {
    const m = parseMetric(c);
    return m.kind === 'number' ? m.value : null;
  });
