import { isPlaceholder, parseMetric } from './values.js';

/** Lower-case, every run of non-alphanumerics as one `_`, no leading/trailing `_`. */
export const normalizeName = (name: string): string =>
  name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');

const words = (list: string): string[] => list.split(/\s+/).filter(Boolean);

/** Header names per role, in order of preference (normalized). */
export const KEY_NAMES = words(`commit commit_hash commit_sha commit_id git_commit git_sha sha hash
  revision rev id exp_id experiment_id experiment exp config_id run_id run run_name name iteration
  iter step idx index`);
export const STATUS_NAMES = words(
  'status decision verdict outcome correctness action keep_discard state',
);
export const DESCRIPTION_NAMES = words(`description desc summary change changes idea notes note
  comment comments message details`);
export const HYPOTHESIS_NAMES = words('hypothesis hypotheses');
export const PARENT_NAMES = words(`parent parents parent_commit parent_id parent_hash parent_sha
  parent_key premise premises based_on`);
/** Columns that are never the metric even when numeric. */
const NOT_METRIC = new Set([
  ...KEY_NAMES,
  ...STATUS_NAMES,
  ...DESCRIPTION_NAMES,
  ...HYPOTHESIS_NAMES,
  ...PARENT_NAMES,
  ...words(`timestamp time_stamp datetime date created_at updated_at started_at finished_at
    ended_at seed delta agent tag kind type model env branch host gpu`),
]);
/** `name:scale` — multiply the cell by scale to get GB. */
const MEMORY_NAMES = scaled(`memory_gb:1 mem_gb:1 peak_memory_gb:1 peak_mem_gb:1 vram_gb:1
  peak_vram_gb:1 gpu_mem_gb:1 memory_mb:${1 / 1024} mem_mb:${1 / 1024} peak_memory_mb:${1 / 1024}
  peak_vram_mb:${1 / 1024} vram_mb:${1 / 1024}`);
/** `name:scale` — multiply the cell by scale to get seconds. */
const RUNTIME_NAMES = scaled(`runtime_s:1 runtime_sec:1 elapsed_s:1 elapsed_sec:1 duration_s:1
  wall_s:1 wall_time_s:1 train_time_s:1 time_s:1 runtime_ms:0.001 elapsed_ms:0.001
  duration_ms:0.001 train_time_ms:0.001 runtime_min:60 elapsed_min:60`);

function scaled(list: string): Array<[string, number]> {
  return words(list).map((w) => {
    const [name, scale] = w.split(':');
    return [name, Number(scale)];
  });
}

export interface ScaledColumn {
  index: number;
  /** Multiply the cell by this to get GB (memory) or seconds (runtime). */
  scale: number;
}

export interface ColumnRoles {
  key?: number;
  metric: number;
  status?: number;
  description?: number;
  hypothesis?: number;
  parent?: number;
  memoryGb?: ScaledColumn;
  runtimeS?: ScaledColumn;
}

export interface RoleProblem {
  code: string;
  message: string;
}

/**
 * First value of each column that is not empty or a placeholder, for telling numeric
 * columns from text. Looking at the first value only (not a vote over all rows) keeps
 * the choice stable when more rows are appended to a file.
 */
export function firstValues(width: number, rows: string[][]): Array<string | undefined> {
  const out: Array<string | undefined> = new Array<string | undefined>(width).fill(undefined);
  let missing = width;
  for (const fields of rows) {
    for (let c = 0; c < width && c < fields.length; c++) {
      if (out[c] === undefined && !isPlaceholder(fields[c])) {
        out[c] = fields[c];
        missing--;
      }
    }
    if (missing === 0) break;
  }
  return out;
}

function pick(names: string[], synonyms: string[], taken: Set<number>): number | undefined {
  for (const syn of synonyms) {
    const i = names.findIndex((n, idx) => n === syn && !taken.has(idx));
    if (i >= 0) {
      taken.add(i);
      return i;
    }
  }
  return undefined;
}

function pickScaled(
  names: string[],
  table: Array<[string, number]>,
  taken: Set<number>,
): ScaledColumn | undefined {
  for (const [name, scale] of table) {
    const index = names.indexOf(name);
    if (index >= 0 && !taken.has(index)) return { index, scale };
  }
  return undefined;
}

/**
 * Assigns roles to header columns. The metric column is the one named like `metricName`
 * (exact, then normalized), else the second column when its first value is a number,
 * else the first other numeric column that is not an id, status, text or timestamp.
 * Returns a problem (and no roles) when no metric column can be found.
 */
export function detectRoles(
  header: string[],
  samples: Array<string | undefined>,
  metricName?: string,
): { roles?: ColumnRoles; problems: RoleProblem[] } {
  const names = header.map(normalizeName);
  const problems: RoleProblem[] = [];
  const isNumeric = (i: number) =>
    samples[i] !== undefined && parseMetric(samples[i] as string).kind === 'number';

  let metric: number | undefined;
  if (metricName !== undefined && metricName.trim() !== '') {
    metric = header.findIndex((h) => h.trim().toLowerCase() === metricName.trim().toLowerCase());
    if (metric < 0) metric = names.indexOf(normalizeName(metricName));
    if (metric < 0) {
      metric = undefined;
      problems.push({
        code: 'metric_column_not_found',
        message: `no column named '${metricName}'; guessing the metric column`,
      });
    }
  }
  const taken = new Set<number>(metric === undefined ? [] : [metric]);
  const key = pick(names, KEY_NAMES, taken);
  const status = pick(names, STATUS_NAMES, taken);
  const parent = pick(names, PARENT_NAMES, taken);
  if (metric === undefined) {
    const candidate = (i: number) =>
      !taken.has(i) && !NOT_METRIC.has(names[i]) && !names[i].startsWith('delta') && isNumeric(i);
    if (header.length > 1 && candidate(1)) metric = 1;
    else metric = names.findIndex((_, i) => candidate(i));
    if (metric < 0) {
      problems.push({
        code: 'no_metric_column',
        message: `no numeric metric column among: ${header.join(', ')}`,
      });
      return { problems };
    }
    taken.add(metric);
  }
  const description = pick(names, DESCRIPTION_NAMES, taken);
  const hypothesis = pick(names, HYPOTHESIS_NAMES, taken);
  const roles: ColumnRoles = { metric };
  if (key !== undefined) roles.key = key;
  if (status !== undefined) roles.status = status;
  if (parent !== undefined) roles.parent = parent;
  if (description !== undefined) roles.description = description;
  if (hypothesis !== undefined) roles.hypothesis = hypothesis;
  const memoryGb = pickScaled(names, MEMORY_NAMES, taken);
  if (memoryGb) roles.memoryGb = memoryGb;
  const runtimeS = pickScaled(names, RUNTIME_NAMES, taken);
  if (runtimeS) roles.runtimeS = runtimeS;
  return { roles, problems };
}
