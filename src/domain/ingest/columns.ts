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
export const NOT_METRIC = new Set([
  ...KEY_NAMES,
  ...STATUS_NAMES,
  ...DESCRIPTION_NAMES,
  ...HYPOTHESIS_NAMES,
  ...PARENT_NAMES,
  ...words(`timestamp time_stamp datetime date created_at updated_at started_at finished_at
    ended_at seed delta agent tag kind type model env branch host gpu`),
]);
/** `name:scale` — multiply the cell by scale to get GB. */
export const MEMORY_NAMES = scaled(`memory_gb:1 mem_gb:1 peak_memory_gb:1 peak_mem_gb:1 vram_gb:1
  peak_vram_gb:1 gpu_mem_gb:1 memory_mb:${1 / 1024} mem_mb:${1 / 1024} peak_memory_mb:${1 / 1024}
  peak_vram_mb:${1 / 1024} vram_mb:${1 / 1024}`);
/** `name:scale` — multiply the cell by scale to get seconds. */
export const RUNTIME_NAMES =
  scaled(`runtime_s:1 runtime_sec:1 elapsed_s:1 elapsed_sec:1 duration_s:1
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
  /** The status column holds 1/0 keep flags (`kept`), not decision words. */
  statusFlag?: boolean;
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

/** The first column named like one of `synonyms` (in their order) and not taken; marks it taken. */
export function pick(names: string[], synonyms: string[], taken: Set<number>): number | undefined {
  for (const syn of synonyms) {
    const i = names.findIndex((n, idx) => n === syn && !taken.has(idx));
    if (i >= 0) {
      taken.add(i);
      return i;
    }
  }
  return undefined;
}

/** The first resource column named in `table` (in its order) that is not taken. */
export function pickScaled(
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
