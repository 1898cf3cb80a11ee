/**
 * One leased job, start to finish: heartbeat the lease, check out the commit in a fresh
 * worktree, run the command under its time budget, report the metric or the failure, clean up.
 *
 * Invariants: a job whose lease was lost, or that was interrupted by a hard stop, is never
 * completed (the service re-leases it; a stale outcome must not count); the worktree is
 * removed in every case; infrastructure failures on this machine (disk, git lock) are not
 * reported as failed reproductions — the lease is left to expire so another runner retries.
 */
import type { JobSpec } from '../services/runner.service.js';
import type { CompleteBody, RunnerApi } from './api.js';
import { jobEnv, renderCommand } from './command.js';
import { addWorktree, findCommit, removeWorktree, type Worktrees } from './git.js';
import type { Logger } from './log.js';
import { verdictOf, type RunVerdict } from './metric.js';
import { runCommand } from './process.js';

/** Bytes of combined output sent as the log tail. */
export const LOG_TAIL_BYTES = 4096;

export interface JobContext {
  api: RunnerApi;
  worktrees: Worktrees;
  runner: string;
  log: Logger;
  /** Seconds between SIGTERM and SIGKILL when a job's process group is stopped. */
  graceS: number;
  /** `git fetch --all` once when a commit is not in the repository yet. */
  fetchMissing: boolean;
  /** How long to keep retrying `complete` while the service is unavailable (ms). */
  completeRetryMs: number;
  /** Aborted on a second SIGTERM/SIGINT: kill, do not complete. */
  hardStop: AbortSignal;
  env: Record<string, string | undefined>;
  /** Runner variables a job may see beyond the allow-list (`--pass-env`). */
  passEnv?: readonly string[];
}

export type JobEnd = 'stored' | 'duplicate' | 'lost' | 'dropped' | 'failed';

const seconds = (ms: number) => Math.round(ms) / 1000;

/** Heartbeats every `heartbeatS` until stopped; calls `onLost` once on a 409/404. */
function startHeartbeat(ctx: JobContext, job: JobSpec, onLost: () => void): () => void {
  const everyMs =
    Math.max(
      1,
      job.heartbeatS ?? Math.floor((Date.parse(job.leaseExpiresAt) - Date.now()) / 3000),
    ) * 1000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    if (stopped) return;
    try {
      if (
        (await ctx.api.heartbeat(job.id, ctx.runner, Math.max(2000, everyMs))) === 'lost' &&
        !stopped
      ) {
        stopped = true;
        onLost();
        return;
      }
    } catch (e) {
      ctx.log('warn', 'heartbeat.error', { job: job.id, error: (e as Error).message });
    }
    if (!stopped) timer = setTimeout(tick, everyMs);
  };
  timer = setTimeout(tick, everyMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** Runs one job to its end; never throws. `slot` picks the GPU (`gpu`) when the runner has them. */
export async function runJob(
  ctx: JobContext,
  job: JobSpec,
  slot: number,
  gpu?: string,
): Promise<JobEnd> {
  const ids = { job: job.id, project: job.project, experiment: job.experiment, seed: job.seed };
  const stop = new AbortController(); // lease lost or hard stop: kill the process, do not complete
  let lost = false;
  const onHardStop = () => stop.abort();
  ctx.hardStop.addEventListener('abort', onHardStop, { once: true });
  const stopHeartbeat = startHeartbeat(ctx, job, () => {
    lost = true;
    stop.abort();
  });
  let worktree: string | null = null;
  try {
    ctx.log('info', 'job.leased', { ...ids, commit: job.commit, budget_s: job.timeBudgetS, slot });
    let verdict: RunVerdict;
    let durationMs = 0;
    let logTail = '';
    const sha = await findCommit(ctx.worktrees, job.commit, ctx.fetchMissing);
    if (!sha) {
      verdict = { error: 'unknown commit' };
      logTail = `commit '${job.commit}' is not in the runner's repository ${ctx.worktrees.repo}`;
    } else if (!job.command.trim()) {
      verdict = { error: 'the project has no reproduction command' };
    } else {
      worktree = await addWorktree(ctx.worktrees, sha, job.id);
      if (stop.signal.aborted) return end(lost ? 'lost' : 'dropped');
      const command = renderCommand(job.command, { seed: job.seed, commit: sha });
      ctx.log('info', 'job.start', { ...ids, commit: sha.slice(0, 12), worktree, command });
      const res = await runCommand({
        command,
        cwd: worktree,
        env: jobEnv(ctx.env, {
          jobId: job.id,
          project: job.project,
          experiment: job.experiment,
          seed: job.seed,
          commit: sha,
          runner: ctx.runner,
          slot,
          ...(gpu !== undefined ? { gpu } : {}),
        }, ctx.passEnv),
        budgetMs: job.timeBudgetS * 1000,
        graceMs: ctx.graceS * 1000,
        signal: stop.signal,
      });
      durationMs = res.durationMs;
      if (res.aborted) return end(lost ? 'lost' : 'dropped', { duration_s: seconds(durationMs) });
      verdict = verdictOf(
        {
          exitCode: res.exitCode,
          signal: res.signal,
          timedOut: res.timedOut,
          output: res.output.text(),
        },
        job.metricPattern,
        job.timeBudgetS,
      );
      logTail = res.output.text(LOG_TAIL_BYTES);
    }
    if (stop.signal.aborted) return end(lost ? 'lost' : 'dropped');
    ctx.log('value' in verdict ? 'info' : 'warn', 'job.done', {
      ...ids,
      duration_s: seconds(durationMs),
      ...('value' in verdict ? { value: verdict.value } : { error: verdict.error }),
    });
    const body = {
      runner: ctx.runner,
      seed: job.seed,
      durationS: seconds(durationMs),
      logTail,
      ...('value' in verdict ? { value: verdict.value } : { error: verdict.error.slice(0, 4000) }),
    } as CompleteBody;
    const out = await ctx.api.complete(job.id, body, {
      deadlineMs: Date.now() + ctx.completeRetryMs,
      signal: ctx.hardStop,
    });
    if (out.kind === 'lost') {
      return end('lost', { detail: out.detail, note: 'report refused: the lease had expired' });
    }
    ctx.log('info', 'job.reported', {
      ...ids,
      duplicate: out.kind === 'duplicate',
      ...('value' in verdict ? { value: verdict.value } : { error: verdict.error }),
    });
    return out.kind;
  } catch (e) {
    if (ctx.hardStop.aborted) return end('dropped');
    ctx.log('error', 'job.error', {
      ...ids,
      error: (e as Error).message,
      note: 'not completed; the lease will expire and the job is retried',
    });
    return 'failed';
  } finally {
    stopHeartbeat();
    ctx.hardStop.removeEventListener('abort', onHardStop);
    if (worktree) {
      await removeWorktree(ctx.worktrees, worktree).catch((e: Error) =>
        ctx.log('error', 'worktree.error', { ...ids, worktree, error: e.message }),
      );
    }
  }

  function end(kind: 'lost' | 'dropped', extra: Record<string, string | number> = {}): JobEnd {
    if (kind === 'lost')
      ctx.log('warn', 'job.lost', {
        ...ids,
        note: 'lease lost: process killed, job not completed',
        ...extra,
      });
    else
      ctx.log('warn', 'job.dropped', {
        ...ids,
        note: 'runner stopping: process killed, job not completed; the lease will expire',
        ...extra,
      });
    return kind;
  }
}
