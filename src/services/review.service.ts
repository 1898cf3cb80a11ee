/**
 * LLM code review of kept experiments (SPEC §9), in the background: writers enqueue a job in
 * their own transaction; a worker (queue/review-worker.ts) reviews the diff (cached by its sha256), then stores
 * experiments.review and rescores the experiment and its descendants under the project lock.
 * Off unless OPENAI_API_KEY is set. On any failure the static Q stands and a reason says so.
 */
import { createHash } from 'node:crypto';
import type { Transaction } from 'kysely';
import { DomainError } from '../domain/errors.js';
import { reviewAdjustment, type CodeReview } from '../domain/scoring/index.js';
import type { ExperimentInput } from '../domain/types.js';
import type { Database } from '../db/schema.js';
import { lockProject } from '../db/projects.repository.js';
import {
  findCachedReview,
  findReviewTarget,
  saveCachedReview,
  setExperimentReview,
} from '../db/reviews.repository.js';
import { createReviewer, ReviewError, type Reviewer, type ReviewRequest } from '../llm/reviewer.js';
import { parseReview } from '../llm/review-schema.js';
import { insertReviewJobs } from '../db/review-jobs.repository.js';
import { startReviewWorker, type ReviewJobData } from '../queue/review-worker.js';
import { rescore } from './scoring.service.js';
import type { Deps } from './deps.js';
import { scoresTopic } from './scheduler.service.js';

/** Version of the cached answer's shape; a cache row of another version is a miss. */
export const REVIEW_CACHE_VERSION = 1;

export type ReviewOutcome = 'reviewed' | 'cached' | 'failed' | 'skipped';

/** The cache key: sha256 of the diff text, hex. */
export const diffHashOf = (diff: string): string => createHash('sha256').update(diff).digest('hex');

/** Only kept experiments with diff text are reviewed. */
export function wantsReview(e: Pick<ExperimentInput, 'status' | 'code'>): boolean {
  return e.status === 'keep' && typeof e.code?.diff === 'string' && e.code.diff.trim() !== '';
}

/**
 * Enqueues reviews of the newly created experiments that want one, in the caller's transaction
 * (job and data commit together), and marks them pending. No-op without an API key or queue.
 */
export async function enqueueReviews(
  deps: Deps,
  trx: Transaction<Database>,
  created: { id: number; input: ExperimentInput }[],
): Promise<number> {
  if (!deps.config.review.apiKey || !deps.queue) return 0;
  const ids = created.filter((c) => wantsReview(c.input)).map((c) => c.id);
  if (ids.length === 0) return 0;
  for (let i = 0; i < ids.length; i += 5000) {
    const chunk = ids.slice(i, i + 5000);
    await setExperimentReview(trx, chunk, { status: 'pending', model: deps.config.review.model });
    await insertReviewJobs(trx, chunk);
  }
  return ids.length;
}

/**
 * The worker's job handler, bound to one reviewer. Concurrent reviews of one diff in this
 * process share one model call (single flight); across processes the `reviews` table dedups.
 */
export function makeReviewHandler(deps: Deps, reviewer: Reviewer) {
  const inflight = new Map<string, Promise<CodeReview>>();

  async function obtain(
    diffHash: string,
    req: ReviewRequest,
    signal?: AbortSignal,
  ): Promise<{ review: CodeReview; cached: boolean }> {
    const hit = await findCachedReview(deps.db.db, diffHash);
    if (hit && hit.model === reviewer.model && hit.result.version === REVIEW_CACHE_VERSION) {
      const parsed = parseReview(hit.result.review);
      if (parsed.ok) return { review: parsed.review, cached: true };
    }
    const running = inflight.get(diffHash);
    if (running) return { review: await running, cached: true };
    const call = (async () => {
      const { review } = await reviewer.review(req, signal);
      // Failures are never cached; a cache write that fails only costs a later model call.
      await saveCachedReview(deps.db.db, diffHash, reviewer.model, {
        version: REVIEW_CACHE_VERSION,
        review,
      }).catch((err: Error) =>
        deps.log.warn({ err: err.message, diffHash }, 'review cache write failed'),
      );
      return review;
    })().finally(() => inflight.delete(diffHash));
    inflight.set(diffHash, call);
    return { review: await call, cached: false };
  }

  return async function handleReview(
    data: ReviewJobData,
    signal?: AbortSignal,
  ): Promise<ReviewOutcome> {
    const target = await findReviewTarget(deps.db.db, data.experimentId);
    if (!target || !wantsReview(target.experiment)) return 'skipped';
    const { experiment: e, project } = target;
    const diff = e.code!.diff!;
    const diffHash = diffHashOf(diff);
    const base = { model: reviewer.model, diffHash };
    let doc: Record<string, unknown>;
    let outcome: ReviewOutcome;
    try {
      const req: ReviewRequest = {
        diff,
        protectedPaths: project.protectedPaths ?? [],
        metric: project.metric,
      };
      if (e.description !== undefined) req.description = e.description;
      if (e.hypothesis !== undefined) req.hypothesis = e.hypothesis;
      const { review, cached } = await obtain(diffHash, req, signal);
      const { adjustment, reasons } = reviewAdjustment(review, reviewer.model);
      doc = {
        status: 'done',
        adjustment,
        reasons,
        ...base,
        risk: review.overallRisk,
        summary: review.summary,
        findings: review.findings,
        cached,
      };
      outcome = cached ? 'cached' : 'reviewed';
    } catch (err) {
      // Shutting down, or the database failed: leave it pending; the worker retries the job.
      if (signal?.aborted || !(err instanceof ReviewError)) throw err;
      doc = {
        status: 'failed',
        adjustment: 0,
        reasons: [
          {
            code: 'llm_review_failed',
            message: `LLM review failed: ${err.message}; the static code score stands.`,
          },
        ],
        ...base,
        risk: null,
        error: err.kind,
      };
      outcome = 'failed';
      deps.log.warn(
        { experiment: e.key, project: target.projectName, kind: err.kind, attempts: err.attempts },
        'LLM review failed',
      );
    }
    // Under the project lock, like every score write: C, K and descendants change together.
    const projectId = await deps.db.db.transaction().execute(async (trx) => {
      const p = await lockProject(trx, target.projectName);
      if (!p) return null; // project deleted meanwhile
      await setExperimentReview(trx, [e.id], { ...doc, reviewedAt: new Date().toISOString() });
      await rescore(trx, p, [e.id]);
      return p.id;
    });
    if (projectId === null) return 'skipped';
    deps.notifier.notify(scoresTopic(projectId));
    return outcome;
  };
}

/** Starts the review workers on the app's queue (call only with config.review.apiKey set). */
export function startReviews(deps: Deps): { stop(): Promise<void> } {
  const cfg = deps.config.review;
  if (!cfg.apiKey || !deps.queue)
    throw new DomainError('unavailable', 'LLM review needs OPENAI_API_KEY and the job queue');
  const reviewer = createReviewer({
    apiKey: cfg.apiKey,
    model: cfg.model,
    timeoutMs: cfg.timeoutMs,
    ...(cfg.baseUrl ? { baseUrl: cfg.baseUrl } : {}),
  });
  const handle = makeReviewHandler(deps, reviewer);
  return startReviewWorker(
    deps.db.db,
    { concurrency: cfg.concurrency, timeoutMs: cfg.timeoutMs },
    handle,
    (err) => deps.log.warn({ err: err.message }, 'review queue error'),
  );
}
