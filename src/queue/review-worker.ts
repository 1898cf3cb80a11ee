import type { Executor } from '../db/projects.repository.js';
import { deleteReviewJob, leaseReviewJob, retryReviewJob } from '../db/review-jobs.repository.js';

/** A review that throws (database down, shutdown) runs again this many times, with back-off. */
export const REVIEW_RETRY_LIMIT = 3;
/** Seconds before the first retry; each further retry doubles it. */
const RETRY_DELAY_S = 5;

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

/** The lease outlives the review's own deadline plus the database work after it, seconds. */
export const reviewLeaseSeconds = (timeoutMs: number) => Math.ceil(timeoutMs / 1000) + 120;

/**
 * Starts `concurrency` workers on the review jobs table. A handler that throws is retried with
 * back-off; model failures are not thrown, they are recorded as failed reviews. `stop()` stops
 * leasing, aborts the reviews in flight (their jobs go back to the queue, the attempt not
 * counted) and waits for them to settle.
 */
export function startReviewWorker(
  db: Executor,
  opts: ReviewWorkerOptions,
  handle: (data: ReviewJobData, signal: AbortSignal) => Promise<unknown>,
  onError: (err: Error) => void,
): { stop(): Promise<void> } {
  const ctl = new AbortController();
  const pollMs = (opts.pollingIntervalSeconds ?? 1) * 1000;
  const leaseS = reviewLeaseSeconds(opts.timeoutMs);
  const idle = () =>
    new Promise<void>((resolve) => {
      const wake = () => (clearTimeout(t), resolve());
      const t = setTimeout(() => (ctl.signal.removeEventListener('abort', wake), resolve()), pollMs);
      ctl.signal.addEventListener('abort', wake, { once: true });
    });

  async function loop(): Promise<void> {
    while (!ctl.signal.aborted) {
      let job;
      try {
        job = await leaseReviewJob(db, leaseS);
      } catch (err) {
        if (!ctl.signal.aborted) onError(err as Error);
        await idle();
        continue;
      }
      // Found work: lease again at once instead of sleeping a polling interval.
      if (!job) {
        await idle();
        continue;
      }
      try {
        await handle({ experimentId: job.experimentId }, ctl.signal);
        await deleteReviewJob(db, job.id);
      } catch (err) {
        const refund = ctl.signal.aborted;
        const delayS = refund ? 0 : RETRY_DELAY_S * 2 ** (job.attempts - 1);
        await retryReviewJob(db, job.id, { delayS, maxAttempts: REVIEW_RETRY_LIMIT + 1, error: (err as Error).message, refund }).catch((e: Error) => onError(e));
      }
    }
  }

  const loops = Array.from({ length: opts.concurrency }, () => loop());
  return {
    async stop() {
      ctl.abort();
      await Promise.allSettled(loops);
    },
  };
}
