import { sql, type Insertable, type Selectable, type Transaction } from 'kysely';
import type { Database, JobsTable, ReproductionsTable } from './schema.js';
import type { Executor } from './projects.repository.js';

/**
 * The re-anchoring job store (SPEC §6): one table, the only record of a job's state. A job is
 * `queued` until a runner leases it (`active`, with a lease expiry the runner's heartbeats move
 * forward), then `completed` or `failed` once its reproduction is stored. Leases are taken with
 * `FOR UPDATE SKIP LOCKED`, so concurrent lease calls (of any service process) never wait on
 * each other nor hand out one job twice.
 */
export type JobState = 'queued' | 'active' | 'completed' | 'failed';

export interface JobRecord {
  id: string;
  projectId: number;
  experimentId: number;
  seed: number;
  round: number;
  priority: number;
  state: JobState;
  runner: string | null;
  leaseHolder: string | null;
  leaseExpiresAt: Date | null;
  /** Leases handed out so far (a lease that expires counts). */
  attempts: number;
  timeBudgetS: number;
  createdAt: Date;
  /** The experiment whose gate decision this job serves (null for jobs made before gate v2). */
  gatedExperimentId: number | null;
  purpose: JobPurpose;
}

/** Why a job runs: a decision's reproduction of X or its premise, anchoring X, or measuring σ on the root. */
export type JobPurpose = 'decision' | 'anchor' | 'sigma';

function rowToJob(r: Selectable<JobsTable>): JobRecord {
  return {
    id: r.id,
    projectId: r.project_id,
    experimentId: r.experiment_id,
    seed: r.seed,
    round: r.round,
    priority: r.priority,
    state: r.state as JobState,
    runner: r.runner,
    leaseHolder: r.lease_holder,
    leaseExpiresAt: r.lease_expires_at ? new Date(r.lease_expires_at) : null,
    attempts: r.attempts,
    timeBudgetS: r.time_budget_s,
    createdAt: new Date(r.created_at),
    gatedExperimentId: r.gated_experiment_id ?? null,
    purpose: (r.purpose ?? 'decision') as JobPurpose,
  };
}

export interface NewJob {
  id: string;
  projectId: number;
  experimentId: number;
  seed: number;
  priority: number;
  timeBudgetS: number;
  gatedExperimentId: number;
  purpose: JobPurpose;
}

/** Queues a job; false when its (experiment, seed) is taken (UNIQUE, so never queued twice). */
export async function insertJob(db: Executor, j: NewJob): Promise<JobRecord | null> {
  const r = await db
    .insertInto('jobs')
    .values({ id: j.id, project_id: j.projectId, experiment_id: j.experimentId, seed: j.seed, round: 0, priority: j.priority, time_budget_s: j.timeBudgetS, state: 'queued', gated_experiment_id: j.gatedExperimentId, purpose: j.purpose })
    .onConflict((oc) => oc.columns(['experiment_id', 'seed']).doNothing())
    .returningAll()
    .executeTakeFirst();
  return r ? rowToJob(r) : null;
}

/** Jobs serving the gate decision of an experiment, oldest first. */
export async function jobsOfDecision(db: Executor, gatedExperimentId: number): Promise<JobRecord[]> {
  return (await db.selectFrom('jobs').selectAll().where('gated_experiment_id', '=', gatedExperimentId).orderBy('created_at').orderBy('seed').execute()).map(rowToJob);
}

/** Seeds already used for reproductions of an experiment (jobs of every decision). */
export async function usedSeeds(db: Executor, experimentId: number): Promise<Set<number>> {
  const rows = await db.selectFrom('jobs').select('seed').where('experiment_id', '=', experimentId).execute();
  return new Set(rows.map((r) => r.seed));
}

/**
 * Leases up to `limit` waiting jobs to a runner, most downstream work first, in one statement.
 * `projects` (names) narrows it to what the caller may see; null: every project.
 */
export async function leaseWaitingJobs(
  db: Executor,
  a: { runner: string; holder: string; leaseSeconds: number; limit: number; projects: string[] | null },
): Promise<JobRecord[]> {
  const scope = a.projects ? sql`AND j.project_id IN (SELECT id FROM projects WHERE name IN (SELECT jsonb_array_elements_text(${JSON.stringify(a.projects)}::jsonb)))` : sql``;
  const r = await sql<Selectable<JobsTable>>`
    WITH picked AS (
      SELECT j.id FROM jobs j WHERE j.state = 'queued' ${scope}
      ORDER BY j.priority DESC, j.created_at, j.id
      LIMIT ${a.limit}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE jobs SET state = 'active', runner = ${a.runner}, lease_holder = ${a.holder}, attempts = attempts + 1,
      lease_expires_at = now() + make_interval(secs => ${a.leaseSeconds})
    FROM picked WHERE jobs.id = picked.id
    RETURNING jobs.*`.execute(db);
  return r.rows.map(rowToJob).sort((x, y) => y.priority - x.priority || x.createdAt.getTime() - y.createdAt.getTime());
}

/** What a runner needs to run a job: the experiment's key and metadata, the project's config. */
export async function jobSpecRows(db: Executor, experimentIds: number[]) {
  if (experimentIds.length === 0) return [];
  return db
    .selectFrom('experiments')
    .innerJoin('projects', 'projects.id', 'experiments.project_id')
    .select(['experiments.id', 'experiments.key', 'experiments.metadata', 'projects.config'])
    .where('experiments.id', 'in', experimentIds)
    .execute();
}

/**
 * Moves the lease of an active job forward when `runner` with `holder` holds it; null when it
 * does not (never leased to it, re-queued after its lease expired, or finished).
 */
export async function extendHeldLease(db: Executor, id: string, runner: string, holder: string, leaseSeconds: number): Promise<Date | null> {
  const r = await sql<{ lease_expires_at: Date }>`
    UPDATE jobs SET lease_expires_at = now() + make_interval(secs => ${leaseSeconds})
    WHERE id = ${id} AND state = 'active' AND runner = ${runner} AND lease_holder = ${holder}
    RETURNING lease_expires_at`.execute(db);
  return r.rows[0] ? new Date(r.rows[0].lease_expires_at) : null;
}

/** Whether a job exists (to tell 404 from 409). */
export async function jobExists(db: Executor, id: string): Promise<boolean> {
  return (await db.selectFrom('jobs').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
}

/** A job locked for completion, with its project's name, its experiment's key and its stored reproduction, if any. */
export interface JobForCompletion {
  job: JobRecord;
  projectName: string;
  experimentKey: string;
  reproduction: { value: number | null; ok: boolean; runner: string | null } | null;
}

/** Locks a job row (FOR UPDATE OF jobs) and reads what completing it needs, in one query. */
export async function lockJobForCompletion(trx: Transaction<Database>, id: string): Promise<JobForCompletion | null> {
  const r = await sql<Selectable<JobsTable> & { project_name: string; experiment_key: string; rep_id: number | null; rep_value: number | null; rep_ok: boolean | null; rep_runner: string | null }>`
    SELECT j.*, p.name AS project_name, e.key AS experiment_key,
      r.id AS rep_id, r.value AS rep_value, r.ok AS rep_ok, r.runner AS rep_runner
    FROM jobs j
    JOIN projects p ON p.id = j.project_id
    JOIN experiments e ON e.id = j.experiment_id
    LEFT JOIN reproductions r ON r.job_id = j.id
    WHERE j.id = ${id}
    FOR UPDATE OF j`.execute(trx);
  const row = r.rows[0];
  if (!row) return null;
  return {
    job: rowToJob(row),
    projectName: row.project_name,
    experimentKey: row.experiment_key,
    reproduction: row.rep_id === null ? null : { value: row.rep_value, ok: row.rep_ok === true, runner: row.rep_runner },
  };
}

/** Marks a job's outcome stored. */
export async function finishJob(db: Executor, id: string, state: 'completed' | 'failed'): Promise<void> {
  await db.updateTable('jobs').set({ state, finished_at: new Date() }).where('id', '=', id).execute();
}

/**
 * Puts active jobs whose lease expired back in the queue while they have retries left
 * (attempts ≤ retryLimit). Returns how many.
 */
export async function requeueExpiredLeases(db: Executor, retryLimit: number): Promise<number> {
  const r = await sql`
    WITH expired AS (
      SELECT id FROM jobs WHERE state = 'active' AND lease_expires_at < now() AND attempts <= ${retryLimit}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE jobs SET state = 'queued', lease_holder = NULL, lease_expires_at = NULL
    FROM expired WHERE jobs.id = expired.id`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/** Locks one job whose lease expired past its retries (a failed run to record), or null. */
export async function lockDeadJob(trx: Transaction<Database>, retryLimit: number): Promise<JobRecord | null> {
  const r = await sql<Selectable<JobsTable>>`
    SELECT * FROM jobs WHERE state = 'active' AND lease_expires_at < now() AND attempts > ${retryLimit}
    ORDER BY lease_expires_at LIMIT 1
    FOR UPDATE SKIP LOCKED`.execute(trx);
  return r.rows[0] ? rowToJob(r.rows[0]) : null;
}

/** Advisory-lock key spaces (two-int form, apart from the migration lock's one-bigint key). */
const DECISION_LOCK = 1_601;
const GPU_BUDGET_LOCK = 1_602;

/**
 * Serialises the scheduling of one gated experiment's decision for the rest of the transaction
 * (gate calls and job completions of that decision), and nothing else of its project.
 */
export async function lockDecision(trx: Transaction<Database>, gatedExperimentId: number): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${DECISION_LOCK}::int, ${gatedExperimentId}::int)`.execute(trx);
}

/** Serialises GPU-budget checks of one project with the job inserts they allow. */
export async function lockGpuBudget(trx: Transaction<Database>, projectId: number): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${GPU_BUDGET_LOCK}::int, ${projectId}::int)`.execute(trx);
}

/** GPU minutes spent (reproductions in the last 24 h) plus minutes reserved by pending jobs. */
export async function gpuMinutesCommitted(db: Executor, projectId: number): Promise<number> {
  const r = await sql<{ spent: number | null; reserved: number | null }>`
    SELECT
      (SELECT sum(duration_s) FROM reproductions WHERE project_id = ${projectId} AND created_at > now() - interval '24 hours') / 60.0 AS spent,
      (SELECT sum(time_budget_s) FROM jobs WHERE project_id = ${projectId} AND state IN ('queued', 'active')) / 60.0 AS reserved`.execute(db);
  return Number(r.rows[0]?.spent ?? 0) + Number(r.rows[0]?.reserved ?? 0);
}

/** How many experiments are built on this one (downstream work waiting on it). */
export async function descendantCount(db: Executor, experimentId: number): Promise<number> {
  const r = await sql<{ n: number }>`
    WITH RECURSIVE d(id) AS (
      SELECT ${experimentId}::int
      UNION
      -- An index lookup per node, not a join (see RECURSIVE_STEP in graph.repository.ts).
      SELECT unnest(ARRAY(SELECT ed.child_id FROM edges ed WHERE ed.parent_id = d.id)) FROM d
    )
    SELECT count(*)::int - 1 AS n FROM d`.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}

/** Stores one reproduction and counts it on the project row (the caller holds the project lock). */
export async function insertReproduction(db: Executor, row: Insertable<ReproductionsTable>): Promise<void> {
  await db.insertInto('reproductions').values(row).execute();
  await db
    .updateTable('projects')
    .set((eb) => ({ reproduction_count: eb('reproduction_count', '+', 1) }))
    .where('id', '=', row.project_id)
    .execute();
}
