import { DomainError } from '../domain/errors.js';
import type { CompleteIn } from '../../schemas/complete.js';
import { metricPatternOf } from '../domain/project.js';
import type { ProjectConfig } from '../domain/types.js';
import type { Database } from '../db/schema.js';
import type { Transaction } from 'kysely';
import { lockProjectById } from '../db/projects.repository.js';
import {
  extendHeldLease,
  finishJob,
  insertReproduction,
  jobExists,
  jobSpecRows,
  leaseWaitingJobs,
  lockDeadJob,
  lockJobForCompletion,
  requeueExpiredLeases,
  type JobRecord,
} from '../db/jobs.repository.js';
import { rescore } from './scoring.service.js';
import { advanceDecision } from './gate.service.js';
import { experimentsByIds } from '../db/experiments.repository.js';
import { lastThreshold } from '../db/gates.repository.js';
import { JOBS_TOPIC, scoresTopic } from './scheduler.service.js';
import type { Deps } from './deps.js';

export interface LeaseInput {
  runner: string;
  labels?: Record<string, string>;
  maxJobs?: number;
  wait?: number;
}

export interface JobSpec {
  id: string;
  project: string;
  experiment: string;
  commit: string;
  seed: number;
  command: string;
  metricPattern: string;
  timeBudgetS: number;
  leaseExpiresAt: string;
  heartbeatS: number;
}

/** A job outcome as the runner reports it: the body of `POST /v1/jobs/{id}/complete`. */
export type CompleteInput = CompleteIn;

type Trx = Transaction<Database>;

/** What a finished run reports, or what an expired job counts as. */
export interface Outcome {
  /** The metric value; null for a failed run. */
  value: number | null;
  error: string | null;
  runner: string | null;
  durationS: number | null;
  logTail: string | null;
}

/** The completion answer: the experiment by its key, never its internal id. */
export interface CompleteAnswer {
  duplicate: boolean;
  experiment: string;
  value: number | null;
  ok: boolean;
}

function queueOf(deps: Deps) {
  if (!deps.queue) throw new DomainError('unavailable', 'the job queue is not running');
  return deps.queue.options;
}

async function specsOf(deps: Deps, jobs: JobRecord[]): Promise<JobSpec[]> {
  const rows = new Map((await jobSpecRows(deps.db.db, [...new Set(jobs.map((j) => j.experimentId))])).map((r) => [r.id, r]));
  const heartbeatS = Math.max(1, Math.floor(queueOf(deps).leaseSeconds / 3));
  return jobs.map((job) => {
    const row = rows.get(job.experimentId)!;
    const cfg = row.config as unknown as ProjectConfig;
    const meta = (row.metadata ?? {}) as Record<string, unknown>;
    const commit = typeof meta.commit === 'string' && meta.commit ? meta.commit : row.key;
    return {
      id: job.id,
      project: cfg.name,
      experiment: row.key,
      commit,
      seed: job.seed,
      command: cfg.reproduction.command,
      metricPattern: metricPatternOf(cfg),
      timeBudgetS: job.timeBudgetS,
      leaseExpiresAt: job.leaseExpiresAt!.toISOString(),
      heartbeatS,
    };
  });
}

/**
 * Leases up to maxJobs jobs (SPEC §6), most downstream work first, long-polling up to `wait`
 * seconds. `holder` is the caller's identity (token id); `visible` the projects it may see.
 */
export async function lease(deps: Deps, input: LeaseInput, holder: string, signal?: AbortSignal, visible: Set<string> | null = null): Promise<JobSpec[]> {
  const opts = queueOf(deps);
  const deadline = Date.now() + Math.max(0, input.wait ?? 0) * 1000;
  const args = { runner: input.runner, holder, leaseSeconds: opts.leaseSeconds, limit: input.maxJobs ?? 1, projects: visible ? [...visible] : null };
  for (;;) {
    const jobs = await leaseWaitingJobs(deps.db.db, args);
    if (jobs.length > 0) return specsOf(deps, jobs);
    const remaining = deadline - Date.now();
    if (remaining <= 0 || signal?.aborted) return [];
    // Woken by a newly queued job (this process or, over LISTEN/NOTIFY, another) or by leases the
    // maintenance sweep put back; the fallback re-check covers a missed notification.
    const recheck = Math.min(deps.notifier.recheckMs, opts.maintenanceIntervalSeconds * 1000);
    await deps.notifier.waitFor(JOBS_TOPIC, Math.min(remaining, recheck), signal);
    if (signal?.aborted) return [];
    deps.metrics.longPollCheck('lease');
  }
}

const notHeld = (id: string, runner: string) => new DomainError('conflict', `job '${id}' is not leased to runner '${runner}' (its lease expired or another runner holds it)`);

/** Extends the lease of a job the caller holds. */
export async function heartbeat(deps: Deps, id: string, runner: string, holder: string): Promise<{ leaseExpiresAt: string }> {
  const at = await extendHeldLease(deps.db.db, id, runner, holder, queueOf(deps).leaseSeconds);
  if (at) return { leaseExpiresAt: at.toISOString() };
  if (!(await jobExists(deps.db.db, id))) throw new DomainError('not_found', `no job '${id}'`);
  throw notHeld(id, runner);
}

/**
 * Stores a job's outcome once (idempotent by job id): the reproduction, the job's state and the
 * rescoring of the experiment and its descendants, and the decision's next step, in one
 * transaction. A replay by the lease holder is answered `duplicate: true`.
 */
export async function complete(deps: Deps, id: string, input: CompleteInput, holder: string, visible: Set<string> | null = null): Promise<CompleteAnswer> {
  queueOf(deps);
  const value = input.value ?? null;
  if (value !== null && !Number.isFinite(value)) throw new DomainError('validation_failed', 'value must be a finite number', { errors: [{ pointer: '/value', message: 'not finite' }] });
  const res = await deps.db.db.transaction().execute(async (trx) => {
    const found = await lockJobForCompletion(trx, id);
    if (!found) throw new DomainError('not_found', `no job '${id}'`);
    const { job, projectName, experimentKey, reproduction } = found;
    if (visible && !visible.has(projectName)) throw new DomainError('forbidden', `this token does not reach the project of job '${id}'`);
    if (reproduction) {
      assertReplayAllowed(id, job, input.runner, holder, reproduction.runner);
      return { projectId: job.projectId, queued: false, answer: { duplicate: true, experiment: experimentKey, value: reproduction.value, ok: reproduction.ok } };
    }
    if (job.state !== 'active' || job.runner !== input.runner || job.leaseHolder !== holder) throw notHeld(id, input.runner);
    if (input.seed !== job.seed) {
      throw new DomainError('validation_failed', `job '${id}' reproduces seed ${job.seed}, not ${input.seed}`, { errors: [{ pointer: '/seed', message: 'does not match the job' }] });
    }
    const ok = value !== null && !input.error;
    const outcome: Outcome = {
      value: ok ? value : null,
      error: ok ? null : (input.error ?? 'no metric value reported'),
      runner: input.runner,
      durationS: input.durationS ?? null,
      logTail: input.logTail ?? null,
    };
    const { queued } = await recordReproduction(deps, trx, job, outcome);
    return { projectId: job.projectId, queued, answer: { duplicate: false, experiment: experimentKey, value: outcome.value, ok } };
  });
  deps.notifier.notify(scoresTopic(res.projectId));
  if (!res.answer.duplicate) deps.metrics.reproduction(res.answer.ok);
  if (res.queued) deps.notifier.notify(JOBS_TOPIC);
  return res.answer;
}

/**
 * A completion of a job that already has its reproduction is answered (`duplicate: true`) only
 * to the lease holder replaying its own report; any other runner or token (a dead runner
 * reporting after another one finished the job) gets 409 — its result is not recorded, and it
 * should know. (A token that does not reach the job's project got 403 before.)
 */
function assertReplayAllowed(id: string, job: JobRecord, runner: string, holder: string, recordedBy: string | null): void {
  if (job.leaseHolder !== holder || job.runner !== runner) {
    throw new DomainError('conflict', `job '${id}' was already completed${recordedBy ? ` by runner '${recordedBy}'` : ''}; this report from runner '${runner}' is not recorded`);
  }
}

/**
 * The one place a job's outcome is stored (SPEC §6), for a runner's report and for a job whose
 * lease expired past its retries alike, in the caller's transaction, which holds the job's row
 * lock: the reproduction, the job's final state, the rescoring of the experiment and its
 * descendants under the project lock, and the next step of the decision the job served (decided
 * again on the fresh scores; the next reproduction queued at once when it needs one).
 * Returns whether a job was queued.
 */
export async function recordReproduction(deps: Deps, trx: Trx, job: JobRecord, outcome: Outcome): Promise<{ queued: boolean }> {
  const project = await lockProjectById(trx, job.projectId);
  if (!project) throw new DomainError('not_found', `the project of job '${job.id}' is gone`);
  const ok = outcome.value !== null && outcome.error === null;
  await insertReproduction(trx, {
    project_id: job.projectId,
    experiment_id: job.experimentId,
    job_id: job.id,
    seed: job.seed,
    value: ok ? outcome.value : null,
    ok,
    error: ok ? null : (outcome.error ?? 'no metric value reported').slice(0, 2000),
    runner: outcome.runner,
    duration_s: outcome.durationS,
    log_tail: outcome.logTail?.slice(-8000) ?? null,
  });
  await finishJob(trx, job.id, ok ? 'completed' : 'failed');
  await rescore(trx, project, [job.experimentId]);
  if (job.gatedExperimentId === null) return { queued: false };
  const [gated] = await experimentsByIds(trx, [job.gatedExperimentId]);
  if (!gated || gated.absent) return { queued: false };
  const threshold = (await lastThreshold(trx, project.id, gated.key)) ?? project.config.threshold;
  const { queued } = await advanceDecision(deps, trx, project, gated, threshold);
  return { queued };
}

/**
 * The maintenance sweep (every process, every interval): leases that expired go back to the
 * queue while they have retries left; past them, each job becomes one failed reproduction
 * (SPEC §6), once. Returns how many of each.
 */
export async function sweepExpiredLeases(deps: Deps): Promise<{ requeued: number; failed: number }> {
  const opts = queueOf(deps);
  const requeued = await requeueExpiredLeases(deps.db.db, opts.retryLimit);
  let failed = 0;
  const touched = new Set<number>();
  let queued = requeued > 0;
  for (;;) {
    const done = await deps.db.db.transaction().execute(async (trx) => {
      const job = await lockDeadJob(trx, opts.retryLimit);
      if (!job) return null;
      const error = `lease expired ${job.attempts} time(s); no runner finished the job`;
      const r = await recordReproduction(deps, trx, job, { value: null, error, runner: job.runner, durationS: null, logTail: null });
      return { projectId: job.projectId, queued: r.queued };
    });
    if (!done) break;
    failed++;
    deps.metrics.reproduction(false);
    touched.add(done.projectId);
    queued ||= done.queued;
  }
  for (const p of touched) deps.notifier.notify(scoresTopic(p));
  if (queued) deps.notifier.notify(JOBS_TOPIC);
  return { requeued, failed };
}
