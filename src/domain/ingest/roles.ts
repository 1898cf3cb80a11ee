import type { ExperimentStatus } from '../types.js';
import type { ChainMoves } from './chain.js';
import {
  DESCRIPTION_NAMES,
  HYPOTHESIS_NAMES,
  KEY_NAMES,
  NOT_METRIC,
  PARENT_NAMES,
  STATUS_NAMES,
  normalizeName,
  pick,
  pickScaled,
  MEMORY_NAMES,
  RUNTIME_NAMES,
  type ColumnRoles,
  type RoleProblem,
} from './columns.js';
import {
  decisionStats,
  describeValues,
  holdsDecisions,
  isKeepFlag,
  mapFlag,
  share,
} from './decisions.js';
import { columnNumbers, pickMetric, type MetricColumn } from './metric-choice.js';
import { mapStatus } from './status.js';
import { hexPrefix, isPlaceholder, KEY_PATTERN, parseMetric, unquote } from './values.js';

/** How a column came to play its role, reported with the ingest (issue 20). */
export interface ColumnChoice {
  /** The column as the header (or the inferred header) names it; null: no such column. */
  column: string | null;
  source: 'explicit' | 'name' | 'data' | 'position' | 'none';
  /** True when the choice rests on a guess; each guess also gives a warning. */
  guess: boolean;
  evidence: string;
}

export interface RoleChoices {
  metric: ColumnChoice;
  statusColumn: ColumnChoice;
  keyColumn: ColumnChoice;
}

export interface DetectOptions {
  metricName?: string;
  statusColumn?: string;
  /** The header was inferred: key and description come from the cells alone. */
  headerless?: boolean;
}

export interface DetectedRoles {
  roles?: ColumnRoles;
  problems: RoleProblem[];
  choices?: RoleChoices;
  /** The keep chain in the metric column, when there is a status column. */
  moves?: ChainMoves;
}

const numericShare = (cells: readonly string[]): number => {
  const filled = cells.filter((c) => !isPlaceholder(c));
  const nums = filled.filter((c) => parseMetric(c).kind === 'number');
  return filled.length === 0 ? 0 : nums.length / filled.length;
};

const isTimeLike = (s: string): boolean => /^\d{4}-\d{2}-\d{2}|^\d{1,2}:\d{2}(:\d{2})?$/.test(s);

/** A column of distinct identifiers: git hashes, or (without a header) the first text column. */
function looksLikeKeys(cells: readonly string[], loose: boolean): boolean {
  const filled = cells.map(unquote).filter((c) => !isPlaceholder(c));
  if (filled.length < 2 || !filled.every((c) => KEY_PATTERN.test(c) && !isTimeLike(c)))
    return false;
  if (new Set(filled).size < 0.9 * filled.length) return false;
  if (filled.filter((c) => hexPrefix(c) !== undefined).length >= 0.8 * filled.length) return true;
  return loose && filled.every((c) => parseMetric(c).kind !== 'number');
}

const findNamed = (header: string[], names: string[], want: string): number => {
  const exact = header.findIndex((h) => h.trim().toLowerCase() === want.trim().toLowerCase());
  return exact >= 0 ? exact : names.indexOf(normalizeName(want));
};

/**
 * Assigns roles to columns from the header and the cells (issue 20); see docs/api.md
 * "Ingestion rules". `rows` are the data lines that have the header's field count.
 */
export function detectRoles(
  header: string[],
  rows: string[][],
  opts: DetectOptions = {},
): DetectedRoles {
  const names = header.map(normalizeName);
  const problems: RoleProblem[] = [];
  // Each column's cells once: every role below reads them (large logs have 10^5 rows).
  const memo = new Map<number, string[]>();
  const cells = (i: number): string[] => {
    let c = memo.get(i);
    if (c === undefined) memo.set(i, (c = rows.map((r) => unquote(r[i] ?? ''))));
    return c;
  };
  let metric: number | undefined;
  if (opts.metricName !== undefined && opts.metricName.trim() !== '') {
    metric = findNamed(header, names, opts.metricName);
    if (metric < 0) {
      metric = undefined;
      problems.push({
        code: 'metric_column_not_found',
        message: `no column named '${opts.metricName}'; guessing the metric column`,
      });
    }
  }
  const explicitMetric = metric !== undefined;
  const taken = new Set<number>(metric === undefined ? [] : [metric]);
  const namedKey = pick(names, KEY_NAMES, taken);

  // Status: the named column when its cells are decisions, else a column whose cells are.
  let status: number | undefined;
  let statusKind: 'words' | 'flag' = 'words';
  let statusChoice: ColumnChoice = {
    column: null,
    source: 'none',
    guess: false,
    evidence: 'no column holds keep/discard decisions',
  };
  if (opts.statusColumn !== undefined && opts.statusColumn.trim() !== '') {
    const i = findNamed(header, names, opts.statusColumn);
    if (i >= 0 && !taken.has(i)) {
      status = i;
      statusKind = isKeepFlag(names[i], cells(i)) ? 'flag' : 'words';
      statusChoice = { column: header[i], source: 'explicit', guess: false, evidence: 'given' };
    } else
      problems.push({
        code: 'status_column_not_found',
        message: `no column named '${opts.statusColumn}'; guessing the status column`,
      });
  }
  if (status === undefined) {
    const named = pick(names, STATUS_NAMES, new Set(taken));
    const namedStats = named === undefined ? undefined : decisionStats(cells(named));
    const text = new Set([...DESCRIPTION_NAMES, ...HYPOTHESIS_NAMES, ...PARENT_NAMES]);
    let best: { i: number; share: number; flag: boolean } | undefined;
    if (!(namedStats && holdsDecisions(namedStats))) {
      names.forEach((n, i) => {
        if (taken.has(i) || i === named || text.has(n)) return;
        const c = cells(i);
        const flag = isKeepFlag(n, c);
        const s = decisionStats(c);
        const sh = flag ? 1 : holdsDecisions(s) ? share(s) : 0;
        if (sh > 0 && (best === undefined || sh > best.share)) best = { i, share: sh, flag };
      });
    }
    if (best !== undefined) {
      const b: { i: number; share: number; flag: boolean } = best;
      status = b.i;
      statusKind = b.flag ? 'flag' : 'words';
      const what = b.flag
        ? 'holds 1/0 keep flags'
        : `holds decision words (${describeValues(decisionStats(cells(b.i)))})`;
      const over =
        named === undefined
          ? ''
          : `; '${header[named]}' holds none (${describeValues(namedStats!)})`;
      statusChoice = {
        column: header[b.i],
        source: 'data',
        guess: true,
        evidence: `'${header[b.i]}' ${what}${over}`,
      };
      problems.push({
        code: 'status_column_guessed',
        message: `status column guessed: ${statusChoice.evidence}`,
      });
    } else if (named !== undefined) {
      status = named;
      const ns = namedStats!;
      statusChoice = {
        column: header[named],
        source: 'name',
        guess: false,
        evidence: `named '${header[named]}'; ${ns.decided} of ${ns.filled} cells are keep/discard/crash`,
      };
    }
  }
  if (status !== undefined) taken.add(status);
  const parent = pick(names, PARENT_NAMES, taken);

  let key = namedKey;
  let keyChoice: ColumnChoice =
    key === undefined
      ? {
          column: null,
          source: 'none',
          guess: false,
          evidence: 'no key column; rows are keyed row-<line>',
        }
      : { column: header[key], source: 'name', guess: false, evidence: `named '${header[key]}'` };
  if (key === undefined) {
    const i = names.findIndex(
      (_, i) => !taken.has(i) && looksLikeKeys(cells(i), opts.headerless === true && i === 0),
    );
    if (i >= 0) {
      key = i;
      taken.add(i);
      keyChoice = {
        column: header[i],
        source: 'data',
        guess: true,
        evidence: `'${header[i]}' holds distinct identifiers`,
      };
      problems.push({
        code: 'key_column_guessed',
        message: `key column guessed: ${keyChoice.evidence}`,
      });
    }
  }

  const statuses: ExperimentStatus[] | undefined =
    status === undefined
      ? undefined
      : cells(status).map((c) => (statusKind === 'flag' ? mapFlag(c, true) : mapStatus(c).status));
  let metricChoice: ColumnChoice;
  let moves: ChainMoves | undefined;
  if (metric === undefined) {
    const first = (i: number) => cells(i).find((c) => !isPlaceholder(c));
    const candidate = (i: number) => {
      const f = first(i);
      return (
        !taken.has(i) &&
        !NOT_METRIC.has(names[i]) &&
        !names[i].startsWith('delta') &&
        f !== undefined &&
        parseMetric(f).kind === 'number' &&
        numericShare(cells(i)) >= 0.5
      );
    };
    const order = names.map((_, i) => i).filter(candidate);
    // The second column first when it qualifies (the karpathy layout), then left to right.
    if (order.includes(1)) order.sort((a, b) => (a === 1 ? -1 : b === 1 ? 1 : a - b));
    if (order.length === 0) {
      problems.push({
        code: 'no_metric_column',
        message: `no numeric metric column among: ${header.join(', ')}`,
      });
      return { problems };
    }
    const cols: MetricColumn[] = order.map((i) => ({
      index: i,
      name: header[i],
      values: columnNumbers(cells(i)),
    }));
    const picked = pickMetric(cols, statuses);
    metric = picked.index;
    moves = picked.moves;
    metricChoice = {
      column: header[metric],
      source: picked.source,
      guess: picked.guess,
      evidence: picked.evidence,
    };
    if (picked.guess && !problems.some((p) => p.code === 'metric_column_not_found'))
      problems.push({
        code: 'metric_guessed',
        message: `metric column guessed: '${header[metric]}' (${picked.evidence})`,
      });
    taken.add(metric);
  } else {
    metricChoice = {
      column: header[metric],
      source: 'explicit',
      guess: false,
      evidence: 'named like the project metric',
    };
    if (statuses)
      moves = pickMetric(
        [{ index: metric, name: header[metric], values: columnNumbers(cells(metric)) }],
        statuses,
      ).moves;
  }
  if (!explicitMetric && opts.metricName) metricChoice.guess = true;

  let description = pick(names, DESCRIPTION_NAMES, taken);
  if (description === undefined && opts.headerless) {
    // Without a header: the last free column whose cells are mostly prose.
    for (let i = header.length - 1; i >= 0 && description === undefined; i--) {
      const c = cells(i).filter((x) => !isPlaceholder(x));
      if (!taken.has(i) && c.length > 0 && c.filter((x) => /\s/.test(x)).length >= 0.5 * c.length)
        description = i;
    }
    if (description !== undefined) taken.add(description);
  }
  const hypothesis = pick(names, HYPOTHESIS_NAMES, taken);
  const roles: ColumnRoles = { metric };
  if (key !== undefined) roles.key = key;
  if (status !== undefined) roles.status = status;
  if (statusKind === 'flag') roles.statusFlag = true;
  if (parent !== undefined) roles.parent = parent;
  if (description !== undefined) roles.description = description;
  if (hypothesis !== undefined) roles.hypothesis = hypothesis;
  const memoryGb = pickScaled(names, MEMORY_NAMES, taken);
  if (memoryGb) roles.memoryGb = memoryGb;
  const runtimeS = pickScaled(names, RUNTIME_NAMES, taken);
  if (runtimeS) roles.runtimeS = runtimeS;
  return {
    roles,
    problems,
    choices: { metric: metricChoice, statusColumn: statusChoice, keyColumn: keyChoice },
    ...(moves ? { moves } : {}),
  };
}
