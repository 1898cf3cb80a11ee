import { ExperimentKey } from '../../../schemas/shared.js';
import { isReservedKey } from '../keys.js';
/**
 * Cell-level readers for results tables: metric numbers, placeholders and experiment keys.
 */

/**
 * Strips surrounding whitespace and one pair of CSV-style surrounding double quotes
 * (spreadsheet exports), reading `""` inside as `"`. A cell such as `"a" and "b"` is no
 * quoted cell (a lone quote inside) and stays as written.
 */
export function unquote(raw: string): string {
  const s = raw.trim();
  if (s.length < 2 || !s.startsWith('"') || !s.endsWith('"')) return s;
  const inner = s.slice(1, -1);
  return inner.replace(/""/g, '').includes('"') ? s : inner.replace(/""/g, '"').trim();
}

const words = (list: string): string[] => list.split(/\s+/).filter(Boolean);

/** Cells that mean "no value" in real logs, compared lower-case. */
const PLACEHOLDERS = new Set([
  '',
  ...words('- -- --- — – ? n/a na n.a. null none nil tbd pending skip skipped'),
]);

/** Metric cells that report a failed run instead of a number, compared lower-case. */
const FAILURE_MARKERS = new Set(
  words(`failed fail failure diverged invalid error err oom timeout crash crashed killed nan +nan -nan
    inf +inf -inf infinity +infinity -infinity`),
);

/** True for an empty cell or a placeholder such as `-`, `—`, `n/a`, `NA`, `null`, `none`. */
export const isPlaceholder = (raw: string): boolean => PLACEHOLDERS.has(unquote(raw).toLowerCase());

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

export type MetricCell =
  | { kind: 'number'; value: number; percent: boolean }
  /** Empty, a placeholder, or a failure marker (`FAILED`, `DIVERGED`, `NaN`, …). */
  | { kind: 'missing'; value: null }
  /** Text that is not a number at all. */
  | { kind: 'invalid'; value: null };

/**
 * Reads a metric cell. Plain decimals and exponents (`1.23e-4`) are numbers; a trailing
 * `%` is accepted and dropped, keeping the number in the units written (`0.98%` → 0.98),
 * since a column is either all percentages or none and rescaling one cell would mix units.
 * Thousands separators, units and non-finite values are not numbers.
 */
export function parseMetric(raw: string): MetricCell {
  let s = unquote(raw);
  const lower = s.toLowerCase();
  if (PLACEHOLDERS.has(lower) || FAILURE_MARKERS.has(lower))
    return { kind: 'missing', value: null };
  const percent = s.endsWith('%');
  if (percent) s = s.slice(0, -1).trimEnd();
  if (!NUMBER.test(s)) return { kind: 'invalid', value: null };
  const value = Number(s);
  if (!Number.isFinite(value)) return { kind: 'missing', value: null };
  return { kind: 'number', value, percent };
}

/** Reads a non-negative finite number, or undefined (for resources such as memory_gb). */
export function parseAmount(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const cell = parseMetric(raw);
  return cell.kind === 'number' && cell.value >= 0 ? cell.value : undefined;
}

/** An experiment key as the API accepts it (schemas/shared.ts). */
export const KEY_PATTERN = new RegExp(ExperimentKey.pattern);
const KEY_MAX = 128;

/** Replaces every run of characters outside the key alphabet with `_` and bounds the length. */
export function sanitizeKey(raw: string): string {
  const s = raw.replace(/[^A-Za-z0-9._~:@/+-]+/g, '_').slice(0, KEY_MAX);
  // Object.prototype member names are reserved keys (src/domain/keys.ts).
  return isReservedKey(s) ? `${s.slice(0, KEY_MAX - 1)}_` : s;
}

/**
 * The leading git hash of a commit cell (`abc1234`, `abc1234-dirty`, `35a795b_np`, a full
 * 40/64-hex hash), lower-cased; undefined when the cell does not start with ≥ 7 hex digits
 * followed by a non-alphanumeric character or the end.
 */
export function hexPrefix(raw: string): string | undefined {
  const m = /^([0-9a-fA-F]{7,64})(?![0-9A-Za-z])/.exec(raw.trim());
  return m ? m[1].toLowerCase() : undefined;
}

/**
 * Hands out unique, deterministic keys in row order: the first occurrence of a base keeps
 * it, later ones get `<base>~2`, `~3`, … (skipping any already taken). Because the choice
 * depends only on earlier rows, a longer version of a file yields the same keys for the
 * rows it shares with the shorter one.
 */
export class KeyAllocator {
  /** Every key handed out, with the line that got it. */
  private readonly used = new Map<string, number>();
  /** Occurrences so far of bases seen more than once. */
  private readonly occurrences = new Map<string, number>();

  /**
   * Allocates a key for `base` (already sanitized) found at `line`. `firstLine` is the
   * line that holds `base` itself when this row had to take a suffixed key.
   */
  allocate(base: string, line: number): { key: string; firstLine?: number } {
    if (!this.used.has(base)) {
      this.used.set(base, line);
      return { key: base };
    }
    let n = (this.occurrences.get(base) ?? 1) + 1;
    let key = withSuffix(base, n);
    while (this.used.has(key)) key = withSuffix(base, ++n);
    this.occurrences.set(base, n);
    this.used.set(key, line);
    return { key, firstLine: this.used.get(base) };
  }
}

function withSuffix(base: string, n: number): string {
  const suffix = `~${n}`;
  return base.slice(0, KEY_MAX - suffix.length) + suffix;
}

const NUMERAL_OR_NONFINITE = /^[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?|inf(?:inity)?|nan)$/i;

/**
 * True for a cell that reads as a number but no finite one (`1e309`, `inf`, `-Infinity`,
 * `NaN`): a metric cell like this gives no value, and the warning says why (issue 17).
 */
export function isNonFiniteNumeral(raw: string): boolean {
  const s = unquote(raw);
  if (!NUMERAL_OR_NONFINITE.test(s)) return false;
  return !Number.isFinite(Number(s.replace(/^([+-]?)inf(?:inity)?$/i, '$1Infinity')));
}
