import { graphPage } from '../db/graph.repository.js';
import { getProject } from './projects.service.js';
import type { Deps } from './deps.js';

// Nodes per page when the caller names no limit (schemas/routes.ts): a small project whole in
// one answer, a first page of a large one in tens of milliseconds (docs/benchmarks.md).
import { GRAPH_DEFAULT_LIMIT } from '../../schemas/routes.js';

/**
 * SPEC §15 graph, one page at a time (issue 19): up to `limit` experiments in row order after the
 * cursor `after` (the `next` of the previous page), with the premise edges into them. `next` is
 * null on the last page, so a project of at most `limit` experiments comes whole in one answer.
 */
export async function getGraph(deps: Deps, projectName: string, page: { limit?: number; after?: number } = {}) {
  const project = await getProject(deps, projectName);
  const limit = page.limit ?? GRAPH_DEFAULT_LIMIT;
  // One row more than asked says whether another page follows, without a count.
  const { nodes, edges } = await graphPage(deps.db.db, project.id, page.after ?? -1, limit + 1);
  const more = nodes.length > limit;
  const shown = more ? nodes.slice(0, limit) : nodes;
  // Edges into the extra row belong to the next page.
  const extraKey = more ? nodes[limit].key : undefined;
  return {
    nodes: shown.map(({ seq: _seq, ...n }) => n),
    edges: extraKey === undefined ? edges : edges.filter((e) => e.to !== extraKey),
    next: more ? shown[shown.length - 1].seq : null,
  };
}
