import type { ProgressEvent, ProgressListener } from '../services/progress.js';

/**
 * Progress lines on stderr for long CLI work (SPEC §8: "long work shows progress on a
 * terminal"). On a TTY one line is rewritten in place and each finished step stays as a line;
 * with `--progress` on a pipe or file, a line per step start and end, and at most one update
 * every 5 s between. The elapsed time ticks even when a step cannot count (one database
 * statement, a synchronous parse), so a long step never looks hung.
 */
export interface ProgressSink {
  write(s: string): unknown;
  isTTY?: boolean;
}

export interface Progress {
  listener: ProgressListener;
  /** Reports from the CLI itself (same shape as the services'). */
  report(step: string, done: number, total: number | null, unit: string): void;
  /** Finishes the current step's line and stops the clock. */
  end(): void;
}

const n = (v: number) => v.toLocaleString('en-US');

/** One step as text: `write 40,000/100,000 experiments (12.3 s)`; `…` for a step just begun. */
export function formatStep(e: ProgressEvent, elapsedMs: number | null): string {
  const count = e.total === null ? (e.done > 0 ? ` ${n(e.done)}` : '') : ` ${n(e.done)}/${n(e.total)}`;
  const unit = e.unit && (e.total !== null || e.done > 0) ? ` ${e.unit}` : '';
  return `${e.step}${count}${unit} ${elapsedMs === null ? '…' : `(${(elapsedMs / 1000).toFixed(1)} s)`}`;
}

/**
 * A progress display, or undefined when none is wanted: `force` (the `--progress` flag) or a
 * TTY stream. `now` and `tickMs` exist for tests.
 */
export function createProgress(opts: { force?: boolean; stream?: ProgressSink; now?: () => number; tickMs?: number } = {}): Progress | undefined {
  const stream = opts.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  if (!tty && !opts.force) return undefined;
  const now = opts.now ?? Date.now;
  let current: { e: ProgressEvent; start: number; lastLine: number } | null = null;
  let lastDraw = 0;
  const draw = () => {
    if (!current || !tty) return;
    stream.write(`\r${formatStep(current.e, now() - current.start)}\x1b[K`);
    lastDraw = now();
  };
  // A TTY line is redrawn while a step runs so that its clock moves; unref: never keeps the process alive.
  const timer = tty ? setInterval(draw, opts.tickMs ?? 500) : undefined;
  timer?.unref();
  const finish = () => {
    if (!current) return;
    const line = formatStep(current.e, now() - current.start);
    stream.write(tty ? `\r${line}\x1b[K\n` : `${line}\n`);
    current = null;
  };
  const listener: ProgressListener = (e) => {
    if (!current || current.e.step !== e.step) {
      finish();
      current = { e, start: now(), lastLine: now() };
      if (tty) draw();
      else stream.write(`${formatStep(e, null)}\n`);
      return;
    }
    current.e = e;
    if (tty) {
      if (now() - lastDraw >= 100) draw();
    } else if (now() - current.lastLine >= 5000 && e.done !== e.total) {
      stream.write(`${formatStep(e, now() - current.start)}\n`);
      current.lastLine = now();
    }
  };
  return {
    listener,
    report: (step, done, total, unit) => listener({ step, done, total, unit }),
    end: () => {
      finish();
      if (timer) clearInterval(timer);
    },
  };
}
