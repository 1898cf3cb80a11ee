import { sql, type Selectable } from 'kysely';
import type { ExperimentInput, ExperimentStatus, Reproduction, Score } from '../domain/types.js';
import type { ExperimentsTable } from './schema.js';
import type { Executor } from './projects.repository.js';

/** Cascade fields stored with each experiment. */
export interface CascadeState {
  compounded: number;
  weakest: { key: string; confidence: number };
  /** Distances from the experiment (0 = itself); absent in rows stored before they were kept. */
  weakestDist?: number;
  hardGate: { key: string; code: string } | null;
  hardGateDist?: number | null;
  ancestors: number;
}

/** An experiment as stored, mapped to domain shapes. */
export interface ExperimentRecord extends ExperimentInput {
  id: number;
  seq: number;
  status: ExperimentStatus;
  premises: string[];
  replicates: number[];
  contentHash: string;
  score: Score | null;
  anchored: boolean;
  cascade: CascadeState | null;
  review: Record<string, unknown> | null;
  /** Current version (1 = as first stored). */
  version: number;
  /** Not in the project's latest results.tsv: history, out of scoring and statistics. */
  absent: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** Row → domain. Optional fields absent in the row stay absent in the record. */
export function rowToExperiment(row: Selectable<ExperimentsTable>): ExperimentRecord {
  const rec: ExperimentRecord = {
    id: row.id,
    key: row.key,
    seq: row.seq,
    status: row.status as ExperimentStatus,
    value: row.value,
    baseline: row.baseline,
    replicates: row.replicates ?? [],
    premises: row.premises ?? [],
    metadata: row.metadata ?? {},
    contentHash: row.content_hash,
    score: (row.score as unknown as Score | null) ?? null,
    anchored: row.anchored,
    cascade: (row.cascade as unknown as CascadeState | null) ?? null,
    review: row.review ?? null,
    version: row.version,
    absent: row.absent,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
  if (row.code) rec.code = row.code as ExperimentInput['code'];
  if (row.description !== null) rec.description = row.description;
  if (row.hypothesis !== null) rec.hypothesis = row.hypothesis;
  if (row.resources) rec.resources = row.resources as ExperimentInput['resources'];
  return rec;
}

export interface NewExperiment {
  input: ExperimentInput;
  seq: number;
  contentHash: string;
}

/**
 * An input's content with the defaults stored for omitted fields: what the columns hold, and
 * what two versions are compared by field by field.
 */
export const contentFields = (e: ExperimentInput) => ({
  status: e.status,
  value: e.value ?? null,
  baseline: e.baseline ?? null,
  replicates: e.replicates ?? [],
  premises: e.premises ?? [],
  code: e.code ?? null,
  description: e.description ?? null,
  hypothesis: e.hypothesis ?? null,
  resources: e.resources ?? null,
  metadata: e.metadata ?? {},
});

/** An experiment's content columns as one JSON record (insert and update share the shape). */
const contentColumns = (e: ExperimentInput, contentHash: string) => ({ key: e.key, ...contentFields(e), content_hash: contentHash });

const CONTENT_RECORD = sql`key text, status text, value double precision, baseline double precision,
        replicates jsonb, premises jsonb, code jsonb, description text, hypothesis text,
        resources jsonb, metadata jsonb, content_hash text`;

export interface StoredKey {
  id: number;
  contentHash: string;
  status: ExperimentStatus;
  version: number;
  absent: boolean;
}

/** Identity, hash, version and absence of existing experiments by key (for idempotency checks). */
export async function findKeys(db: Executor, projectId: number, keys: string[]): Promise<Map<string, StoredKey>> {
  const out = new Map<string, StoredKey>();
  for (let i = 0; i < keys.length; i += 5000) {
    const chunk = keys.slice(i, i + 5000);
    const rows = await db
      .selectFrom('experiments')
      .select(['id', 'key', 'content_hash', 'status', 'version', 'absent'])
      .where('project_id', '=', projectId)
      .where('key', 'in', chunk)
      .execute();
    for (const r of rows) out.set(r.key, { id: r.id, contentHash: r.content_hash, status: r.status as ExperimentStatus, version: r.version, absent: r.absent });
  }
  return out;
}

/** Bulk insert through one JSON parameter per chunk; returns key → id. */
export async function insertExperiments(db: Executor, projectId: number, items: NewExperiment[], source: 'tsv' | 'json' = 'json'): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  for (let i = 0; i < items.length; i += 2000) {
    const chunk = items.slice(i, i + 2000).map(({ input, seq, contentHash }) => ({ ...contentColumns(input, contentHash), seq }));
    const res = await sql<{ id: number; key: string }>`
      INSERT INTO experiments (project_id, key, seq, status, value, baseline, replicates, premises, code,
                               description, hypothesis, resources, metadata, content_hash, source)
      SELECT ${projectId}, v.key, v.seq, v.status, v.value, v.baseline, coalesce(v.replicates, '[]'),
             coalesce(v.premises, '[]'), v.code, v.description, v.hypothesis, v.resources,
             coalesce(v.metadata, '{}'), v.content_hash, ${source}
      FROM jsonb_to_recordset(${JSON.stringify(chunk)}::jsonb) AS v(${CONTENT_RECORD}, seq integer)
      RETURNING id, key`.execute(db);
    for (const r of res.rows) ids.set(r.key, r.id);
  }
  return ids;
}

/**
 * Replaces the content of existing experiments (a new version: version + 1, back in the log).
 * Scores are left to the caller's rescoring; the review is cleared where the code changed.
 * A 'tsv' source claims the row for the log; 'json' leaves its source as it was.
 */
export async function updateExperiments(db: Executor, items: { id: number; input: ExperimentInput; contentHash: string; codeChanged: boolean }[], source: 'tsv' | 'json'): Promise<void> {
  for (let i = 0; i < items.length; i += 2000) {
    const chunk = items.slice(i, i + 2000).map(({ id, input, contentHash, codeChanged }) => ({ ...contentColumns(input, contentHash), id, code_changed: codeChanged }));
    await sql`
      UPDATE experiments AS e SET status = v.status, value = v.value, baseline = v.baseline,
        replicates = coalesce(v.replicates, '[]'), premises = coalesce(v.premises, '[]'), code = v.code,
        description = v.description, hypothesis = v.hypothesis, resources = v.resources,
        metadata = coalesce(v.metadata, '{}'), content_hash = v.content_hash, version = e.version + 1,
        absent = false, source = CASE WHEN ${source} = 'tsv' THEN 'tsv' ELSE e.source END,
        review = CASE WHEN v.code_changed THEN NULL ELSE e.review END, updated_at = now()
      FROM jsonb_to_recordset(${JSON.stringify(chunk)}::jsonb) AS v(${CONTENT_RECORD}, id integer, code_changed boolean)
      WHERE e.id = v.id`.execute(db);
  }
}

/** Brings rows back into the log (same content as stored, so no new version). */
export async function clearAbsent(db: Executor, ids: number[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 5000) {
    await db.updateTable('experiments').set({ absent: false, updated_at: new Date() }).where('id', 'in', ids.slice(i, i + 5000)).execute();
  }
}

/**
 * Marks the project's results.tsv rows that the latest file no longer holds as absent (kept as
 * history, out of scoring); returns their ids. JSON rows are never marked.
 */
export async function markAbsentExcept(db: Executor, projectId: number, presentKeys: string[], beforeSeq?: number): Promise<number[]> {
  // The difference is taken here, with a Set: `NOT (key = ANY(array))` scans the array once per
  // row, and an anti-join on the JSON re-reads it per row on PGlite; both took minutes at 100,000 rows.
  const present = new Set(presentKeys);
  // `beforeSeq`: rows stored before this write (those written by it are in the file).
  const stored = await db
    .selectFrom('experiments')
    .select(['id', 'key'])
    .where('project_id', '=', projectId)
    .where('source', '=', 'tsv')
    .where('absent', '=', false)
    .$if(beforeSeq !== undefined, (q) => q.where('seq', '<', beforeSeq!))
    .execute();
  const lost = stored.filter((r) => !present.has(r.key)).map((r) => r.id);
  if (lost.length === 0) return [];
  const res = await sql<{ id: number }>`
    UPDATE experiments SET absent = true, updated_at = now()
    WHERE id IN (SELECT (jsonb_array_elements_text(${JSON.stringify(lost)}::jsonb))::integer) AND NOT absent
    RETURNING id`.execute(db);
  return res.rows.map((r) => r.id);
}

export interface VersionRow {
  experimentId: number;
  version: number;
  contentHash: string;
  content: ExperimentInput;
  changed: string[];
  tokenId: string | null;
  caller: string | null;
}

/** Appends version rows (bulk, one JSON parameter per chunk). */
export async function insertVersions(db: Executor, rows: VersionRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 2000) {
    const chunk = rows.slice(i, i + 2000).map((r) => ({ e: r.experimentId, n: r.version, h: r.contentHash, c: r.content, d: r.changed, t: r.tokenId, w: r.caller }));
    await sql`
      INSERT INTO experiment_versions (experiment_id, version, content_hash, content, changed, token_id, caller)
      SELECT v.e, v.n, v.h, v.c, v.d, v.t, v.w
      FROM jsonb_to_recordset(${JSON.stringify(chunk)}::jsonb) AS v(e integer, n integer, h text, c jsonb, d jsonb, t text, w text)`.execute(db);
  }
}

/** Every version of one experiment, oldest first. */
export async function listVersions(db: Executor, experimentId: number): Promise<(VersionRow & { createdAt: Date })[]> {
  const rows = await db.selectFrom('experiment_versions').selectAll().where('experiment_id', '=', experimentId).orderBy('version').execute();
  return rows.map((r) => ({
    experimentId: r.experiment_id,
    version: r.version,
    contentHash: r.content_hash,
    content: r.content as unknown as ExperimentInput,
    changed: r.changed,
    tokenId: r.token_id,
    caller: r.caller,
    createdAt: new Date(r.created_at),
  }));
}

/** Full records by id (the stored content of rows about to change). */
export async function experimentsByIds(db: Executor, ids: number[]): Promise<ExperimentRecord[]> {
  const out: ExperimentRecord[] = [];
  for (let i = 0; i < ids.length; i += 5000) {
    const rows = await db.selectFrom('experiments').selectAll().where('id', 'in', ids.slice(i, i + 5000)).execute();
    out.push(...rows.map(rowToExperiment));
  }
  return out;
}

/** Replaces the premise edges of the given children (their premise lists changed). */
export async function deleteEdgesOf(db: Executor, childIds: number[]): Promise<void> {
  for (let i = 0; i < childIds.length; i += 5000) {
    await db.deleteFrom('edges').where('child_id', 'in', childIds.slice(i, i + 5000)).execute();
  }
}

export interface EdgeRow {
  parentId: number;
  childId: number;
  position: number;
}

export async function insertEdges(db: Executor, projectId: number, edges: EdgeRow[]): Promise<void> {
  for (let i = 0; i < edges.length; i += 5000) {
    const chunk = edges.slice(i, i + 5000).map((e) => ({ p: e.parentId, c: e.childId, n: e.position }));
    await sql`
      INSERT INTO edges (project_id, parent_id, child_id, position)
      SELECT ${projectId}, v.p, v.c, v.n FROM jsonb_to_recordset(${JSON.stringify(chunk)}::jsonb) AS v(p integer, c integer, n integer)
      ON CONFLICT DO NOTHING`.execute(db);
  }
}

/** Appends premise keys to an experiment's ordered premise list. */
export async function appendPremises(db: Executor, id: number, keys: string[]): Promise<void> {
  await sql`UPDATE experiments SET premises = premises || ${JSON.stringify(keys)}::jsonb, updated_at = now() WHERE id = ${id}`.execute(db);
}

export async function getExperimentByKey(db: Executor, projectId: number, key: string): Promise<ExperimentRecord | null> {
  const row = await db
    .selectFrom('experiments')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('key', '=', key)
    .executeTakeFirst();
  return row ? rowToExperiment(row) : null;
}

export interface ListFilter {
  status?: ExperimentStatus[];
  afterSeq?: number;
  limit: number;
}

export async function listExperiments(db: Executor, projectId: number, f: ListFilter): Promise<ExperimentRecord[]> {
  let q = db.selectFrom('experiments').selectAll().where('project_id', '=', projectId).orderBy('seq').limit(f.limit);
  if (f.status && f.status.length > 0) q = q.where('status', 'in', f.status);
  if (f.afterSeq !== undefined) q = q.where('seq', '>', f.afterSeq);
  return (await q.execute()).map(rowToExperiment);
}

/** Every experiment of the project in the latest log (absent rows are history, not scored). */
export async function listAllExperiments(db: Executor, projectId: number): Promise<ExperimentRecord[]> {
  const rows = await db.selectFrom('experiments').selectAll().where('project_id', '=', projectId).where('absent', '=', false).orderBy('seq').execute();
  return rows.map(rowToExperiment);
}

/** What project statistics are fitted from (no score, code or metadata JSON), in seq order. */
export type ExperimentObservation = Pick<ExperimentRecord, 'id' | 'key' | 'status' | 'value' | 'baseline' | 'replicates' | 'premises'>;

export async function listObservations(db: Executor, projectId: number): Promise<ExperimentObservation[]> {
  const rows = await db
    .selectFrom('experiments')
    .select(['id', 'key', 'status', 'value', 'baseline', 'replicates', 'premises'])
    .where('project_id', '=', projectId)
    .where('absent', '=', false)
    .orderBy('seq')
    .execute();
  return rows.map((r) => ({ id: r.id, key: r.key, status: r.status as ExperimentStatus, value: r.value, baseline: r.baseline, replicates: r.replicates ?? [], premises: r.premises ?? [] }));
}

/** Reproductions of the given experiments, grouped by experiment id, in arrival order. */
export async function reproductionsOf(db: Executor, experimentIds: number[]): Promise<Map<number, (Reproduction & { ok: boolean })[]>> {
  const out = new Map<number, (Reproduction & { ok: boolean })[]>();
  for (let i = 0; i < experimentIds.length; i += 5000) {
    const chunk = experimentIds.slice(i, i + 5000);
    if (chunk.length === 0) continue;
    const rows = await db
      .selectFrom('reproductions')
      .select(['experiment_id', 'seed', 'value', 'ok', 'runner', 'duration_s', 'error'])
      .where('experiment_id', 'in', chunk)
      .orderBy('id')
      .execute();
    for (const r of rows) {
      const list = out.get(r.experiment_id) ?? [];
      const rep: Reproduction & { ok: boolean } = { seed: r.seed, value: r.value, ok: r.ok };
      if (r.runner !== null) rep.runner = r.runner;
      if (r.duration_s !== null) rep.durationS = r.duration_s;
      if (r.error !== null) rep.error = r.error;
      list.push(rep);
      out.set(r.experiment_id, list);
    }
  }
  return out;
}

/** A row's new score and/or cascade (undefined: unchanged). */
export interface ScoringUpdate {
  id: number;
  score?: Score;
  cascade?: CascadeState;
}

/**
 * Stores scores and cascades in bulk, each row written once (one statement per chunk): the score
 * with the columns derived from it (confidence, hard gate, anchor, statistics version) and K.
 */
export async function saveScoring(db: Executor, updates: ScoringUpdate[]): Promise<void> {
  for (let i = 0; i < updates.length; i += 2000) {
    const chunk = updates.slice(i, i + 2000).map((u) => ({
      id: u.id,
      s: u.score !== undefined,
      confidence: u.score?.value ?? null,
      score: u.score ?? null,
      hard_gate: u.score?.hardGate ?? null,
      anchored: u.score?.anchorEligible ?? null,
      stats_version: u.score?.statsVersion ?? null,
      k: u.cascade?.compounded ?? null,
      c: u.cascade ?? null,
    }));
    await sql`
      UPDATE experiments AS e SET
        confidence = CASE WHEN v.s THEN v.confidence ELSE e.confidence END,
        score = CASE WHEN v.s THEN v.score ELSE e.score END,
        hard_gate = CASE WHEN v.s THEN v.hard_gate ELSE e.hard_gate END,
        anchored = CASE WHEN v.s THEN v.anchored ELSE e.anchored END,
        stats_version = CASE WHEN v.s THEN v.stats_version ELSE e.stats_version END,
        compounded = CASE WHEN v.c IS NULL THEN e.compounded ELSE v.k END,
        cascade = COALESCE(v.c, e.cascade),
        updated_at = CASE WHEN v.s THEN now() ELSE e.updated_at END
      FROM jsonb_to_recordset(${JSON.stringify(chunk)}::jsonb) AS v(id integer, s boolean, confidence double precision, score jsonb,
        hard_gate text, anchored boolean, stats_version integer, k double precision, c jsonb)
      WHERE e.id = v.id`.execute(db);
  }
}

/** The project's first root in the latest log (no premise, no baseline): the head before any accept. */
export async function firstRoot(db: Executor, projectId: number): Promise<ExperimentRecord | null> {
  const row = await db
    .selectFrom('experiments')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('absent', '=', false)
    .where(({ fn, eb }) => eb(fn('jsonb_array_length', ['premises']), '=', 0))
    .where('baseline', 'is', null)
    .orderBy('seq')
    .limit(1)
    .executeTakeFirst();
  return row ? rowToExperiment(row) : null;
}
