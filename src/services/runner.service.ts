import { DomainError } from '../domain/errors.js';
import type { CompleteIn } from '../../schemas/complete.js';
import { metricPatternOf } from '../domain/project.js';
import type { ProjectConfig } from '../domain/types.js';
import { lockProject } from '../db/projects.repository.js';
import { bossJobState, extendBossLease, extendLease, finishJob, getJob, insertReproduction, lockJob, markLeased, type JobRecord } from '../db/jobs.repository.js';
import { DEAD_QUEUE, REANCHOR_QUEUE, queueFor, trxExecutor } from '../queue/boss.js';
import { rescore } from './scoring.service.js';
import { advanceDecision } from './gate.service.js';
import { experimentsByIds } from '../db/experiments.repository.js';
import { lastThreshold } from '../db/gates.repository.js';
import type { ProjectRecord } from '../db/projects.repository.js';
import { JOBS_TOPIC, scoresTopic } from './scheduler.service.js';
import type { Deps } from './deps.js';
import { sql } from 'kysely';

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

function queueOf(deps: Deps) {
  if (!deps.queue || !deps.queueOptions) throw new DomainError('unavailable', 'the job queue is not running');
  return { boss: deps.queue, opts: deps.queueOptions };
}

async function specOf(deps: Deps, job: JobRecord, leaseExpiresAt: Date): Promise<JobSpec> {
  const row = await deps.db.db
    .selectFrom('experiments')
    .innerJoin('projects', 'projects.id', 'experiments.project_id')
    .select(['experiments.key', 'experiments.metadata', 'projects.config'])
    .where('experiments.id', '=', job.experimentId)
    .executeTakeFirstOrThrow();
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
    leaseExpiresAt: leaseExpiresAt.toISOString(),
    heartbeatS: Math.max(1, Math.floor(queueOf(deps).opts.leaseSeconds / 3)),
  };
}

/**
 * Leases up to maxJobs jobs (SPEC §6), long-polling up to `wait` seconds. The pg-boss fetch and
 * ECV's lease record commit together; `holder` is the caller's identity (token id).
 */
export async function lease(deps: Deps, input: LeaseInput, holder: string, signal?: AbortSignal, visible: Set<string> | null = null): Promise<JobSpec[]> {
  const { boss, opts } = queueOf(deps);
  const deadline = Date.now() + Math.max(0, input.wait ?? 0) * 1000;
  const want = input.maxJobs ?? 1;
  for (;;) {
    // Projects with waiting work (that this caller may see), most urgent first.
    const projects = await sql<{ project_id: number }>`
      SELECT j.project_id FROM jobs j JOIN projects p ON p.id = j.project_id
      WHERE j.state IN ('queued', 'active')
        ${visible ? sql`AND p.name IN (SELECT jsonb_array_elements_text(${JSON.stringify([...visible])}::jsonb))` : sql``}
      GROUP BY j.project_id ORDER BY max(j.priority) DESC, min(j.created_at)`.execute(deps.db.db);
    const leased = projects.rows.length === 0 ? [] : await deps.db.db.transaction().execute(async (trx) => {
      const out: { job: JobRecord; expires: Date }[] = [];
      for (const { project_id } of projects.rows) {
        if (out.length >= want) break;
        const rows = (await boss.fetch(queueFor(project_id), { batchSize: want - out.length, db: trxExecutor(trx) } as never)) as unknown as { id: string }[];
        for (const r of rows ?? []) {
          const job = await lockJob(trx, r.id);
          if (!job) continue; // not an ECV job (should not happen); leave it to expire
          const expires = await markLeased(trx, job.id, input.runner, holder, opts.leaseSeconds);
          out.push({ job, expires });
        }
      }
      return out;
    });
    if (leased.length > 0) return Promise.all(leased.map((l) => specOf(deps, l.job, l.expires)));
    const remaining = deadline - Date.now();
    if (remaining <= 0 || signal?.aborted) return [];
    // Woken by a newly queued job (this process or, over LISTEN/NOTIFY, another) or by leases the
    // maintenance sweep found expired; the fallback re-check also catches a job whose pg-boss
    // lease expired between two sweeps.
    const recheck = Math.min(deps.notifier?.recheckMs ?? 1000, opts.maintenanceIntervalSeconds * 1000);
    await (deps.notifier?.waitFor(JOBS_TOPIC, Math.min(remaining, recheck), signal) ?? new Promise((r) => setTimeout(r, Math.min(remaining, 1000))));
    if (signal?.aborted) return [];
    deps.metrics?.longPollCheck('lease');
  }
}

async function heldJob(deps: Deps, trx: Parameters<typeof lockJob>[0], id: string, runner: string, holder: string): Promise<JobRecord> {
  const job = await lockJob(trx, id);
  if (!job) throw new DomainError('not_found', `no job '${id}'`);
  const state = await bossJobState(trx, queueFor(job.projectId), id);
  if (job.state !== 'active' || state !== 'active' || job.runner !== runner || job.leaseHolder !== holder) {
    throw new DomainError('conflict', `job '${id}' is not leased to runner '${runner}' (its lease expired or another runner holds it)`);
  }
  return job;
}

/** Extends the lease of a job the caller holds. */
export async function heartbeat(deps: Deps, id: string, runner: string, holder: string): Promise<{ leaseExpiresAt: string }> {
  const { opts } = queueOf(deps);
  return deps.db.db.transaction().execute(async (trx) => {
    const job = await heldJob(deps, trx, id, runner, holder);
    if (!(await extendBossLease(trx, queueFor(job.projectId), id, opts.leaseSeconds))) {
      throw new DomainError('conflict', `job '${id}' lease already expired`);
    }
    return { leaseExpiresAt: (await extendLease(trx, id, opts.leaseSeconds)).toISOString() };
  });
}

async function existingReproduction(deps: Deps, jobId: string) {
  return deps.db.db.selectFrom('reproductions').selectAll().where('job_id', '=', jobId).executeTakeFirst();
}

/**
 * Stores a job's outcome once (idempotent by job id): the reproduction, the job's state, the
 * queue's completion and the rescoring of the experiment and its descendants, in one transaction.
 */
export async function complete(deps: Deps, id: string, input: CompleteInput, holder: string, visible: Set<string> | null = null): Promise<{ duplicate: boolean; experiment: string; value: number | null; ok: boolean }> {
  const { boss } = queueOf(deps);
  const prior = await existingReproduction(deps, id);
  if (prior) {
    const job = await getJob(deps.db.db, id);
    const row = await deps.db.db.selectFrom('experiments').innerJoin('projects', 'projects.id', 'experiments.project_id').select(['experiments.key', 'projects.name']).where('experiments.id', '=', prior.experiment_id).executeTakeFirstOrThrow();
    assertReplayAllowed(id, job, row.name, input.runner, holder, visible, prior.runner);
    return { duplicate: true, experiment: row.key, value: prior.value, ok: prior.ok };
  }
  const value = input.value ?? null;
  if (value !== null && !Number.isFinite(value)) throw new DomainError('validation_failed', 'value must be a finite number', { errors: [{ pointer: '/value', message: 'not finite' }] });
  const res = await deps.db.db.transaction().execute(async (trx) => {
    const peek = await lockJob(trx, id);
    if (!peek) throw new DomainError('not_found', `no job '${id}'`);
    const projectName = (await trx.selectFrom('projects').select('name').where('id', '=', peek.projectId).executeTakeFirstOrThrow()).name;
    const project = await lockProject(trx, projectName);
    if (visible && !visible.has(projectName)) throw new DomainError('forbidden', `this token does not reach the project of job '${id}'`);
    const again = await trx.selectFrom('reproductions').select(['id', 'value', 'ok', 'runner']).where('job_id', '=', id).executeTakeFirst();
    if (again) {
      assertReplayAllowed(id, peek, projectName, input.runner, holder, visible, again.runner);
      return { duplicate: true, projectId: peek.projectId, value: again.value, ok: again.ok };
    }
    const job = await heldJob(deps, trx, id, input.runner, holder);
    if (input.seed !== job.seed) {
      throw new DomainError('validation_failed', `job '${id}' reproduces seed ${job.seed}, not ${input.seed}`, { errors: [{ pointer: '/seed', message: 'does not match the job' }] });
    }
    const ok = value !== null && !input.error;
    await insertReproduction(trx, {
      project_id: job.projectId,
      experiment_id: job.experimentId,
      job_id: id,
      seed: job.seed,
      value: ok ? value : null,
      ok,
      error: ok ? null : (input.error ?? 'no metric value reported').slice(0, 2000),
      runner: input.runner,
      duration_s: input.durationS ?? null,
      log_tail: input.logTail?.slice(-8000) ?? null,
    });
    await finishJob(trx, id, ok ? 'completed' : 'failed');
    await boss.complete(queueFor(job.projectId), id, {}, { db: trxExecutor(trx) } as never);
    await rescore(trx, project!, [job.experimentId]);
    const queued = await nextStepAfter(deps, trx, project!, job);
    return { duplicate: false, projectId: job.projectId, value: ok ? value : null, ok, queued };
  });
  deps.notifier?.notify(scoresTopic(res.projectId));
  if (!res.duplicate) deps.metrics?.reproduction(res.ok);
  if ('queued' in res && res.queued) deps.notifier?.notify(JOBS_TOPIC);
  const key = await deps.db.db.selectFrom('jobs').innerJoin('experiments', 'experiments.id', 'jobs.experiment_id').select('experiments.key').where('jobs.id', '=', id).executeTakeFirst();
  return { duplicate: res.duplicate, experiment: key?.key ?? '', value: res.value, ok: res.ok };
}

/**
 * A completion of a job that already has its reproduction is answered (`duplicate: true`) only
 * to the lease holder replaying its own report: a token that does not reach the job's project
 * gets 403, any other runner or token (a dead runner reporting after another one finished the
 * job) 409 — its result is not recorded, and it should know.
 */
function assertReplayAllowed(id: string, job: JobRecord | null, project: string, runner: string, holder: string, visible: Set<string> | null, recordedBy: string | null): void {
  if (visible && !visible.has(project)) throw new DomainError('forbidden', `this token does not reach the project of job '${id}'`);
  if (!job || job.leaseHolder !== holder || job.runner !== runner) {
    throw new DomainError('conflict', `job '${id}' was already completed${recordedBy ? ` by runner '${recordedBy}'` : ''}; this report from runner '${runner}' is not recorded`);
  }
}

/**
 * The next step of the decision a finished job served (SPEC §6): the gated experiment is decided
 * again on its fresh scores, and the next reproduction is queued at once when it needs one.
 * Returns whether a job was queued.
 */
async function nextStepAfter(deps: Deps, trx: Parameters<typeof rescore>[0], project: ProjectRecord, job: JobRecord): Promise<boolean> {
  if (job.gatedExperimentId === null) return false;
  const [gated] = await experimentsByIds(trx, [job.gatedExperimentId]);
  if (!gated || gated.absent) return false;
  const threshold = (await lastThreshold(trx, project.id, gated.key)) ?? project.config.threshold;
  const { queued } = await advanceDecision(deps, trx, project, gated, threshold);
  return queued;
}

/**
 * Jobs whose leases expired more than the retry limit arrive on the dead-letter queue: each
 * becomes one failed reproduction (SPEC §6), once. Returns how many were recorded.
 */
export async function sweepDeadJobs(deps: Deps): Promise<number> {
  const { boss } = queueOf(deps);
  let recorded = 0;
  const touched = new Set<number>();
  for (;;) {
    const n = await deps.db.db.transaction().execute(async (trx) => {
      const rows = (await boss.fetch(DEAD_QUEUE, { batchSize: 1, db: trxExecutor(trx) } as never)) as unknown as { id: string; data: { jobId: string } }[];
      if (!rows || rows.length === 0) return -1;
      const dead = rows[0];
      const job = await lockJob(trx, dead.data.jobId);
      if (job) {
        const projectName = (await trx.selectFrom('projects').select('name').where('id', '=', job.projectId).executeTakeFirstOrThrow()).name;
        const project = await lockProject(trx, projectName);
        const done = await trx.selectFrom('reproductions').select('id').where('job_id', '=', job.id).executeTakeFirst();
        if (!done) {
          await insertReproduction(trx, { project_id: job.projectId, experiment_id: job.experimentId, job_id: job.id, seed: job.seed, value: null, ok: false, error: `lease expired ${job.attempts} time(s); no runner finished the job`, runner: job.runner, duration_s: null, log_tail: null });
          await finishJob(trx, job.id, 'failed');
          deps.metrics?.reproduction(false);
          await rescore(trx, project!, [job.experimentId]);
          await nextStepAfter(deps, trx, project!, job);
          touched.add(job.projectId);
        }
      }
      await boss.complete(DEAD_QUEUE, dead.id, {}, { db: trxExecutor(trx) } as never);
      return job ? 1 : 0;
    });
    if (n < 0) break;
    recorded += n;
  }
  for (const p of touched) deps.notifier?.notify(scoresTopic(p));
  if (touched.size > 0) deps.notifier?.notify(JOBS_TOPIC);
  return recorded;
}

/** Jobs whose pg-boss lease expired go back to 'queued' in ECV's view (for the gate's job list). */
export async function syncExpiredLeases(deps: Deps): Promise<number> {
  const res = await sql`
    UPDATE jobs j SET state = 'queued', lease_holder = NULL, lease_expires_at = NULL
    FROM pgboss.job b
    WHERE j.state = 'active' AND b.name = ${REANCHOR_QUEUE}::text || '-p' || j.project_id::text AND b.id = j.id::uuid AND b.state::text IN ('retry', 'created')`.execute(deps.db.db);
  return Number(res.numAffectedRows ?? 0);
}
