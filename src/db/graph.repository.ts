import { sql } from 'kysely';
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

/** Edges among the given experiments, as id pairs (for in-memory path finding). */
export async function edgesAmong(db: Executor, ids: number[]): Promise<{ parentId: number; childId: number }[]> {
  if (ids.length === 0) return [];
  const res = await sql<{ parent_id: number; child_id: number }>`
    WITH s AS (SELECT (jsonb_array_elements_text(${idList(ids)}::jsonb))::int AS id)
    SELECT parent_id, child_id FROM edges WHERE parent_id IN (SELECT id FROM s) AND child_id IN (SELECT id FROM s)`.execute(db);
  return res.rows.map((r) => ({ parentId: r.parent_id, childId: r.child_id }));
}

/** A node of the SPEC §15 graph, with its row order (the page cursor). */
export interface GraphNodeRow {
  seq: number;
  key: string;
  status: string;
  value: number | null;
  confidence: number | null;
  compounded: number | null;
  anchored: boolean;
  hardGate: string | null;
}

/**
 * One page of a project's graph: up to `limit` present experiments after row `afterSeq`, in
 * row order (keyset on the (project_id, seq) index), and the edges into them from present
 * premises, by child row then premise position. Reads the score columns, not the score JSON.
 * Two index-only walks: the cost follows the page, not the project.
 */
export async function graphPage(db: Executor, projectId: number, afterSeq: number, limit: number): Promise<{ nodes: GraphNodeRow[]; edges: { from: string; to: string }[] }> {
  const nodes = await db
    .selectFrom('experiments')
    .select(['id', 'seq', 'key', 'status', 'value', 'confidence', 'compounded', 'anchored', 'hard_gate'])
    .where('project_id', '=', projectId)
    .where('seq', '>', afterSeq)
    .where('absent', '=', false)
    .orderBy('seq')
    .limit(limit)
    .execute();
  if (nodes.length === 0) return { nodes: [], edges: [] };
  // Edges by the page's ids (the edges primary key leads with child_id): a range on seq instead
  // made the planner hash-join a scan of every edge of the project, 49 ms for a 1,000-node page.
  const edges = await sql<{ from: string; to: string }>`
    WITH page AS (SELECT (jsonb_array_elements_text(${idList(nodes.map((r) => r.id))}::jsonb))::int AS id)
    SELECT p.key AS "from", c.key AS "to" FROM page
      JOIN edges ed ON ed.child_id = page.id JOIN experiments c ON c.id = ed.child_id JOIN experiments p ON p.id = ed.parent_id
    WHERE NOT p.absent
    ORDER BY c.seq, ed.position`.execute(db);
  return {
    nodes: nodes.map((r) => ({ seq: r.seq, key: r.key, status: r.status, value: r.value, confidence: r.confidence, compounded: r.compounded, anchored: r.anchored, hardGate: r.hard_gate })),
    edges: edges.rows,
  };
}
