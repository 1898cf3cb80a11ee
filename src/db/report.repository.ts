/**
 * Reads for audit reports. The structure of every experiment is read without its text (no
 * descriptions, diffs or metadata); text is read only for the few keys the report shows, and
 * reproductions and gate calls are aggregated or limited in SQL.
 */
import { sql } from 'kysely';
import type { ExperimentStatus } from '../domain/types.js';
import type { GateDecisionRow, ReportNode, ReproductionRow, ReproductionStat, ReproductionTotals } from '../domain/report/types.js';
import type { Executor } from './projects.repository.js';

/**
 * Every experiment of the latest log with its scores and premises, by seq (a few dozen bytes per
 * row). Rows the latest results.tsv no longer holds (absent: history, SPEC §7) are not scored
 * and not shown; premises pointing at them are dropped, as scoring drops them.
 */
export async function reportNodes(db: Executor, projectId: number): Promise<ReportNode[]> {
  const res = await sql<{
    key: string;
    seq: number;
    status: string;
    value: number | null;
    confidence: number | null;
    compounded: number | null;
    anchored: boolean;
    hard_gate: string | null;
    inherited: string | null;
    inherited_code: string | null;
    weakest_key: string | null;
    weakest_c: number | string | null;
    premises: string[] | null;
  }>`
    SELECT key, seq, status, value, confidence, compounded, anchored, hard_gate,
      cascade->'hardGate'->>'key' AS inherited, cascade->'hardGate'->>'code' AS inherited_code,
      cascade->'weakest'->>'key' AS weakest_key, (cascade->'weakest'->>'confidence')::float8 AS weakest_c, premises
    FROM experiments WHERE project_id = ${projectId} AND NOT absent ORDER BY seq`.execute(db);
  const present = new Set(res.rows.map((r) => r.key));
  return res.rows.map((r) => ({
    key: r.key,
    seq: r.seq,
    status: r.status as ExperimentStatus,
    value: r.value,
    confidence: r.confidence,
    compounded: r.compounded,
    anchored: r.anchored,
    hardGate: r.hard_gate,
    inheritedGate: r.inherited !== null && r.inherited !== r.key ? r.inherited : null,
    inheritedGateCode: r.inherited !== null && r.inherited !== r.key ? r.inherited_code : null,
    weakest: r.weakest_key !== null && r.weakest_c !== null ? { key: r.weakest_key, confidence: Number(r.weakest_c) } : null,
    premises: (r.premises ?? []).filter((p) => present.has(p)),
  }));
}

/** Rows kept as history because the latest log no longer holds them. */
export async function absentCount(db: Executor, projectId: number): Promise<number> {
  const r = await db
    .selectFrom('experiments')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('project_id', '=', projectId)
    .where('absent', '=', true)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Descriptions of the given keys, cut to `maxChars` in SQL. */
export async function descriptionsOf(db: Executor, projectId: number, keys: string[], maxChars = 400): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < keys.length; i += 5000) {
    const chunk = keys.slice(i, i + 5000);
    if (chunk.length === 0) continue;
    const res = await sql<{ key: string; d: string }>`
      SELECT key, left(description, ${maxChars}) AS d FROM experiments
      WHERE project_id = ${projectId} AND description IS NOT NULL
        AND key IN (SELECT jsonb_array_elements_text(${JSON.stringify(chunk)}::jsonb))`.execute(db);
    for (const r of res.rows) out.set(r.key, r.d);
  }
  return out;
}

/**
 * Reproductions per experiment (runs, failures, mean/min/max of values, and how many beat the
 * premise level its score measured against) and project totals. `sign` is +1 when higher is
 * better, −1 when lower is.
 */
export async function reproductionStats(db: Executor, projectId: number, sign: 1 | -1): Promise<{ byKey: Map<string, ReproductionStat>; totals: ReproductionTotals }> {
  const res = await sql<{ key: string; runs: number; failed: number; beat: number | null; mean: number | null; min: number | null; max: number | null; dur: number | null }>`
    SELECT x.key, count(*)::int AS runs, count(*) FILTER (WHERE r.value IS NULL)::int AS failed,
      CASE WHEN x.score->'premiseLevel'->>'mean' IS NULL THEN NULL ELSE
        count(*) FILTER (WHERE ${sign}::float8 * (r.value - (x.score->'premiseLevel'->>'mean')::float8) > 0)::int END AS beat,
      avg(r.value) AS mean, min(r.value) AS min, max(r.value) AS max, sum(r.duration_s) AS dur
    FROM reproductions r JOIN experiments x ON x.id = r.experiment_id
    WHERE r.project_id = ${projectId} GROUP BY x.key, x.score->'premiseLevel'->>'mean'`.execute(db);
  const byKey = new Map<string, ReproductionStat>();
  const totals: ReproductionTotals = { runs: 0, failed: 0, experiments: 0, durationS: 0 };
  for (const r of res.rows) {
    const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    byKey.set(r.key, { key: r.key, runs: Number(r.runs), failed: Number(r.failed), mean: n(r.mean), min: n(r.min), max: n(r.max), beat: n(r.beat) });
    totals.runs += Number(r.runs);
    totals.failed += Number(r.failed);
    totals.experiments += 1;
    totals.durationS += Number(r.dur ?? 0);
  }
  return { byKey, totals };
}

/** The most recent reproductions, newest first. */
export async function recentReproductions(db: Executor, projectId: number, limit: number): Promise<ReproductionRow[]> {
  const rows = await db
    .selectFrom('reproductions as r')
    .innerJoin('experiments as x', 'x.id', 'r.experiment_id')
    .select(['x.key', 'r.seed', 'r.value', 'r.ok', 'r.runner', 'r.duration_s', 'r.error', 'r.created_at'])
    .select(sql<number | string | null>`(x.score->'premiseLevel'->>'mean')::float8`.as('premise_level'))
    .where('r.project_id', '=', projectId)
    .orderBy('r.id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    experiment: r.key,
    seed: r.seed,
    value: r.value,
    ok: r.ok,
    runner: r.runner,
    durationS: r.duration_s,
    error: r.error === null ? null : r.error.slice(0, 500),
    createdAt: new Date(r.created_at).toISOString(),
    premiseLevel: r.premise_level === null ? null : Number(r.premise_level),
  }));
}

/** Reproduction jobs of the project queued or running now. */
export async function pendingReproductions(db: Executor, projectId: number): Promise<number> {
  const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM jobs WHERE project_id = ${projectId} AND state IN ('queued', 'active')`.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}

/** The most recent gate calls (newest first) and how many there are. */
export async function recentGateDecisions(db: Executor, projectId: number, limit: number): Promise<{ total: number; items: GateDecisionRow[] }> {
  const res = await sql<{
    id: number;
    experiment_key: string;
    decision: string;
    caller: string | null;
    compounded: number | string | null;
    threshold: number | string | null;
    reason: string | null;
    created_at: Date | string;
  }>`
    SELECT id, experiment_key, decision, caller, (answer->>'compounded')::float8 AS compounded,
      (answer->>'threshold')::float8 AS threshold, left(answer->'reasons'->0->>'message', 500) AS reason, created_at
    FROM gate_decisions WHERE project_id = ${projectId} ORDER BY id DESC LIMIT ${limit}`.execute(db);
  const count = await sql<{ n: number }>`SELECT count(*)::int AS n FROM gate_decisions WHERE project_id = ${projectId}`.execute(db);
  const n = (v: number | string | null) => (v === null ? null : Number(v));
  return {
    total: Number(count.rows[0]?.n ?? 0),
    items: res.rows.map((r) => ({
      id: r.id,
      experiment: r.experiment_key,
      decision: r.decision,
      compounded: n(r.compounded),
      threshold: n(r.threshold),
      caller: r.caller,
      reason: r.reason,
      createdAt: new Date(r.created_at).toISOString(),
    })),
  };
}
