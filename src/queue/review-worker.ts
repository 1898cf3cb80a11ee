import type PgBoss from 'pg-boss';

/** LLM code reviews wait here (SPEC §9); they never block a gate call. */
export const REVIEW_QUEUE = 'ecv-review';

export interface ReviewJobData {
  experimentId: number;
}

export interface ReviewWorkerOptions {
  /** Reviews in flight at once in this process. */
  concurrency: number;
  /** Upper bound of one review, ms; the job's lease is longer. */
  timeoutMs: number;
  pollingIntervalSeconds?: number;
}

/**
 * Creates (or updates) the review queue. A handler that throws (database down, shutdown) is
 * retried with back-off; model failures are not thrown, they are recorded as failed reviews.
 */
export async function ensureReviewQueue(boss: PgBoss, timeoutMs: number): Promise<void> {
  const options = {
    name: REVIEW_QUEUE,
    retryLimit: 3,
    retryDelay: 5,
    retryBackoff: true,
    // The lease outlives the review's own deadline plus the database work after it.
    expireInSeconds: Math.ceil(timeoutMs / 1000) + 120,
  };
  if (await boss.getQueue(REVIEW_QUEUE)) {
    await boss.updateQueue(REVIEW_QUEUE, options);
    return;
  }
  try {
    await boss.createQueue(REVIEW_QUEUE, options);
  } catch (e) {
    if (!(await boss.getQueue(REVIEW_QUEUE))) throw e; // else another process created it first
  }
}

/**
 * Starts `concurrency` pg-boss workers on the review queue. `stop()` stops fetching, aborts the
 * reviews in flight (their jobs go back to the queue) and waits for them to settle.
 */
export async function startReviewWorker(
  boss: PgBoss,
  opts: ReviewWorkerOptions,
  handle: (data: ReviewJobData, signal: AbortSignal) => Promise<unknown>,
): Promise<{ stop(): Promise<void> }> {
  await ensureReviewQueue(boss, opts.timeoutMs);
  const ctl = new AbortController();
  const running = new Set<Promise<unknown>>();
  const ids: string[] = [];
  for (let i = 0; i < opts.concurrency; i++) {
    let id = '';
    id = await boss.work<ReviewJobData>(
      REVIEW_QUEUE,
      { batchSize: 1, pollingIntervalSeconds: opts.pollingIntervalSeconds ?? 1 },
      async (jobs) => {
        for (const job of jobs) {
          const p = handle(job.data, ctl.signal);
          running.add(p);
          try {
            await p;
          } finally {
            running.delete(p);
            // Found work: fetch again at once instead of sleeping a polling interval.
            if (!ctl.signal.aborted) boss.notifyWorker(id);
          }
        }
      },
    );
    ids.push(id);
  }
  return {
    async stop() {
      for (const id of ids) await boss.offWork({ id });
      ctl.abort();
      await Promise.allSettled([...running]);
    },
  };
}
