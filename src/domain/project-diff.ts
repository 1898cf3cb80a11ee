/**
 * The project's config is code (SPEC §8): the diff between two configs, what of it the scores
 * depend on, and JSON merge patches (RFC 7396) for PATCH. Pure.
 */

/** One changed leaf of a config: a dotted path (`weights.code`), its old and new value (undefined = absent). */
export interface ConfigChange {
  field: string;
  from: unknown;
  to: unknown;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Canonical JSON (sorted keys) to compare leaves; arrays compare by order. */
function canon(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (isObj(v)) return `{${Object.keys(v).sort().filter((k) => v[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canon(v[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'undefined';
}

/** Every leaf (scalars and arrays) that differs between `from` and `to`, sorted by field. */
export function diffConfig(from: Obj, to: Obj, prefix = ''): ConfigChange[] {
  const out: ConfigChange[] = [];
  for (const k of [...new Set([...Object.keys(from), ...Object.keys(to)])].sort()) {
    const a = from[k];
    const b = to[k];
    const field = prefix ? `${prefix}.${k}` : k;
    if (isObj(a) && isObj(b)) out.push(...diffConfig(a, b, field));
    else if (canon(a) !== canon(b)) out.push({ field, from: a, to: b });
  }
  return out;
}

/**
 * Config fields no score depends on: how and how long runners reproduce, and the gate's
 * reproduction budget. Any other field (protectedPaths, weights, sigma0, nu0, threshold,
 * minEffect, metric, replicates, fields added later…) counts as a scoring input, so an unknown
 * field errs on the side of rescoring.
 */
const NOT_SCORING = new Set([
  'reproduction.command',
  'reproduction.metricPattern',
  'reproduction.timeBudgetS',
  'reproduction.gpuMinutesPerDay',
  'reproduction.labels',
  'reproduction.maxReproductions',
  'reproduction.rounds',
]);

/** Whether a change of these fields means the project's scores must be recomputed. */
export function changesScoring(changes: ConfigChange[]): boolean {
  return changes.some((c) => !NOT_SCORING.has(c.field) && ![...NOT_SCORING].some((f) => c.field.startsWith(`${f}.`)));
}

/** RFC 7396 JSON merge patch: objects merge recursively, `null` removes a member, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return patch;
  const out: Obj = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** One line per change, for people: `weights.code: 0.1 → 0.2`. */
export function formatChanges(changes: ConfigChange[]): string[] {
  const show = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v));
  return changes.map((c) => `${c.field}: ${show(c.from)} → ${show(c.to)}`);
}
