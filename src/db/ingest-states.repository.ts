import type { Executor } from './projects.repository.js';

/** What an ingest of a results.tsv left behind, to answer the same file again unparsed (sql/0007). */
export interface IngestState {
  /** Byte length of the file. */
  bytes: number;
  /** SHA-256 of the file, hex. */
  sha256: string;
  /** Parse options and project settings the file was read with. */
  options: string;
  /** The project's log stamp after that ingest ({@link logStamp}). */
  stamp: string;
  report: Record<string, unknown>;
  /** The rows' keys in file order (duplicates dropped). */
  keys: string[];
}

/**
 * The project's log stamp: `log_version:next_seq`. It moves with every inserted experiment (each
 * takes a seq) and every change of a stored one's content or absent flag (the sql/0007 trigger).
 */
export async function logStamp(db: Executor, projectId: number): Promise<string> {
  const row = await db.selectFrom('projects').select(['log_version', 'next_seq']).where('id', '=', projectId).executeTakeFirstOrThrow();
  return `${String(row.log_version)}:${row.next_seq}`;
}

/**
 * What decides whether the stored state answers a file (no report, no keys), with the project's
 * current stamp, in one read; undefined when none.
 */
export async function findIngestState(db: Executor, projectId: number): Promise<(Omit<IngestState, 'report' | 'keys'> & { current: string }) | undefined> {
  const row = await db
    .selectFrom('ingest_states as s')
    .innerJoin('projects as p', 'p.id', 's.project_id')
    .select(['s.bytes', 's.sha256', 's.options', 's.stamp', 'p.log_version', 'p.next_seq'])
    .where('s.project_id', '=', projectId)
    .executeTakeFirst();
  if (!row) return undefined;
  return { bytes: Number(row.bytes), sha256: row.sha256, options: row.options, stamp: row.stamp, current: `${String(row.log_version)}:${row.next_seq}` };
}

/** The stored answer (report and keys) of the state that {@link findIngestState} matched. */
export async function ingestStateAnswer(db: Executor, projectId: number, stamp: string): Promise<Pick<IngestState, 'report' | 'keys'> | undefined> {
  return db.selectFrom('ingest_states').select(['report', 'keys']).where('project_id', '=', projectId).where('stamp', '=', stamp).executeTakeFirst();
}

/** Records (or replaces) the project's ingest state. */
export async function saveIngestState(db: Executor, projectId: number, s: IngestState): Promise<void> {
  const values = {
    bytes: s.bytes,
    sha256: s.sha256,
    options: s.options,
    stamp: s.stamp,
    report: JSON.stringify(s.report),
    keys: JSON.stringify(s.keys),
    updated_at: new Date(),
  };
  await db
    .insertInto('ingest_states')
    .values({ project_id: projectId, ...values })
    .onConflict((oc) => oc.column('project_id').doUpdateSet(values))
    .execute();
}
