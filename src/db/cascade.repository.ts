/**
 * What an incremental rescore reads (SPEC §4: a write recomputes only the experiments it
 * affects and what is built on them): first premises, stored scores of the commits above a
 * subtree, and the cascade nodes K is recomputed from. Lookups go by index (`= ANY(ARRAY(…))`):
 * an `IN (subquery)` semi-join may hash the whole table (docs/benchmarks.md, Findings).
 */
import { sql } from 'kysely';
import type { Score } from '../domain/types.js';
import type { CascadeState } from './experiments.repository.js';
import type { SubgraphNode } from './graph.repository.js';
import type { Executor } from './projects.repository.js';

const idArray = (ids: Iterable<number>) => sql`ARRAY(SELECT (jsonb_array_elements_text(${JSON.stringify([...ids])}::jsonb))::int)`;
const keyArray = (keys: Iterable<string>) => sql`ARRAY(SELECT jsonb_array_elements_text(${JSON.stringify([...keys])}::jsonb))`;

/** For each given present experiment: the id of its first present premise, or null. */
export async function firstPremiseIds(db: Executor, ids: number[]): Promise<Map<number, number | null>> {
  if (ids.length === 0) return new Map();
  const res = await sql<{ id: number; premise: number | null }>`
    SELECT x.id,
      (SELECT ed.parent_id FROM edges ed JOIN experiments p ON p.id = ed.parent_id
        WHERE ed.child_id = x.id AND NOT p.absent ORDER BY ed.position, p.seq LIMIT 1) AS premise
    FROM experiments x WHERE x.id = ANY(${idArray(ids)}) AND NOT x.absent`.execute(db);
  return new Map(res.rows.map((r) => [r.id, r.premise]));
}

/** Stored scores of present experiments of a project, by key (absent keys are left out). */
export async function storedScoresByKey(db: Executor, projectId: number, keys: Iterable<string>): Promise<Map<string, Score | null>> {
  const list = [...new Set(keys)];
  if (list.length === 0) return new Map();
  const res = await sql<{ key: string; score: Score | null }>`
    SELECT x.key, x.score FROM experiments x
    WHERE x.project_id = ${projectId} AND x.key = ANY(${keyArray(list)}) AND NOT x.absent`.execute(db);
  return new Map(res.rows.map((r) => [r.key, r.score]));
}

interface NodeRow {
  id: number;
  key: string;
  confidence: number | null;
  anchored: boolean;
  hard_gate: string | null;
  premises: string[] | null;
  cascade?: CascadeState | null;
}

const rowToNode = (r: NodeRow): SubgraphNode => ({
  id: r.id,
  key: r.key,
  premises: r.premises ?? [],
  confidence: r.confidence ?? 0,
  anchored: r.anchored,
  hardGate: r.hard_gate,
});

/** Premise keys of x (present premises, in position order), as a correlated subquery. */
const premisesOf = sql`(SELECT json_agg(p.key ORDER BY ed.position, p.seq) FROM edges ed JOIN experiments p ON p.id = ed.parent_id
  WHERE ed.child_id = x.id AND NOT p.absent)`;

/**
 * The targets and their ancestors, walking up no further than anchors (SPEC §4): what K of
 * the targets depends on. Premises of boundary anchors that lie outside are dropped.
 */
export async function cascadeSubgraph(db: Executor, targetIds: number[]): Promise<SubgraphNode[]> {
  if (targetIds.length === 0) return [];
  // Each step looks up the parents of each new node by index; a missing id yields NULL and is
  // not expanded. The rows are then fetched by primary key, not joined.
  const res = await sql<NodeRow>`
    WITH RECURSIVE anc(id) AS (
      SELECT unnest(${idArray(targetIds)})
      UNION
      SELECT unnest(ARRAY(SELECT ed.parent_id FROM edges ed WHERE ed.child_id = anc.id)) FROM anc
      WHERE NOT (SELECT x.anchored FROM experiments x WHERE x.id = anc.id)
    )
    SELECT x.id, x.key, x.confidence, x.anchored, x.hard_gate, ${premisesOf} AS premises
    FROM experiments x WHERE x.id = ANY(ARRAY(SELECT id FROM anc)) AND NOT x.absent`.execute(db);
  const keys = new Set(res.rows.map((r) => r.key));
  return res.rows.map((r) => ({ ...rowToNode(r), premises: (r.premises ?? []).filter((k) => keys.has(k)) }));
}

/** A cascade node with its stored cascade (null before its first scoring). */
export interface StoredCascadeNode extends SubgraphNode {
  cascade: CascadeState | null;
}

/**
 * Experiments by id, or by key within a project, with their premise keys and stored cascades:
 * the nodes a write re-evaluates and the unaffected premises it extends.
 */
export async function storedCascadeNodes(db: Executor, by: { ids: number[] } | { projectId: number; keys: string[] }): Promise<StoredCascadeNode[]> {
  if (('ids' in by ? by.ids : by.keys).length === 0) return [];
  const where = 'ids' in by ? sql`x.id = ANY(${idArray(by.ids)})` : sql`x.project_id = ${by.projectId} AND x.key = ANY(${keyArray(by.keys)})`;
  const res = await sql<NodeRow & { cascade: CascadeState | null }>`
    SELECT x.id, x.key, x.confidence, x.anchored, x.hard_gate, x.cascade, ${premisesOf} AS premises
    FROM experiments x WHERE ${where} AND NOT x.absent`.execute(db);
  return res.rows.map((r) => ({ ...rowToNode(r), cascade: r.cascade ?? null }));
}
