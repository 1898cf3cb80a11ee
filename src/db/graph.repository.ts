import { sql } from 'kysely';
import type { CascadeState } from './experiments.repository.js';
import type { Executor } from './projects.repository.js';

const idList = (ids: Iterable<number>) => JSON.stringify([...ids]);

/*
 * RECURSIVE_STEP: the recursive walks below find each new node's parents or children with a
 * correlated ARRAY(SELECT …) subquery (an index lookup per node) instead of a join. Joined, the
 * planner sized the work table at its default guess and chose hash or merge joins that scan
 * `edges` or `experiments` once per recursion step: O(depth × table), 2–4 s for one
 * reproduction in a 10,000-node project (docs/benchmarks.md, Findings).
 */

/** The given ids plus every experiment built on them, transitively. */
export async function descendantIds(db: Executor, ids: number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  // Each step looks up the children of each new node by index (see RECURSIVE_STEP above).
  const res = await sql<{ id: number }>`
    WITH RECURSIVE d(id) AS (
      SELECT (jsonb_array_elements_text(${idList(ids)}::jsonb))::int
      UNION
      SELECT unnest(ARRAY(SELECT ed.child_id FROM edges ed WHERE ed.parent_id = d.id)) FROM d
    ) SELECT id FROM d`.execute(db);
  return res.rows.map((r) => r.id);
}

/** Direct children (experiments having one of ids among their premises). */
export async function childIds(db: Executor, ids: number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const res = await sql<{ id: number }>`
    SELECT DISTINCT child_id AS id FROM edges
    WHERE parent_id IN (SELECT (jsonb_array_elements_text(${idList(ids)}::jsonb))::int)`.execute(db);
  return res.rows.map((r) => r.id);
}

export interface SubgraphNode {
  id: number;
  key: string;
  premises: string[];
  confidence: number;
  anchored: boolean;
  hardGate: string | null;
}

/** A cascade row as the queries below select it. */
interface NodeRow {
  id: number;
  key: string;
  confidence: number | null;
  anchored: boolean;
  hard_gate: string | null;
  premises: string[] | null;
}

const rowToNode = (r: NodeRow): SubgraphNode => ({
  id: r.id,
  key: r.key,
  premises: r.premises ?? [],
  confidence: r.confidence ?? 0,
  anchored: r.anchored,
  hardGate: r.hard_gate,
});

/**
 * The targets and their ancestors, walking up no further than anchors (SPEC §4): what K of
 * the targets depends on. Premises of boundary anchors that lie outside are dropped.
 */
export async function cascadeSubgraph(db: Executor, targetIds: number[]): Promise<SubgraphNode[]> {
  if (targetIds.length === 0) return [];
  // Per-node index lookups (RECURSIVE_STEP); a missing id yields NULL and is not expanded. The
  // rows are then fetched by primary key (= ANY), not joined: a join hashed the whole table.
  const res = await sql<NodeRow>`
    WITH RECURSIVE anc(id) AS (
      SELECT (jsonb_array_elements_text(${idList(targetIds)}::jsonb))::int
      UNION
      SELECT unnest(ARRAY(SELECT ed.parent_id FROM edges ed WHERE ed.child_id = anc.id)) FROM anc
      WHERE NOT (SELECT x.anchored FROM experiments x WHERE x.id = anc.id)
    )
    SELECT x.id, x.key, x.confidence, x.anchored, x.hard_gate,
      (SELECT json_agg(p.key ORDER BY ed.position, p.seq) FROM edges ed JOIN experiments p ON p.id = ed.parent_id
        WHERE ed.child_id = x.id) AS premises
    FROM experiments x WHERE x.id = ANY(ARRAY(SELECT id FROM anc))`.execute(db);
  const keys = new Set(res.rows.map((r) => r.key));
  return res.rows.map((r) => ({ ...rowToNode(r), premises: (r.premises ?? []).filter((k) => keys.has(k)) }));
}

/**
 * Every experiment of a project as a cascade node, for a whole-project recomputation: one scan
 * with the edges aggregated by hash join, instead of walking 100,000 cascades node by node.
 */
export async function projectCascadeNodes(db: Executor, projectId: number): Promise<SubgraphNode[]> {
  const res = await sql<NodeRow>`
    WITH prem AS (
      SELECT ed.child_id, json_agg(p.key ORDER BY ed.position, p.seq) AS premises
      FROM edges ed JOIN experiments p ON p.id = ed.parent_id
      WHERE ed.project_id = ${projectId} AND NOT p.absent
      GROUP BY ed.child_id
    )
    SELECT x.id, x.key, x.confidence, x.anchored, x.hard_gate, prem.premises
    FROM experiments x LEFT JOIN prem ON prem.child_id = x.id
    WHERE x.project_id = ${projectId} AND NOT x.absent`.execute(db);
  return res.rows.map(rowToNode);
}

/** A cascade node with its stored cascade (null before its first scoring). */
export interface StoredCascadeNode extends SubgraphNode {
  cascade: CascadeState | null;
}

/**
 * Experiments by id, or by key within a project, with all their premise keys and their stored
 * cascades: the nodes a write re-evaluates and the unaffected premises it extends. `= ANY(ARRAY(…))`
 * keeps these index lookups (an `IN (subquery)` semi-join may hash the whole table).
 */
export async function storedCascadeNodes(db: Executor, by: { ids: number[] } | { projectId: number; keys: string[] }): Promise<StoredCascadeNode[]> {
  const where =
    'ids' in by
      ? sql`x.id = ANY(ARRAY(SELECT (jsonb_array_elements_text(${idList(by.ids)}::jsonb))::int))`
      : sql`x.project_id = ${by.projectId} AND x.key = ANY(ARRAY(SELECT jsonb_array_elements_text(${JSON.stringify(by.keys)}::jsonb)))`;
  if (('ids' in by ? by.ids : by.keys).length === 0) return [];
  const res = await sql<NodeRow & { cascade: CascadeState | null }>`
    SELECT x.id, x.key, x.confidence, x.anchored, x.hard_gate, x.cascade,
      (SELECT json_agg(p.key ORDER BY ed.position, p.seq) FROM edges ed JOIN experiments p ON p.id = ed.parent_id
        WHERE ed.child_id = x.id) AS premises
    FROM experiments x WHERE ${where}`.execute(db);
  return res.rows.map((r) => ({ ...rowToNode(r), cascade: r.cascade }));
}

/** Edges of a project by key (graph endpoint, reports), among experiments of the latest log. */
export async function projectEdges(db: Executor, projectId: number): Promise<{ from: string; to: string }[]> {
  const res = await sql<{ from: string; to: string }>`
    SELECT p.key AS "from", c.key AS "to" FROM edges ed
      JOIN experiments p ON p.id = ed.parent_id JOIN experiments c ON c.id = ed.child_id
    WHERE ed.project_id = ${projectId} AND NOT p.absent AND NOT c.absent ORDER BY c.seq, ed.position`.execute(db);
  return res.rows;
}

/** Edges among the given experiments, as id pairs (for in-memory path finding). */
export async function edgesAmong(db: Executor, ids: number[]): Promise<{ parentId: number; childId: number }[]> {
  if (ids.length === 0) return [];
  const res = await sql<{ parent_id: number; child_id: number }>`
    WITH s AS (SELECT (jsonb_array_elements_text(${idList(ids)}::jsonb))::int AS id)
    SELECT parent_id, child_id FROM edges WHERE parent_id IN (SELECT id FROM s) AND child_id IN (SELECT id FROM s)`.execute(db);
  return res.rows.map((r) => ({ parentId: r.parent_id, childId: r.child_id }));
}
