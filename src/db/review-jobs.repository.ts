import { sql } from 'kysely';
import type { Executor } from './projects.repository.js';

/**
 * LLM review jobs (SPEC §9), leased like re-anchoring jobs (`FOR UPDATE SKIP LOCKED`) from their
 * own table: a row is queued, active while a worker holds its lease, deleted once the review is
 * stored, or failed after its last retry.
 */
export interface ReviewJob {
  /** bigint, as text. */
  id: string;
  experimentId: number;
  /** Leases handed out so far, this one included. */
  attempts: number;
}

/** Queues a review of each experiment, in the caller's transaction. */
export async function insertReviewJobs(db: Executor, experimentIds: number[]): Promise<void> {
  if (experimentIds.length === 0) return;
  await db.insertInto('review_jobs').values(experimentIds.map((experiment_id) => ({ experiment_id }))).execute();
}

/** Leases the oldest review that is due, or null. */
export async function leaseReviewJob(db: Executor, leaseSeconds: number): Promise<ReviewJob | null> {
  const r = await sql<{ id: string | number; experiment_id: number; attempts: number }>`
    WITH picked AS (
      SELECT id FROM review_jobs WHERE state = 'queued' AND run_after <= now()
      ORDER BY run_after, id LIMIT 1 FOR UPDATE SKIP LOCKED
    )
    UPDATE review_jobs SET state = 'active', attempts = attempts + 1, lease_expires_at = now() + make_interval(secs => ${leaseSeconds})
    FROM picked WHERE review_jobs.id = picked.id
    RETURNING review_jobs.id, review_jobs.experiment_id, review_jobs.attempts`.execute(db);
  const row = r.rows[0];
  return row ? { id: String(row.id), experimentId: row.experiment_id, attempts: row.attempts } : null;
}

/** The review is stored: its job is done. */
export async function deleteReviewJob(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('review_jobs').where('id', '=', id).execute();
}

/**
 * A review attempt failed: run it again after `delayS` while attempts < maxAttempts, else mark
 * it failed. `refund` (a shutdown, not the job's fault) does not count the attempt.
 */
export async function retryReviewJob(db: Executor, id: string, a: { delayS: number; maxAttempts: number; error: string; refund?: boolean }): Promise<void> {
  await sql`
    UPDATE review_jobs SET
      attempts = attempts - ${a.refund ? 1 : 0},
      state = CASE WHEN attempts - ${a.refund ? 1 : 0} >= ${a.maxAttempts} THEN 'failed' ELSE 'queued' END,
      run_after = now() + make_interval(secs => ${a.delayS}),
      lease_expires_at = NULL, last_error = ${a.error.slice(0, 2000)}
    WHERE id = ${id} AND state = 'active'`.execute(db);
}

/** Reviews whose worker died (lease expired): back in the queue, or failed past their retries. */
export async function requeueExpiredReviewJobs(db: Executor, maxAttempts: number): Promise<number> {
  const r = await sql`
    WITH expired AS (
      SELECT id FROM review_jobs WHERE state = 'active' AND lease_expires_at < now() FOR UPDATE SKIP LOCKED
    )
    UPDATE review_jobs SET state = CASE WHEN attempts >= ${maxAttempts} THEN 'failed' ELSE 'queued' END,
      lease_expires_at = NULL, run_after = now(), last_error = 'lease expired'
    FROM expired WHERE review_jobs.id = expired.id`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}
