import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { startQueue } from '../../queue/boss.js';
import { Notifier } from '../../services/notifier.js';
import { JOBS_TOPIC, scoresTopic } from '../../services/scheduler.service.js';
import { sweepDeadJobs, syncExpiredLeases } from '../../services/runner.service.js';
import { startReviews } from '../../services/review.service.js';

/**
 * Starts pg-boss on the app's database, wires long-poll wake-ups, and sweeps dead jobs
 * (expired past their retries → failed reproductions) every maintenance interval.
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
    deps.queueOptions = deps.config.queue;
    deps.queue = await startQueue(deps.db, deps.config.queue, (err) => app.log.warn({ err: err.message }, 'queue error'));
    // LLM code review workers (SPEC §9), only when a key is configured.
    const reviews = deps.config.review.apiKey ? await startReviews(deps) : null;
    let running = false;
    const timer = setInterval(async () => {
      if (running) return;
      running = true;
      try {
        // Jobs back on the queue after an expired lease: wake waiting runners.
        if ((await syncExpiredLeases(deps)) > 0) deps.notifier?.notify(JOBS_TOPIC);
        const n = await sweepDeadJobs(deps);
        if (n > 0) app.log.info({ failed: n }, 'dead re-anchoring jobs recorded as failed reproductions');
      } catch (err) {
        app.log.warn({ err: (err as Error).message }, 'dead-job sweep failed');
      } finally {
        running = false;
      }
    }, deps.config.queue.maintenanceIntervalSeconds * 1000);
    timer.unref();
    app.addHook('onClose', async () => {
      clearInterval(timer);
      await reviews?.stop();
      await deps.queue?.stop({ graceful: false, wait: true, close: false } as never);
    });
  },
  { name: 'queue' },
);
