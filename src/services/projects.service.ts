import { DomainError } from '../domain/errors.js';
import { normalizeProject, type ProjectInput } from '../domain/project.js';
import { changesScoring, diffConfig, mergePatch, type ConfigChange } from '../domain/project-diff.js';
import { findProject, insertProject, listProjects, saveConfigVersion, type ProjectRecord } from '../db/projects.repository.js';
import { stableHash } from './hash.js';
import type { Deps } from './deps.js';
import { inProjectTx } from './project-tx.js';
import { rescore } from './scoring.service.js';

/**
 * Creates a project. Posting the same definition again answers the existing project
 * (idempotent, `created: false`); a different definition under a taken name is a conflict.
 */
export async function createProject(deps: Deps, input: ProjectInput): Promise<{ project: ProjectRecord; created: boolean }> {
  const cfg = normalizeProject(input);
  const inserted = await insertProject(deps.db.db, cfg);
  if (inserted) return { project: inserted, created: true };
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

/** The answer of PUT/PATCH /v1/projects/{name}: the project after the change and what changed. */
export interface ConfigUpdate {
  project: ProjectRecord;
  configVersion: number;
  changed: ConfigChange[];
  /** Whether a scoring input changed, so that every experiment was rescored in the same transaction. */
  rescored: boolean;
}

/**
 * Replaces or patches a project's config (SPEC §8 "ecv.json is the project's config"), in one
 * transaction holding the project lock: validates the result (nothing is written when it is
 * invalid), stores it with a bumped configVersion when it differs, and rescores the whole
 * project when a scoring input changed. The same config again changes nothing (no new version).
 */
async function updateProjectConfig(deps: Deps, name: string, next: (current: ProjectRecord) => ProjectInput): Promise<ConfigUpdate> {
  return inProjectTx(deps, name, async (trx, project) => {
    const input = next(project);
    if (input.name !== name) {
      throw new DomainError('validation_failed', `the body names project '${input.name}', the URL '${name}'`, {
        errors: [{ pointer: '/name', message: `must be '${name}' (a project cannot be renamed)` }],
      });
    }
    const cfg = normalizeProject(input);
    const changed = diffConfig(project.config as unknown as Record<string, unknown>, cfg as unknown as Record<string, unknown>);
    if (changed.length === 0) return { project, configVersion: project.configVersion, changed, rescored: false };
    const configVersion = await saveConfigVersion(trx, project.id, cfg);
    const updated: ProjectRecord = { ...project, config: cfg, configVersion };
    const rescored = changesScoring(changed);
    if (rescored) await rescore(trx, updated, [], { forceStats: true, all: true });
    return { project: updated, configVersion, changed, rescored };
  });
}

/** PUT: the body is the whole new config (absent optional fields take their defaults). */
export const replaceProjectConfig = (deps: Deps, name: string, input: ProjectInput) => updateProjectConfig(deps, name, () => input);

/** PATCH: a JSON merge patch (RFC 7396) onto the stored config; `null` resets a field to its default. */
export const patchProjectConfig = (deps: Deps, name: string, patch: Record<string, unknown>) =>
  updateProjectConfig(deps, name, (current) => mergePatch(current.config, { name, ...patch }) as ProjectInput);
