import type { DbHandle } from './connection.js';
import type { ExperimentRecord } from './experiments.repository.js';
import type { JobPurpose, JobState } from './jobs.repository.js';
import { rowToProject, type ProjectRecord } from './projects.repository.js';

/** What the gate reads of the experiment it decides (not its diff, metadata or review). */
export type GateSubject = Pick<ExperimentRecord, 'id' | 'key' | 'premises' | 'score' | 'cascade' | 'anchored'>;

/** A job of the decision, with the key of the experiment it reproduces (null: that row is gone). */
export interface GateJobRow {
  id: string;
  experimentId: number;
  experimentKey: string | null;
  seed: number;
  state: JobState;
  purpose: JobPurpose;
}

/** The accepted head's key and posterior level (what the bar is measured from). */
export interface HeadLevel {
  key: string;
  score: { level?: { mean: number; sd: number } | null } | null;
}

/** Everything a gate of a stored decision reads, from one statement (one snapshot). */
export interface GateRead {
  project: ProjectRecord;
  x: GateSubject | null;
  /** The first premise: its key, whether it is hard-gated, and its runs (score.nX). */
  premise: { key: string; hardGate: unknown; runs: number } | null;
  /** The decision's jobs, oldest first (created_at, seed). */
  jobs: GateJobRow[];
  /** The accepted head (see `acceptedHead` in gate.service.ts), or null. */
  head: HeadLevel | null;
}

interface Cached {
  version: string;
  project: ProjectRecord;
}

// Per database (tests open many databases in one process, with the same project names).
const caches = new WeakMap<object, Map<string, Cached>>();
const CACHE_MAX = 1000;

/**
 * The accepted head of a project, as two subqueries of the gate's statement: among the experiments
 * of its latest 50 accept decisions (read-only checks excluded), newest first, the first present
 * and not hard-gated (own or inherited); without one, the project's first root. Same rule as
 * gate.service.ts's `acceptedHead`, which reads it in several statements. The root is looked for
 * only when no accept qualifies (a one-time filter on `a.key IS NULL`): that scan is not indexable
 * (jsonb_array_length) and would otherwise run on every call.
 */
const HEAD_JOINS = `
    LEFT JOIN LATERAL (
      SELECT h.key, h.score->'level' AS level
        FROM (SELECT g.id, g.experiment_key FROM gate_decisions g
               WHERE g.project_id = p.id AND g.decision = 'accept'
                 AND coalesce((g.inputs->>'readOnly')::boolean, false) = false
               ORDER BY g.id DESC LIMIT 50) d
        JOIN experiments h ON h.project_id = p.id AND h.key = d.experiment_key
       WHERE NOT h.absent AND coalesce(h.score->>'hardGate', '') = ''
         AND coalesce(jsonb_typeof(h.cascade->'hardGate'), 'null') = 'null'
       ORDER BY d.id DESC LIMIT 1) a ON true
    LEFT JOIN LATERAL (
      SELECT r.key, r.score->'level' AS level FROM experiments r
       WHERE a.key IS NULL AND r.project_id = p.id AND NOT r.absent
         AND jsonb_array_length(r.premises) = 0 AND r.baseline IS NULL
       ORDER BY r.seq LIMIT 1) rt ON true`;

/** The gate's statement: $1 project name, $2 experiment key, $3 the cached project version ('' for none). */
const GATE_READ = `
  WITH p AS (
    SELECT pr.*, pr.xmin::text || ':' || pr.config_version AS version FROM projects pr WHERE pr.name = $1
  )
  SELECT p.version,
    CASE WHEN p.version = $3 THEN NULL ELSE row_to_json(p) END AS project_row,
    e.id, e.key, e.premises, e.score, e.cascade, e.anchored,
    pe.key AS premise_key, pe.score->'hardGate' AS premise_hard_gate, pe.score->'nX' AS premise_runs,
    (SELECT coalesce(json_agg(json_build_object('id', j.id, 'experimentId', j.experiment_id,
              'experimentKey', je.key, 'seed', j.seed, 'state', j.state,
              'purpose', coalesce(j.purpose, 'decision')) ORDER BY j.created_at, j.seed), '[]'::json)
       FROM jobs j LEFT JOIN experiments je ON je.id = j.experiment_id
      WHERE j.gated_experiment_id = e.id) AS jobs,
    coalesce(a.key, rt.key) AS head_key,
    CASE WHEN a.key IS NULL THEN rt.level ELSE a.level END AS head_level
  FROM p
  LEFT JOIN experiments e ON e.project_id = p.id AND e.key = $2
  LEFT JOIN experiments pe ON pe.project_id = p.id AND pe.key = e.premises->>0
  ${HEAD_JOINS}`;

interface GateReadRow {
  version: string;
  project_row: Record<string, unknown> | null;
  id: number | null;
  key: string | null;
  premises: string[] | null;
  score: Record<string, unknown> | null;
  cascade: Record<string, unknown> | null;
  anchored: boolean | null;
  premise_key: string | null;
  premise_hard_gate: unknown;
  premise_runs: number | null;
  jobs: GateJobRow[];
  head_key: string | null;
  head_level: { mean: number; sd: number } | null;
}

/**
 * Reads the gate's inputs in one round trip, one prepared statement: the project row (sent only
 * when its version differs from the cached one), the experiment's gate fields, its first
 * premise's, the decision's jobs and the accepted head. The version is `xmin:config_version`:
 * xmin changes with every committed update of the row, so a refit of the statistics (which leaves
 * config_version alone) misses the cache as a config change does; every process checks on every
 * call, so several processes answer alike. Null when the project does not exist.
 */
export async function readGate(db: DbHandle, projectName: string, key: string): Promise<GateRead | null> {
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new Map()));
  const known = cache.get(projectName);
  const r = (await db.prepared('ecv_gate_read', GATE_READ, [projectName, key, known?.version ?? ''])) as { rows: GateReadRow[] };
  const row = r.rows[0];
  if (!row) return null;
  let project: ProjectRecord;
  if (row.project_row) {
    project = rowToProject(row.project_row as never);
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(projectName, { version: row.version, project });
  } else project = known!.project;
  const x: GateSubject | null =
    row.id === null
      ? null
      : {
          id: row.id,
          key: row.key!,
          premises: row.premises ?? [],
          score: (row.score as unknown as GateSubject['score']) ?? null,
          cascade: (row.cascade as unknown as GateSubject['cascade']) ?? null,
          anchored: row.anchored ?? false,
        };
  return {
    project,
    x,
    premise: row.premise_key === null ? null : { key: row.premise_key, hardGate: row.premise_hard_gate, runs: Number(row.premise_runs ?? 0) },
    jobs: row.jobs,
    head: row.head_key === null ? null : { key: row.head_key, score: { level: row.head_level } },
  };
}

