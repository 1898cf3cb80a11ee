/** Markdown helpers for the report. */

export function table(
  header: string[],
  rows: (string | number)[][],
  align?: ('l' | 'r')[],
): string {
  const a = align ?? header.map((_, i) => (i === 0 ? 'l' : 'r'));
  const sep = a.map((x) => (x === 'r' ? '---:' : '---'));
  const cell = (c: string | number) => String(c).replace(/(?<!\\)\|/g, '\\|');
  return [header.map(cell), sep, ...rows.map((r) => r.map(cell))]
    .map((r) => `| ${r.join(' | ')} |`)
    .join('\n');
}

/** Fixed decimals; an em dash for NaN/undefined. */
export const f = (x: number | undefined | null, d = 2): string =>
  x === undefined || x === null || !Number.isFinite(x) ? '—' : x.toFixed(d);

/** A share as a percentage. */
export const pct = (x: number | undefined | null, d = 0): string =>
  x === undefined || x === null || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(d)}%`;

/** Thousands separators. */
export const n = (x: number): string => Math.round(x).toLocaleString('en');

export const yes = (ok: boolean | null): string =>
  ok === null ? 'n/a' : ok ? '**met**' : '**missed**';
