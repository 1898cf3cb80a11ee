import type { ProjectConfig } from '../domain/types.js';
import type { Executor } from './projects.repository.js';
import { rowToExperiment, type ExperimentRecord } from './experiments.repository.js';

/** A cached model answer for one diff (table `reviews`, keyed by sha256 of the diff text). */
export interface CachedReview {
  diffHash: string;
  model: string;
  result: Record<string, unknown>;
  createdAt: Date;
}

export async function findCachedReview(
  db: Executor,
  diffHash: string,
): Promise<CachedReview | null> {
  const row = await db
    .selectFrom('reviews')
    .selectAll()
    .where('diff_hash', '=', diffHash)
    .executeTakeFirst();
  return row
    ? {
        diffHash: row.diff_hash,
        model: row.model,
        result: row.result,
        createdAt: new Date(row.created_at),
      }
    : null;
}

/** Stores (or replaces, e.g. after a model change) the answer for a diff. */
export async function saveCachedReview(
  db: Executor,
  diffHash: string,
  model: string,
  result: Record<string, unknown>,
): Promise<void> {
  const json = JSON.stringify(result);
  await db
    .insertInto('reviews')
    .values({ diff_hash: diffHash, model, result: json })
    .onConflict((oc) =>
      oc.column('diff_hash').doUpdateSet({ model, result: json, created_at: new Date() }),
    )
    .execute();
}

/** Sets the review document the scorer reads (experiments.review). */
export async function setExperimentReview(
  db: Executor,
  ids: number[],
  review: Record<string, unknown>,
): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('experiments')
    .set({ review: JSON.stringify(review), updated_at: new Date() })
    .where('id', 'in', ids)
    .execute();
}

/** The experiment to review with its project's name and config; null when it is gone. */
export async function findReviewTarget(
  db: Executor,
  experimentId: number,
): Promise<{ projectName: string; project: ProjectConfig; experiment: ExperimentRecord } | null> {
  const row = await db
    .selectFrom('experiments')
    .innerJoin('projects', 'projects.id', 'experiments.project_id')
    .selectAll('experiments')
    .select(['projects.name as project_name', 'projects.config as project_config'])
    .where('experiments.id', '=', experimentId)
    .executeTakeFirst();
  if (!row) return null;
  const { project_name, project_config, ...exp } = row;
  return {
    projectName: project_name,
    project: project_config as unknown as ProjectConfig,
    experiment: rowToExperiment(exp),
  };
}
