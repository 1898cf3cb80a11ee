import { listAllExperiments } from '../db/experiments.repository.js';
import { projectEdges } from '../db/graph.repository.js';
import { getProject } from './projects.service.js';
import type { Deps } from './deps.js';

/** SPEC §15 graph: every experiment with its scores, and the premise edges. */
export async function getGraph(deps: Deps, projectName: string) {
  const project = await getProject(deps, projectName);
  const rows = await listAllExperiments(deps.db.db, project.id);
  const edges = await projectEdges(deps.db.db, project.id);
  return {
    nodes: rows.map((e) => ({
      key: e.key,
      status: e.status,
      value: e.value ?? null,
      confidence: e.score?.value ?? null,
      compounded: e.cascade?.compounded ?? null,
      anchored: e.anchored,
      hardGate: e.score?.hardGate ?? null,
    })),
    edges,
  };
}
