/**
 * The runner's log: one logfmt line per event (`ts=… level=info event=job.done job=… seed=2
 * duration_s=301.2 value=0.9512`), readable on a terminal and parseable by journald, Loki or
 * `grep`.
 */

export type Level = 'info' | 'warn' | 'error';
export type Fields = Record<string, string | number | boolean | null | undefined>;
export type Logger = (level: Level, event: string, fields?: Fields) => void;

function quote(v: string): string {
  return /^[^\s"=\\]+$/.test(v) ? v : JSON.stringify(v);
}

/** One logfmt line; undefined fields are left out, strings quoted when they need it. */
export function formatEvent(
  level: Level,
  event: string,
  fields: Fields = {},
  now = new Date(),
): string {
  const parts = [`ts=${now.toISOString()}`, `level=${level}`, `event=${quote(event)}`];
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    parts.push(`${k}=${v === null ? 'null' : quote(String(v))}`);
  }
  return parts.join(' ');
}

/** A logger writing lines to a stream (stdout by default), with fields every line carries. */
export function streamLogger(
  base: Fields = {},
  write: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Logger {
  return (level, event, fields) => write(formatEvent(level, event, { ...base, ...fields }));
}
