/**
 * The read behind `GET /`: one row per project with the figures its index line shows, each
 * aggregated in SQL (latest keep by seq, its latest gate call, gated keeps, pending jobs, GPU
 * seconds), so the page costs one statement whatever the projects hold.
 */
import { sql } from 'kysely';
import type { Direction } from '../domain/types.js';
import type { ProjectIndexEntry } from '../domain/report/index-page.js';
import type { Executor } from './projects.repository.js';

interface Row {
  name: string;
  metric_name: string;
  direction: string;
  threshold: number | string;
  experiments: number;
  keep_key: string | null;
  keep_value: number | null;
  keep_k: number | string | null;
  keep_gated: boolean | null;
  decision: string | null;
  decision_k: number | string | null;
  decided_at: Date | string | null;
  gated: number;
  pending: number;
  reproductions: number;
  gpu_s: number | string | null;
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

/**
 * Index rows by project name, at most `limit`; `names` (a token's scope) filters first, null
 * means every project. A keep is gated as the report counts it (K < threshold, or a hard gate
 * of its own or inherited); only rows of the latest log count (absent ones are history).
 */
export async function projectIndexRows(db: Executor, names: string[] | null, limit: number): Promise<Omit<ProjectIndexEntry, 'report'>[]> {
  const scope = names === null ? sql`TRUE` : sql`p.name IN (SELECT jsonb_array_elements_text(${JSON.stringify(names)}::jsonb))`;
  const res = await sql<Row>`
    SELECT p.name, p.config->'metric'->>'name' AS metric_name, p.config->'metric'->>'direction' AS direction,
      (p.config->>'threshold')::float8 AS threshold,
      (SELECT count(*)::int FROM experiments x WHERE x.project_id = p.id AND NOT x.absent) AS experiments,
      lk.key AS keep_key, lk.value AS keep_value, lk.compounded AS keep_k,
      (lk.hard_gate IS NOT NULL OR coalesce(lk.inherited <> lk.key, FALSE) OR lk.compounded < (p.config->>'threshold')::float8) AS keep_gated,
      gd.decision, (gd.answer->>'compounded')::float8 AS decision_k, gd.created_at AS decided_at,
      (SELECT count(*)::int FROM experiments x WHERE x.project_id = p.id AND NOT x.absent AND x.status = 'keep'
        AND (x.hard_gate IS NOT NULL OR coalesce(x.cascade->'hardGate'->>'key' <> x.key, FALSE)
          OR x.compounded < (p.config->>'threshold')::float8)) AS gated,
      (SELECT count(*)::int FROM jobs j WHERE j.project_id = p.id AND j.state IN ('queued', 'active')) AS pending,
      (SELECT count(*)::int FROM reproductions r WHERE r.project_id = p.id) AS reproductions,
      (SELECT sum(r.duration_s)::float8 FROM reproductions r WHERE r.project_id = p.id) AS gpu_s
    FROM projects p
    LEFT JOIN LATERAL (
      SELECT x.key, x.value, x.compounded, x.hard_gate, x.cascade->'hardGate'->>'key' AS inherited
      FROM experiments x WHERE x.project_id = p.id AND NOT x.absent AND x.status = 'keep' ORDER BY x.seq DESC LIMIT 1
    ) lk ON TRUE
    LEFT JOIN LATERAL (
      SELECT g.decision, g.answer, g.created_at FROM gate_decisions g
      WHERE g.project_id = p.id AND g.experiment_key = lk.key ORDER BY g.id DESC LIMIT 1
    ) gd ON TRUE
    WHERE ${scope}
    ORDER BY p.name
    LIMIT ${limit}`.execute(db);
  return res.rows.map((r) => ({
    name: r.name,
    metric: { name: r.metric_name, direction: r.direction as Direction },
    threshold: Number(r.threshold),
    experiments: Number(r.experiments),
    latestKeep:
      r.keep_key === null
        ? null
        : {
            key: r.keep_key,
            value: r.keep_value,
            compounded: num(r.keep_k),
            gated: r.keep_gated === true,
            decision: r.decision === null ? null : { decision: r.decision, compounded: num(r.decision_k), createdAt: new Date(r.decided_at as Date | string).toISOString() },
          },
    gatedKeeps: Number(r.gated),
    pendingReproductions: Number(r.pending),
    reproductions: Number(r.reproductions),
    gpuMinutes: Number(r.gpu_s ?? 0) / 60,
  }));
}
