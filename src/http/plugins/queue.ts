import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { startMaintenance } from '../../queue/job-queue.js';
import { REVIEW_RETRY_LIMIT } from '../../queue/review-worker.js';
import { requeueExpiredReviewJobs } from '../../db/review-jobs.repository.js';
import { sweepExpiredLeases } from '../../services/runner.service.js';
import { startReviews } from '../../services/review.service.js';

/**
 * Runs the job queues of the app's context (ECV's own tables, docs/operations.md): bridges the
 * context's notifier across processes, sweeps expired leases every maintenance interval (back to
 * the queue, or past their retries a failed reproduction), and starts the LLM review workers.
 * Registered only where the context has a queue.
 */
export default fp(
  async function queuePlugin(app: FastifyInstance) {
    const deps = app.deps;
    // PostgreSQL: wake long polls of the other service processes too (LISTEN/NOTIFY).
    if (deps.db.listen) await deps.notifier.bridge(deps.db.listen);
    app.addHook('onClose', async () => deps.notifier.close());
    // LLM code review workers (SPEC §9), only when a key is configured.
    const reviews = deps.config.review.apiKey ? startReviews(deps) : null;
    const stop = startMaintenance(
      deps.config.queue.maintenanceIntervalSeconds,
      async () => {
        const { failed } = await sweepExpiredLeases(deps);
        if (failed > 0) app.log.info({ failed }, 'dead re-anchoring jobs recorded as failed reproductions');
        if (reviews) await requeueExpiredReviewJobs(deps.db.db, REVIEW_RETRY_LIMIT + 1);
      },
      (err) => app.log.warn({ err: err.message }, 'job maintenance sweep failed'),
    );
    app.addHook('onClose', async () => {
      stop();
      await reviews?.stop();
    });
  },
  { name: 'queue' },
);
