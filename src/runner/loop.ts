/**
 * The runner's main loop: lease as many jobs as there are free slots, run them, repeat.
 *
 * Shutdown (SPEC §6, §13): the first stop() ends leasing (an open long-poll is abandoned) and
 * lets running jobs finish and report; a second stop() kills them without completing (their
 * leases expire and other runners take them over) and removes their worktrees.
 */
import { ApiError, backoffMs, RunnerApi } from './api.js';
import { openWorktrees, removeStaleWorktrees } from './git.js';
import { runJob, type JobContext } from './job.js';
import type { Logger } from './log.js';

export interface RunnerOptions {
  url: string;
  token?: string;
  repo: string;
  /** Where job worktrees are made (fast local disk on a GPU box). */
  workDir: string;
  name: string;
  labels: Record<string, string>;
  /** Lease only these projects' jobs (default: every project the token reaches). */
  projects?: string[];
  concurrency: number;
  /** CUDA_VISIBLE_DEVICES per slot, when given. */
  gpus?: string[];
  /** Process at most one batch, then return. */
  once: boolean;
  /** Long-poll of one lease call, seconds (≤ 300). */
  waitS: number;
  graceS: number;
  fetchMissing: boolean;
  /** How long `complete` is retried while the service is unavailable, ms. */
  completeRetryMs: number;
  /** With `once`: lease attempts before giving up when the service is unreachable. */
  onceAttempts?: number;
  env: Record<string, string | undefined>;
  /** Runner variables a job may see beyond the allow-list (`--pass-env`). */
  passEnv?: readonly string[];
  log: Logger;
}

export class Runner {
  private stopping = false;
  private readonly leaseAbort = new AbortController();
  private readonly hardStop = new AbortController();
  private wakeStop: () => void = () => undefined;
  private readonly stopped = new Promise<void>((r) => (this.wakeStop = r));

  constructor(private readonly opts: RunnerOptions) {}

  /** First call: stop leasing, finish running jobs. Second: kill running jobs, do not complete. */
  stop(reason: string): void {
    if (!this.stopping) {
      this.stopping = true;
      this.opts.log('info', 'runner.stopping', {
        reason,
        note: 'running jobs finish; signal again to kill them',
      });
      this.leaseAbort.abort();
      this.wakeStop();
    } else if (!this.hardStop.signal.aborted) {
      this.opts.log('warn', 'runner.killing', {
        reason,
        note: 'running jobs are killed and not completed',
      });
      this.hardStop.abort();
    }
  }

  /** Sleeps `ms`, or less when stop() comes first (no timer outlives it). */
  private async pause(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise((r) => (timer = setTimeout(r, ms))), this.stopped]);
    clearTimeout(timer);
  }

  /** Runs until stopped (or one batch with `once`); resolves with the exit code. */
  async run(): Promise<number> {
    const o = this.opts;
    const log = o.log;
    const worktrees = await openWorktrees(o.repo, o.workDir);
    const stale = await removeStaleWorktrees(worktrees).catch((e: Error) => {
      log('warn', 'worktree.error', { error: `cleanup of stale worktrees failed: ${e.message}` });
      return [];
    });
    for (const path of stale)
      log('info', 'worktree.cleanup', { worktree: path, note: 'left by a runner that died' });
    const api = new RunnerApi({
      url: o.url,
      token: o.token,
      onRetry: (what, attempt, delayMs, why) =>
        log('warn', 'http.retry', { call: what, attempt, delay_ms: delayMs, error: why }),
    });
    const ctx: JobContext = {
      api,
      worktrees,
      runner: o.name,
      log,
      graceS: o.graceS,
      fetchMissing: o.fetchMissing,
      completeRetryMs: o.completeRetryMs,
      hardStop: this.hardStop.signal,
      env: o.env,
      passEnv: o.passEnv ?? [],
    };
    log('info', 'runner.start', {
      url: o.url,
      repo: worktrees.repo,
      work_dir: worktrees.workDir,
      concurrency: o.concurrency,
      labels: Object.entries(o.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
      once: o.once,
      ...(o.projects ? { projects: o.projects.join(',') } : {}),
    });

    const free = Array.from({ length: o.concurrency }, (_, i) => i);
    const active = new Set<Promise<unknown>>();
    let failures = 0;
    let exitCode = 0;
    while (!this.stopping) {
      if (free.length === 0) {
        await Promise.race([...active, this.stopped]);
        continue;
      }
      let jobs;
      try {
        jobs = await api.lease(
          { runner: o.name, labels: o.labels, maxJobs: free.length, wait: o.waitS, ...(o.projects ? { projects: o.projects } : {}) },
          this.leaseAbort.signal,
        );
      } catch (e) {
        if (this.stopping) break;
        if (e instanceof ApiError) {
          // Wrong token, wrong role, rejected request: retrying cannot fix it.
          log('error', 'lease.error', { status: e.status, error: e.message });
          exitCode = 2;
          break;
        }
        failures++;
        if (o.once && failures >= (o.onceAttempts ?? 5)) {
          log('error', 'lease.error', { error: (e as Error).message, note: 'giving up (--once)' });
          exitCode = 2;
          break;
        }
        const delay = backoffMs(failures - 1);
        log('warn', 'lease.error', { error: (e as Error).message, retry_in_ms: delay });
        await this.pause(delay);
        continue;
      }
      failures = 0;
      if (jobs.length === 0 && o.waitS < 1 && !o.once) {
        // No long-poll asked for: do not spin against the service.
        await this.pause(1000);
      }
      for (const job of jobs) {
        const slot = free.shift()!;
        const p: Promise<unknown> = runJob(ctx, job, slot, o.gpus?.[slot]).finally(() => {
          active.delete(p);
          free.push(slot);
          free.sort((a, b) => a - b);
        });
        active.add(p);
      }
      if (o.once) break;
    }
    await Promise.all(active);
    log('info', 'runner.stop', { exit_code: exitCode });
    return exitCode;
  }
}
