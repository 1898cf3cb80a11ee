/**
 * The job queues' settings and the maintenance tick every service process runs (SPEC §6). Jobs
 * live in ECV's own tables (db/jobs.repository.ts, db/review-jobs.repository.ts), leased with
 * `FOR UPDATE SKIP LOCKED`; docs/operations.md says why not pg-boss.
 */
export interface QueueOptions {
  /** Seconds a lease lasts without a heartbeat. */
  leaseSeconds: number;
  /** Re-leases after an expired lease before the job is dead (a failed run). */
  retryLimit: number;
  /** Seconds between two sweeps for expired leases. */
  maintenanceIntervalSeconds: number;
}

/** What services see of a running queue: present once the queue plugin started. */
export interface JobQueue {
  readonly options: QueueOptions;
}

/**
 * Runs `tick` every interval, never two at once; errors go to `onError`. Returns a stop function.
 * Every process sweeps: the sweeps lock rows with SKIP LOCKED, so concurrent ones share the work.
 */
export function startMaintenance(intervalSeconds: number, tick: () => Promise<void>, onError: (err: Error) => void): () => void {
  let running = false;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      await tick();
    } catch (err) {
      onError(err as Error);
    } finally {
      running = false;
    }
  }, intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
