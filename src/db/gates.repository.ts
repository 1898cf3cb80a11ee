import { sql } from 'kysely';
import type { ThresholdSource } from '../domain/gate/threshold.js';
import type { Executor } from './projects.repository.js';

export interface GateRecord {
  id: number;
  experiment: string;
  caller: string | null;
  inputs: Record<string, unknown>;
  decision: string;
  /** The threshold the decision used, and who set it (null on decisions recorded before sql/0005). */
  threshold: number | null;
  thresholdSource: ThresholdSource | null;
  answer: Record<string, unknown>;
  createdAt: string;
}

/** One gate call to record (SPEC §2: who, when, inputs, result). */
export interface GateDecisionRow {
  projectId: number;
  experiment: string;
  caller: string;
  inputs: Record<string, unknown>;
  decision: string;
  answer: Record<string, unknown>;
  threshold?: number;
  thresholdSource?: ThresholdSource;
}

/** The table row of a gate call; the answer and inputs serialised here, once. */
function gateDecisionValues(row: GateDecisionRow) {
  // Without explicit values: the answer's threshold and the source the gate route put in the inputs.
  const threshold = row.threshold ?? (typeof row.answer.threshold === 'number' ? row.answer.threshold : null);
  const source = row.thresholdSource ?? (row.inputs.thresholdSource as ThresholdSource | undefined) ?? (row.inputs.threshold === undefined ? 'project' : null);
  return {
    project_id: row.projectId,
    experiment_key: row.experiment,
    caller: row.caller,
    inputs: JSON.stringify(row.inputs),
    decision: row.decision,
    answer: JSON.stringify(row.answer),
    threshold,
    threshold_source: source,
  };
}

/**
 * Records several gate calls in one multi-row INSERT (one statement, one commit: the group-commit
 * writer's batch). Rows get ids in the order given; all or none are stored.
 */
export async function insertGateDecisions(db: Executor, rows: GateDecisionRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.insertInto('gate_decisions').values(rows.map(gateDecisionValues)).execute();
}

export async function listGateDecisions(db: Executor, projectId: number, opts: { after?: number; limit: number; experiment?: string }): Promise<GateRecord[]> {
  let q = db.selectFrom('gate_decisions').selectAll().where('project_id', '=', projectId).orderBy('id').limit(opts.limit);
  if (opts.after !== undefined) q = q.where('id', '>', opts.after);
  if (opts.experiment) q = q.where('experiment_key', '=', opts.experiment);
  return (await q.execute()).map((r) => ({
    id: r.id,
    experiment: r.experiment_key,
    caller: r.caller,
    inputs: r.inputs,
    decision: r.decision,
    threshold: r.threshold === null ? null : Number(r.threshold),
    thresholdSource: r.threshold_source as ThresholdSource | null,
    answer: r.answer,
    createdAt: new Date(r.created_at).toISOString(),
  }));
}

/** Finished reproductions per experiment id. */
/** Experiment keys of the project's latest accept decisions (not read-only checks), newest first. */
export async function latestAccepted(db: Executor, projectId: number, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('gate_decisions')
    .select('experiment_key')
    .where('project_id', '=', projectId)
    .where('decision', '=', 'accept')
    .where(sql<boolean>`coalesce((inputs->>'readOnly')::boolean, false) = false`)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return [...new Set(rows.map((r) => r.experiment_key))];
}

/** The threshold of the latest recorded gate call of an experiment (null: never gated). */
export async function lastThreshold(db: Executor, projectId: number, key: string): Promise<number | null> {
  const r = await db.selectFrom('gate_decisions').select('threshold').where('project_id', '=', projectId).where('experiment_key', '=', key).orderBy('id', 'desc').limit(1).executeTakeFirst();
  return r?.threshold === null || r?.threshold === undefined ? null : Number(r.threshold);
}

export async function reproductionCounts(db: Executor, ids: number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (ids.length === 0) return out;
  const r = await sql<{ id: number; n: number }>`
    SELECT experiment_id AS id, count(*)::int AS n FROM reproductions
    WHERE experiment_id IN (SELECT (jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))::int)
    GROUP BY experiment_id`.execute(db);
  for (const row of r.rows) out.set(row.id, Number(row.n));
  return out;
}
