import { projectIndexRows } from '../db/project-index.repository.js';
import { reportPath, type ProjectIndex } from '../domain/report/index.js';
import type { Deps } from './deps.js';

/** Projects the index lists at most (by name); it says when there are more. */
export const INDEX_LIMIT = 500;

/**
 * The project index of `GET /`: every project `visible` reaches (null: all), by name, with the
 * figures of its report's summary and a link to it.
 */
export async function buildProjectIndex(deps: Deps, visible: ReadonlySet<string> | null, now = new Date()): Promise<ProjectIndex> {
  const rows = visible && visible.size === 0 ? [] : await projectIndexRows(deps.db.db, visible ? [...visible] : null, INDEX_LIMIT + 1);
  return {
    generatedAt: now.toISOString(),
    items: rows.slice(0, INDEX_LIMIT).map((r) => ({ ...r, report: reportPath(r.name) })),
    truncated: rows.length > INDEX_LIMIT,
  };
}
