import { sql, type Insertable, type Selectable } from 'kysely';
import type { JobsTable, ReproductionsTable } from './schema.js';
import type { Executor } from './projects.repository.js';

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

export async function insertJob(db: Executor, j: { id: string; projectId: number; experimentId: number; seed: number; round: number; priority: number; timeBudgetS: number; gatedExperimentId?: number; purpose?: JobPurpose }): Promise<boolean> {
  const r = await db
    .insertInto('jobs')
    .values({ id: j.id, project_id: j.projectId, experiment_id: j.experimentId, seed: j.seed, round: j.round, priority: j.priority, time_budget_s: j.timeBudgetS, state: 'queued', gated_experiment_id: j.gatedExperimentId ?? null, purpose: j.purpose ?? 'decision' })
    .onConflict((oc) => oc.columns(['experiment_id', 'seed']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return r !== undefined;
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

export async function jobsOfExperiment(db: Executor, experimentId: number): Promise<JobRecord[]> {
  return (await db.selectFrom('jobs').selectAll().where('experiment_id', '=', experimentId).orderBy('created_at').orderBy('seed').execute()).map(rowToJob);
}

export async function getJob(db: Executor, id: string): Promise<JobRecord | null> {
  const r = await db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? rowToJob(r) : null;
}

export async function lockJob(db: Executor, id: string): Promise<JobRecord | null> {
  const r = await db.selectFrom('jobs').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  return r ? rowToJob(r) : null;
}

export async function markLeased(db: Executor, id: string, runner: string, holder: string, leaseSeconds: number): Promise<Date> {
  const r = await sql<{ lease_expires_at: Date }>`
    UPDATE jobs SET state = 'active', runner = ${runner}, lease_holder = ${holder}, attempts = attempts + 1,
      lease_expires_at = now() + make_interval(secs => ${leaseSeconds})
    WHERE id = ${id} RETURNING lease_expires_at`.execute(db);
  return new Date(r.rows[0].lease_expires_at);
}

export async function extendLease(db: Executor, id: string, leaseSeconds: number): Promise<Date> {
  const r = await sql<{ lease_expires_at: Date }>`
    UPDATE jobs SET lease_expires_at = now() + make_interval(secs => ${leaseSeconds}) WHERE id = ${id} RETURNING lease_expires_at`.execute(db);
  return new Date(r.rows[0].lease_expires_at);
}

export async function finishJob(db: Executor, id: string, state: 'completed' | 'failed' | 'queued'): Promise<void> {
  await db
    .updateTable('jobs')
    .set(state === 'queued' ? { state, lease_holder: null, lease_expires_at: null } : { state, finished_at: new Date() })
    .where('id', '=', id)
    .execute();
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

/** State of a job in pg-boss ('active', 'retry', 'completed', …), null when unknown. */
export async function bossJobState(db: Executor, queue: string, id: string): Promise<string | null> {
  const r = await sql<{ state: string }>`SELECT state::text AS state FROM pgboss.job WHERE name = ${queue} AND id = ${id}::uuid`.execute(db);
  return r.rows[0]?.state ?? null;
}

/**
 * Extends the pg-boss lease of an active job. pg-boss 10 has no lease-extension call; its expiry
 * reads `started_on + expire_in`, so a heartbeat moves `expire_in` forward.
 */
export async function extendBossLease(db: Executor, queue: string, id: string, leaseSeconds: number): Promise<boolean> {
  const r = await sql`
    UPDATE pgboss.job SET expire_in = (now() - started_on) + make_interval(secs => ${leaseSeconds})
    WHERE name = ${queue} AND id = ${id}::uuid AND state = 'active'`.execute(db);
  return Number(r.numAffectedRows ?? 0) > 0;
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
