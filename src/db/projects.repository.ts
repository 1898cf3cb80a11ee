import type { Kysely, Selectable, Transaction } from 'kysely';
import type { ProjectConfig, ProjectStats } from '../domain/types.js';
import type { Database, ProjectsTable } from './schema.js';

export type Executor = Kysely<Database> | Transaction<Database>;

/** A stored project: its config plus the bookkeeping the services need. */
export interface ProjectRecord {
  id: number;
  config: ProjectConfig;
  stats: ProjectStats | null;
  statsAtCount: number;
  nextSeq: number;
  /** Bumped by every change of the config (PUT/PATCH /v1/projects/{name}). */
  configVersion: number;
  createdAt: Date;
}

/** Row → domain (also the shape `row_to_json(projects)` gives). */
export function rowToProject(row: Selectable<ProjectsTable>): ProjectRecord {
  return {
    id: row.id,
    config: row.config as unknown as ProjectConfig,
    stats: (row.stats as unknown as ProjectStats | null) ?? null,
    statsAtCount: row.stats_at_count,
    nextSeq: row.next_seq,
    configVersion: row.config_version,
    createdAt: new Date(row.created_at),
  };
}

/** Inserts a project; returns null when the name is taken. */
export async function insertProject(db: Executor, cfg: ProjectConfig): Promise<ProjectRecord | null> {
  const row = await db
    .insertInto('projects')
    .values({ name: cfg.name, config: JSON.stringify(cfg) })
    .onConflict((oc) => oc.column('name').doNothing())
    .returningAll()
    .executeTakeFirst();
  return row ? rowToProject(row) : null;
}

export async function findProject(db: Executor, name: string): Promise<ProjectRecord | null> {
  const row = await db.selectFrom('projects').selectAll().where('name', '=', name).executeTakeFirst();
  return row ? rowToProject(row) : null;
}

/** Locks the project row for the rest of the transaction: writes to one project serialise here. */
export async function lockProject(trx: Transaction<Database>, name: string): Promise<ProjectRecord | null> {
  const row = await trx.selectFrom('projects').selectAll().where('name', '=', name).forUpdate().executeTakeFirst();
  return row ? rowToProject(row) : null;
}

/** Locks the project row by id (a job names its project by id), like lockProject. */
export async function lockProjectById(trx: Transaction<Database>, id: number): Promise<ProjectRecord | null> {
  const row = await trx.selectFrom('projects').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  return row ? rowToProject(row) : null;
}

/**
 * Takes the project row's shared key lock (FOR KEY SHARE, what a foreign key check on insert
 * takes anyway): many holders at once, it waits only for a writer holding lockProject. Taken
 * first, it keeps the lock order project → decision → GPU budget that job completions follow.
 */
export async function shareProjectKey(trx: Transaction<Database>, id: number): Promise<void> {
  await trx.selectFrom('projects').select('id').where('id', '=', id).forKeyShare().execute();
}

export async function listProjects(db: Executor, limit: number, after?: string, names?: string[]): Promise<ProjectRecord[]> {
  let q = db.selectFrom('projects').selectAll().orderBy('name').limit(limit);
  if (after) q = q.where('name', '>', after);
  if (names) q = q.where('name', 'in', names);
  return (await q.execute()).map(rowToProject);
}

/** Stores a changed config and bumps its version; returns the new version. */
export async function saveConfigVersion(db: Executor, id: number, cfg: ProjectConfig): Promise<number> {
  const row = await db
    .updateTable('projects')
    .set((eb) => ({ config: JSON.stringify(cfg), config_version: eb('config_version', '+', 1), updated_at: new Date() }))
    .where('id', '=', id)
    .returning('config_version')
    .executeTakeFirstOrThrow();
  return row.config_version;
}

export async function saveProjectStats(db: Executor, id: number, stats: ProjectStats, atCount: number): Promise<void> {
  await db
    .updateTable('projects')
    .set({ stats: JSON.stringify(stats), stats_version: stats.version, stats_at_count: atCount, updated_at: new Date() })
    .where('id', '=', id)
    .execute();
}

/** Reserves `n` consecutive sequence numbers; the caller holds the project lock. */
export async function reserveSeq(db: Executor, id: number, n: number): Promise<number> {
  const row = await db
    .updateTable('projects')
    .set((eb) => ({ next_seq: eb('next_seq', '+', n) }))
    .where('id', '=', id)
    .returning('next_seq')
    .executeTakeFirstOrThrow();
  return row.next_seq - n;
}

/** Experiments + reproductions of a project, from the counters on its row (next_seq, reproduction_count). */
export async function observationCount(db: Executor, projectId: number): Promise<number> {
  const r = await db.selectFrom('projects').select((eb) => eb('next_seq', '+', eb.ref('reproduction_count')).as('n')).where('id', '=', projectId).executeTakeFirst();
  return Number(r?.n ?? 0);
}
