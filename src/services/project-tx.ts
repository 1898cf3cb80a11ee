import type { Transaction } from 'kysely';
import { DomainError } from '../domain/errors.js';
import { lockProject, type ProjectRecord } from '../db/projects.repository.js';
import type { Database } from '../db/schema.js';
import type { Deps } from './deps.js';
import { serialPerKey } from './serial.js';
import { scoresTopic } from './scheduler.service.js';

/**
 * Runs fn in a transaction holding the project's row lock; 404 when the project is missing.
 * Writes to one project queue in this process first (serialPerKey), so that waiting on the lock
 * holds no pooled connection.
 */
export async function inProjectTx<T>(deps: Deps, name: string, fn: (trx: Transaction<Database>, p: ProjectRecord) => Promise<T>): Promise<T> {
  const out = await serialPerKey(deps.db, name, () =>
    deps.db.db.transaction().execute(async (trx) => {
      const project = await lockProject(trx, name);
      if (!project) throw new DomainError('not_found', `no project '${name}'`);
      return { value: await fn(trx, project), projectId: project.id };
    }),
  );
  // Scores may have changed: wake long-polling gates (here and, bridged, in other processes).
  deps.notifier.notify(scoresTopic(out.projectId));
  return out.value;
}
