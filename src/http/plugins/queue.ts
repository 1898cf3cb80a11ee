import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { startMaintenance } from '../../queue/job-queue.js';
import { REVIEW_RETRY_LIMIT } from '../../queue/review-worker.js';
import { requeueExpiredReviewJobs } from '../../db/review-jobs.repository.js';
import { Notifier } from '../../services/notifier.js';
import { scoresTopic } from '../../services/scheduler.service.js';
import { sweepExpiredLeases } from '../../services/runner.service.js';
import { startReviews } from '../../services/review.service.js';

/**
 * Starts the job queues on the app's database (ECV's own tables, docs/operations.md), wires
 * long-poll wake-ups, and sweeps expired leases every maintenance interval (back to the queue,
 * or past their retries a failed reproduction).
 */
export default fp(
  async function queuePlugin(app: FastifyInstance) {
    const deps = app.deps;
    if (!deps.notifier) {
      const notifier = new Notifier((err) => app.log.warn({ err: err.message }, 'cross-process notification failed'));
      // PostgreSQL: wake long polls of the other service processes too (LISTEN/NOTIFY).
      if (deps.db.listen) await notifier.bridge(deps.db.listen);
      deps.notifier = notifier;
      app.addHook('onClose', async () => notifier.close());
    }
    const previous = deps.onScoresChanged;
    deps.onScoresChanged = (projectId) => {
      previous?.(projectId);
      deps.notifier!.notify(scoresTopic(projectId));
    };
    deps.queue = { options: deps.config.queue };
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
