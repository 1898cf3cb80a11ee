import type { ColumnRoles } from './columns.js';
import type { DataLine } from './rows.js';
import { hexPrefix, isPlaceholder, KEY_PATTERN, parseMetric, unquote } from './values.js';

/**
 * Telling table rows from lines that never were experiments (issue 20): benchmark output
 * interleaved into the log (a timestamp first, another field count), prose, separators.
 * A line with the header's field count is always a row; a line with another count is a row
 * only when its key (or, without a key column, its metric) cell has the right shape.
 */

/** A line of rule characters only (`-----`, `=====`, `|---|---|`): no letter or digit anywhere. */
export const isSeparatorLine = (text: string): boolean =>
  !/[\p{L}\p{N}]/u.test(text) && /([-=_*~+#|.])\1\1/.test(text);

/** `2026-03-19`, `2026-03-19T12:00:01Z`, `12:00:01`, `[12:00:01]`: the start of a log line. */
const TIMESTAMP =
  /^\[?(\d{4}-\d{2}-\d{2}([ T]\d{1,2}:\d{2}.*)?|\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?)\]?$/;
export const isTimestamp = (cell: string): boolean => TIMESTAMP.test(unquote(cell));

/** A cell that can be an experiment key: the key alphabet, a letter or digit, no timestamp or trailing colon. */
function keyShaped(cell: string): boolean {
  const c = unquote(cell);
  return KEY_PATTERN.test(c) && /[A-Za-z0-9]/.test(c) && !isTimestamp(c) && !c.endsWith(':');
}

/**
 * Why a line is no row whatever the columns' roles: another field count and a timestamp
 * first, or a single field (prose) that is no commit hash.
 */
export function shapeReason(
  fields: readonly string[],
  width: number,
  timeFirst: boolean,
): string | undefined {
  if (fields.length === width) return undefined;
  const first = fields[0] ?? '';
  if (!timeFirst && isTimestamp(first.trim().split(/\s+/)[0] ?? ''))
    return 'it starts with a timestamp';
  // One field in a table of several: prose, unless it is a bare commit hash.
  if (fields.length === 1 && width > 1 && hexPrefix(first) === undefined)
    return 'it has no separators';
  return undefined;
}

/**
 * Why a line with another field count than the header is not a row, or undefined when it is
 * one (kept, with a field-count warning). `timeFirst`: the table's first column holds times.
 */
export function foreignReason(
  fields: readonly string[],
  width: number,
  roles: ColumnRoles,
  timeFirst: boolean,
): string | undefined {
  if (fields.length === width) return undefined;
  const plain = shapeReason(fields, width, timeFirst);
  if (plain !== undefined) return plain;
  const metricShaped = parseMetric(fields[roles.metric] ?? '').kind === 'number';
  if (roles.key !== undefined) {
    const key = fields[roles.key] ?? '';
    if (isPlaceholder(key) && metricShaped) return undefined;
    if (!keyShaped(key))
      return `its ${roles.key + 1}${ordinal(roles.key + 1)} field '${clip(key)}' is no key`;
    // A short line keyed by a word (`Summary<TAB>best was 0.97`) is prose unless its metric
    // cell reads as a value (a number, a placeholder, a failure marker); a commit hash is a row.
    const metricCell = parseMetric(fields[roles.metric] ?? '');
    if (fields.length < width && hexPrefix(key) === undefined && metricCell.kind === 'invalid')
      return `its metric field '${clip(fields[roles.metric] ?? '')}' is no number`;
    return undefined;
  }
  return metricShaped
    ? undefined
    : `its metric field '${clip(fields[roles.metric] ?? '')}' is no number`;
}

const ordinal = (n: number): string =>
  n % 10 === 1 && n !== 11
    ? 'st'
    : n % 10 === 2 && n !== 12
      ? 'nd'
      : n % 10 === 3 && n !== 13
        ? 'rd'
        : 'th';
export const clip = (s: string, n = 40): string => (s.length > n ? `${s.slice(0, n)}…` : s);

/** Rows needed, and the share of lines that must share one field count, to read a file without a header. */
export const HEADERLESS_MIN_ROWS = 2;
const HEADERLESS_SHARE = 0.6;

/**
 * The field count most lines share, when a file without a header has a consistent shape:
 * at least two lines, most of them with that count (≥ 2 fields), and a column of numbers
 * for the metric. Undefined otherwise (the caller rejects the file, naming what it needs).
 */
export function consistentWidth(data: readonly DataLine[]): number | undefined {
  const counts = new Map<number, number>();
  for (const d of data) counts.set(d.fields.length, (counts.get(d.fields.length) ?? 0) + 1);
  let width = 0;
  let n = 0;
  for (const [w, c] of counts) if (c > n || (c === n && w > width)) [width, n] = [w, c];
  if (width < 2 || n < HEADERLESS_MIN_ROWS || n < HEADERLESS_SHARE * data.length) return undefined;
  const rows = data.filter((d) => d.fields.length === width);
  for (let i = 0; i < width; i++) {
    const filled = rows.map((r) => r.fields[i]).filter((c) => !isPlaceholder(c));
    const nums = filled.filter((c) => parseMetric(c).kind === 'number').length;
    if (filled.length > 0 && nums >= 0.8 * filled.length) return width;
  }
  return undefined;
}

/** A first column of times (a `timestamp` table, or one without a header) is no sign of foreign output. */
export const firstColumnHoldsTimes = (header: string[], data: DataLine[]): boolean =>
  /time|date/i.test(header[0]) ||
  data.some((d) => d.fields.length === header.length && isTimestamp(d.fields[0] ?? ''));

export function skipLine(
  skip: (line: number, message: string) => void,
  d: DataLine,
  width: number,
  why: string,
): void {
  skip(
    d.line,
    `${d.fields.length} field(s) where the header has ${width}, and ${why} ('${clip(d.text.trim())}')`,
  );
}

/** The data lines that are rows; the others are skipped with a warning each. */
export function keepRows(
  data: DataLine[],
  header: string[],
  roles: ColumnRoles,
  skip: (line: number, message: string) => void,
  timeFirst: boolean,
): DataLine[] {
  return data.filter((d) => {
    const why = foreignReason(d.fields, header.length, roles, timeFirst);
    if (why !== undefined) skipLine(skip, d, header.length, why);
    return why === undefined;
  });
}
