import type { Transaction } from 'kysely';
import { recomputeCompounded, buildPremiseGraph, type KnownCascade } from '../domain/cascade/index.js';
import {
  computeProjectStats,
  scoreExperiment,
  statsMovedMaterially,
  type ObservedExperiment,
} from '../domain/scoring/index.js';
import type { ProjectStats } from '../domain/types.js';
import type { Database } from '../db/schema.js';
import { saveProjectStats, type Executor, type ProjectRecord } from '../db/projects.repository.js';
import {
  listAllExperiments,
  listObservations,
  type ExperimentObservation,
  reproductionsOf,
  rowToExperiment,
  saveCascade,
  saveScores,
  type ExperimentRecord,
} from '../db/experiments.repository.js';
import { cascadeSubgraph, childIds, descendantIds, projectCascadeNodes, storedCascadeNodes, type SubgraphNode } from '../db/graph.repository.js';

type Trx = Transaction<Database>;

/**
 * Observations (experiments + reproductions) grow by max(REFRESH_MIN, 10%) before statistics are
 * refit: every write in a small project (where one reproduction group changes σ̂ a lot), in
 * batches of 10% in a large one (amortised O(1) per write).
 */
const REFRESH_MIN = 1;
const REFRESH_FRACTION = 0.1;

function toObserved(e: ExperimentObservation & Partial<Pick<ExperimentRecord, 'code'>>, reps: Map<number, ObservedExperiment['reproductions']>): ObservedExperiment {
  const o: ObservedExperiment = {
    key: e.key,
    status: e.status,
    value: e.value ?? null,
    replicates: e.replicates,
    baseline: e.baseline ?? null,
    premiseKey: e.premises[0] ?? null,
    reproductions: reps.get(e.id) ?? [],
  };
  if (e.code) o.code = e.code;
  return o;
}

/** Experiments of a project by id or by key, in chunks (one reader for both look-ups). */
async function loadWhere<C extends 'id' | 'key'>(trx: Trx, projectId: number, column: C, values: (C extends 'id' ? number : string)[]): Promise<ExperimentRecord[]> {
  const out: ExperimentRecord[] = [];
  for (let i = 0; i < values.length; i += 5000) {
    const rows = await trx
      .selectFrom('experiments')
      .selectAll()
      .where('project_id', '=', projectId)
      .where(column, 'in', values.slice(i, i + 5000) as never)
      .execute();
    out.push(...rows.map(rowToExperiment));
  }
  return out;
}

/** Experiments + reproductions of the project: both counted on its row (next_seq, reproduction_count). */
async function observationCount(trx: Trx, projectId: number): Promise<number> {
  const r = await trx.selectFrom('projects').select((eb) => eb('next_seq', '+', eb.ref('reproduction_count')).as('n')).where('id', '=', projectId).executeTakeFirst();
  return Number(r?.n ?? 0);
}

/**
 * Refits project statistics when enough has arrived since the last fit. Returns the stats to
 * score with and whether every experiment must be rescored (the stats moved materially).
 */
async function refreshStats(trx: Trx, project: ProjectRecord, force: boolean): Promise<{ stats: ProjectStats; all: boolean }> {
  const count = await observationCount(trx, project.id);
  const due = project.stats === null || force || count >= project.statsAtCount + Math.max(REFRESH_MIN, REFRESH_FRACTION * project.statsAtCount);
  if (!due && project.stats) return { stats: project.stats, all: false };
  // Only the columns the fit reads: a refit of a 100,000-experiment project otherwise loads every score JSON.
  const all = await listObservations(trx, project.id);
  const reps = await reproductionsOf(trx, all.map((e) => e.id));
  const prevVersion = project.stats?.version ?? 0;
  const fresh = computeProjectStats({
    project: project.config,
    experiments: all.map((e) => toObserved(e, reps)),
    previousVersion: prevVersion,
  });
  if (project.stats && !statsMovedMaterially(project.stats, fresh)) {
    await saveProjectStats(trx, project.id, project.stats, count);
    project.statsAtCount = count;
    return { stats: project.stats, all: false };
  }
  const stats: ProjectStats = { ...fresh, version: prevVersion + 1 };
  await saveProjectStats(trx, project.id, stats, count);
  project.stats = stats;
  project.statsAtCount = count;
  return { stats, all: true };
}

/**
 * Recomputes C for the changed experiments (and the direct children they are premises of),
 * then K for them and everything built on them, inside the caller's transaction (SPEC §4).
 */
export async function rescore(trx: Trx, project: ProjectRecord, changedIds: number[], opts: { forceStats?: boolean } = {}): Promise<{ scored: number; cascaded: number }> {
  const { stats, all } = await refreshStats(trx, project, opts.forceStats ?? false);
  let targets: ExperimentRecord[];
  if (all) {
    targets = await listAllExperiments(trx, project.id);
  } else {
    const kids = await childIds(trx, changedIds);
    targets = await loadWhere(trx, project.id, 'id', [...new Set([...changedIds, ...kids])]);
  }
  if (targets.length === 0) return { scored: 0, cascaded: 0 };

  // Premises (first premise = the one compared against) and everyone's reproductions.
  const byKey = new Map(targets.map((e) => [e.key, e]));
  const missing = [...new Set(targets.map((e) => e.premises[0]).filter((k): k is string => !!k && !byKey.has(k)))];
  for (const p of await loadWhere(trx, project.id, 'key', missing)) byKey.set(p.key, p);
  const reps = await reproductionsOf(trx, [...byKey.values()].map((e) => e.id));

  const updates = targets.map((e) => {
    const premise = e.premises[0] ? byKey.get(e.premises[0]) ?? null : null;
    const review = e.review as { adjustment?: number; reasons?: { code: string; message: string }[] } | null;
    const score = scoreExperiment({
      project: project.config,
      experiment: toObserved(e, reps),
      premise: premise ? toObserved(premise, reps) : null,
      stats,
      ...(review && typeof review.adjustment === 'number' ? { review: { adjustment: review.adjustment, reasons: review.reasons ?? [] } } : {}),
    });
    return { id: e.id, score };
  });
  await saveScores(trx, updates);

  const affected = all ? targets.map((e) => e.id) : await descendantIds(trx, targets.map((e) => e.id));
  const { nodes, known } = await cascadeInputs(trx, project.id, affected, all);
  const graph = buildPremiseGraph(nodes);
  const affectedSet = new Set(affected);
  const keyToId = new Map(nodes.map((n) => [n.key, n.id]));
  const results = recomputeCompounded(
    graph,
    nodes.filter((n) => affectedSet.has(n.id)).map((n) => n.key),
    known,
  );
  await saveCascade(
    trx,
    [...results.values()].map(({ key, ...cascade }) => ({ id: keyToId.get(key)!, cascade })),
  );
  return { scored: updates.length, cascaded: results.size };
}

/**
 * What K of the affected experiments is recomputed from: the whole project when every experiment
 * is affected (`all`), else the affected nodes and their premises' stored cascades where that
 * suffices, else their whole cascades up to the anchors.
 */
export async function cascadeInputs(db: Executor, projectId: number, affected: number[], all = false): Promise<{ nodes: SubgraphNode[]; known?: Map<string, KnownCascade> }> {
  if (all) return { nodes: await projectCascadeNodes(db, projectId) };
  return (await extendStored(db, projectId, affected)) ?? { nodes: await cascadeSubgraph(db, affected) };
}

/**
 * The affected experiments and their unaffected premises with the premises' stored cascades, so
 * that K(X) = C(X)·K(P) extends what is stored instead of reloading every ancestor up to the
 * anchors (a leaf of a 10,000-deep un-anchored chain: 2 rows instead of 10,000). Null — load the
 * whole cascade — when an affected experiment has several premises (a diamond needs its
 * ancestor set) or a premise's stored cascade predates stored distances.
 */
async function extendStored(db: Executor, projectId: number, affected: number[]): Promise<{ nodes: SubgraphNode[]; known: Map<string, KnownCascade> } | null> {
  const own = await storedCascadeNodes(db, { ids: affected });
  if (own.some((n) => !n.anchored && n.premises.length > 1)) return null;
  const inside = new Set(own.map((n) => n.key));
  const outside = [...new Set(own.flatMap((n) => (n.anchored ? [] : n.premises.filter((p) => !inside.has(p)))))];
  const frontier = await storedCascadeNodes(db, { projectId, keys: outside });
  const known = new Map<string, KnownCascade>();
  for (const p of frontier) {
    if (p.anchored) continue; // counts with its own C; its stored cascade is not needed
    const c = p.cascade;
    if (!c || c.weakestDist === undefined || c.hardGateDist === undefined) return null;
    known.set(p.key, { compounded: c.compounded, ancestors: c.ancestors, weakest: c.weakest, weakestDist: c.weakestDist, hardGate: c.hardGate, hardGateDist: c.hardGateDist });
  }
  const loaded = new Set([...inside, ...frontier.map((p) => p.key)]);
  const nodes = [
    ...own.map((n) => ({ ...n, premises: n.premises.filter((p) => loaded.has(p)) })),
    ...frontier.map((p) => ({ ...p, premises: [] })),
  ];
  return { nodes, known };
}
