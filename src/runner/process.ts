/**
 * Runs one job's shell command in its own process group and enforces its time budget by
 * signalling the whole group: training scripts start dataloader workers, compilers and
 * `&` background helpers, and killing only the shell would leave them holding the GPU.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Keeps the last `cap` bytes of a stream (the metric is printed at the end). */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly cap: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.chunks.length > 1 && this.size - this.chunks[0].length >= this.cap) {
      this.size -= this.chunks.shift()!.length;
    }
  }

  /** The last `bytes` bytes (default: all kept) as UTF-8; a split character becomes U+FFFD. */
  text(bytes = this.cap): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - Math.min(bytes, this.cap))).toString('utf8');
  }
}

/** Signals every process in group `pgid`; false when the group is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a process still runs. A zombie counts as gone: it holds no resources, and without a
 * reaping init (some containers) it would otherwise look alive forever.
 */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
}

export interface RunOptions {
  command: string;
  cwd: string;
  env: Record<string, string>;
  /** Wall-clock budget; at its end the group gets SIGTERM, then SIGKILL after `graceMs`. */
  budgetMs: number;
  graceMs: number;
  /** Aborting kills the group the same way (lease lost, runner shutting down hard). */
  signal?: AbortSignal;
  /** Bytes of combined output kept for metric parsing. */
  keepBytes?: number;
  onSpawn?: (pid: number) => void;
}

export interface RunResult {
  pid: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  durationMs: number;
  output: TailBuffer;
}

/**
 * Spawns `sh -c command` detached (its own process group, leader pid = group id) with stdout
 * and stderr combined, and resolves once the group's output is closed. Processes the leader
 * leaves behind in its group are terminated too. Rejects only when the spawn itself fails.
 */
export function runCommand(opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const output = new TailBuffer(opts.keepBytes ?? 4 * 1024 * 1024);
    const child = spawn('/bin/sh', ['-c', opts.command], {
      cwd: opts.cwd,
      env: opts.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let timedOut = false;
    let aborted = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let exitedAt = 0;
    const timers: NodeJS.Timeout[] = [];
    let terminating = false;
    let done = false;

    const pgid = child.pid;
    const terminate = () => {
      if (terminating || pgid === undefined) return;
      terminating = true;
      signalGroup(pgid, 'SIGTERM');
      timers.push(setTimeout(() => signalGroup(pgid, 'SIGKILL'), opts.graceMs));
    };
    const onAbort = () => {
      if (exit !== null) return; // it ended on its own first
      aborted = true;
      terminate();
    };
    const finish = () => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      opts.signal?.removeEventListener('abort', onAbort);
      if (pgid !== undefined) signalGroup(pgid, 'SIGKILL'); // nothing of the job outlives it
      resolve({
        pid: pgid ?? -1,
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        timedOut,
        aborted,
        durationMs: (exitedAt || Date.now()) - started,
        output,
      });
    };

    child.once('error', (e) => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      opts.signal?.removeEventListener('abort', onAbort);
      reject(e);
    });
    if (pgid === undefined) return; // 'error' follows
    opts.onSpawn?.(pgid);
    child.stdout!.on('data', (c: Buffer) => output.push(c));
    child.stderr!.on('data', (c: Buffer) => output.push(c));

    const budget = setTimeout(() => {
      timedOut = true;
      terminate();
    }, opts.budgetMs);
    timers.push(budget);
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });

    child.once('exit', (code, signal) => {
      exit = { code, signal };
      exitedAt = Date.now();
      clearTimeout(budget);
      // Leftovers in the group (a `&` helper still holding the pipe) are ended politely, then
      // for good; if something outside the group holds the pipe, stop waiting for it.
      terminate();
      timers.push(
        setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          finish();
        }, opts.graceMs + 2000),
      );
    });
    child.once('close', () => {
      if (exit === null) exit = { code: child.exitCode, signal: child.signalCode };
      finish();
    });
  });
}
