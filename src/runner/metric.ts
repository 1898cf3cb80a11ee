/**
 * What a finished run reports (SPEC §6): the metric parsed from its output, or why there is
 * none. Pure: no I/O, so the rules are unit-tested without processes.
 */

/** A run's outcome as the service's `complete` endpoint takes it: a value or an error. */
export type RunVerdict = { value: number } | { error: string };

/**
 * The metric in `output` by `pattern` (multiline; capture group 1; the last match wins, as a
 * script may print running values before the final one). A captured value that is not a
 * finite number (`nan`, `inf`, `1e999`, `0.9,`) is an error, never a value.
 */
export function parseMetric(output: string, pattern: string): RunVerdict {
  let re: RegExp;
  try {
    re = new RegExp(pattern, 'gm');
  } catch (e) {
    return { error: `invalid metric pattern /${pattern}/: ${(e as Error).message}` };
  }
  let last: RegExpExecArray | null = null;
  for (let m = re.exec(output); m !== null; m = re.exec(output)) {
    last = m;
    if (m[0] === '') re.lastIndex++; // an empty match must not loop forever
  }
  if (!last) return { error: `no metric: nothing in the output matched /${pattern}/m` };
  const raw = last[1];
  if (raw === undefined) return { error: `metric pattern /${pattern}/ has no capture group 1` };
  const text = raw.trim();
  const value = text === '' ? NaN : Number(text);
  if (!Number.isFinite(value))
    return { error: `metric value '${text.slice(0, 64)}' is not a finite number` };
  return { value };
}

/** How the command ended, as the process layer observed it. */
export interface RunEnd {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  output: string;
}

/**
 * The verdict of one run: a timeout or a non-zero exit is a failed reproduction even when a
 * metric was printed first (SPEC §3: a crash or timeout counts as a failure); otherwise the
 * metric decides.
 */
export function verdictOf(end: RunEnd, pattern: string, budgetS: number): RunVerdict {
  if (end.timedOut)
    return { error: `time budget of ${budgetS}s exceeded; the process group was killed` };
  if (end.signal) return { error: `killed by ${end.signal}` };
  if (end.exitCode !== 0) return { error: `exit code ${end.exitCode}` };
  return parseMetric(end.output, pattern);
}
