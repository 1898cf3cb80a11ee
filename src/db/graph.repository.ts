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

/** Edges among the given experiments, as id pairs (for in-memory path finding). */
export async function edgesAmong(db: Executor, ids: number[]): Promise<{ parentId: number; childId: number }[]> {
  if (ids.length === 0) return [];
  const res = await sql<{ parent_id: number; child_id: number }>`
    WITH s AS (SELECT (jsonb_array_elements_text(${idList(ids)}::jsonb))::int AS id)
    SELECT parent_id, child_id FROM edges WHERE parent_id IN (SELECT id FROM s) AND child_id IN (SELECT id FROM s)`.execute(db);
  return res.rows.map((r) => ({ parentId: r.parent_id, childId: r.child_id }));
}

/** Keys of the given experiments, by id. */
export async function keysByIds(db: Executor, ids: number[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for (let i = 0; i < ids.length; i += 5000) {
    const rows = await db.selectFrom('experiments').select(['id', 'key']).where('id', 'in', ids.slice(i, i + 5000)).execute();
    for (const r of rows) out.set(r.id, r.key);
  }
  return out;
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
