import { DomainError } from '../domain/errors.js';
import { normalizeProject, type ProjectInput } from '../domain/project.js';
import { findProject, insertProject, listProjects, type ProjectRecord } from '../db/projects.repository.js';
import { ensureProjectQueue } from '../queue/boss.js';
import { stableHash } from './hash.js';
import type { Deps } from './deps.js';

/**
 * Creates a project. Posting the same definition again answers the existing project
 * (idempotent, `created: false`); a different definition under a taken name is a conflict.
 */
export async function createProject(deps: Deps, input: ProjectInput): Promise<{ project: ProjectRecord; created: boolean }> {
  const cfg = normalizeProject(input);
  const inserted = await insertProject(deps.db.db, cfg);
  if (inserted) {
    // Its re-anchoring queue now, so that the first gates of a busy loop need not race to make it.
    if (deps.queue) await ensureProjectQueue(deps.queue, inserted.id, deps.queueOptions ?? deps.config.queue);
    return { project: inserted, created: true };
  }
  const existing = await findProject(deps.db.db, cfg.name);
  if (!existing) throw new DomainError('unavailable', 'project vanished during creation; retry');
  if (stableHash(existing.config) !== stableHash(cfg)) {
    throw new DomainError('conflict', `project '${cfg.name}' exists with a different definition`, {
      errors: [{ pointer: '/name', message: 'name taken by a project with other settings' }],
    });
  }
  return { project: existing, created: false };
}

export async function getProject(deps: Deps, name: string): Promise<ProjectRecord> {
  const p = await findProject(deps.db.db, name);
  if (!p) throw new DomainError('not_found', `no project '${name}'`);
  return p;
}

/** A page of projects by name; `visible` (a token's scope) filters before paging. */
export async function listAll(deps: Deps, limit: number, after?: string, visible?: ReadonlySet<string> | null): Promise<ProjectRecord[]> {
  if (visible && visible.size === 0) return [];
  return listProjects(deps.db.db, limit, after, visible ? [...visible] : undefined);
}
