import type { Transaction } from 'kysely';
import { recomputeCompounded, buildPremiseGraph, type KnownCascade } from '../domain/cascade/index.js';
import { computeProjectStats, observations, scoreProject, sigmaIsKnown, statsDue, subtreeFrontier, type ObservedExperiment, type ReviewShift } from '../domain/scoring/index.js';
import type { ProjectStats, Score } from '../domain/types.js';
import type { Database } from '../db/schema.js';
import { observationCount, saveProjectStats, type Executor, type ProjectRecord } from '../db/projects.repository.js';
import { reproductionsOf, saveScoring, type CascadeState, type ScoringUpdate } from '../db/experiments.repository.js';
import { listScoringRows, scoringRowsByIds, type ScoringRow } from '../db/scoring.repository.js';
import { descendantIds, type SubgraphNode } from '../db/graph.repository.js';
import { cascadeSubgraph, firstPremiseIds, storedCascadeNodes, storedScoresByKey } from '../db/cascade.repository.js';
import { canonicalJson } from './hash.js';
import { reportProgress } from './progress.js';

type Trx = Transaction<Database>;

/*
 * Two paths (SPEC §3, §4). When the statistics are due (no fit yet, σ̂ not measured, the data
 * grew ≥ 10% since the fit, an edit, a config change), σ̂ and the prior are refit from g0 on
 * the whole project and every experiment is rescored: the scores then depend on the data alone
 * (a replayed log ends where a fresh ingest of its last version does, since its edits refit).
 * Otherwise a write rescores under the current statistics only the subtree under the premise
 * of each written commit (a commit's level depends on its premise's cavity, its own runs and
 * its children's runs), and recomputes K of that subtree and everything built on it.
 */

/** A stored row and its reproductions as the scorer sees them. */
export function toObserved(e: ScoringRow, reps: Map<number, ObservedExperiment['reproductions']>): ObservedExperiment {
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

const sameExceptVersion = (a: ProjectStats, b: ProjectStats): boolean => canonicalJson({ ...a, version: 0 }) === canonicalJson({ ...b, version: 0 });

/** The LLM review's shift of Q stored on an experiment, if any. */
function reviewOf(e: ScoringRow): ReviewShift | undefined {
  const review = e.review as { adjustment?: number; reasons?: { code: string; message: string }[] } | null;
  return review && typeof review.adjustment === 'number' ? { adjustment: review.adjustment, reasons: review.reasons ?? [] } : undefined;
}

/** LLM review shifts of Q of the given experiments, by key. */
function reviewsOf(rows: readonly ScoringRow[]): Map<string, ReviewShift> {
  const out = new Map<string, ReviewShift>();
  for (const e of rows) {
    const r = reviewOf(e);
    if (r) out.set(e.key, r);
  }
  return out;
}

/** Score rows whose stored score differs. */
function changedScores(rows: readonly ScoringRow[], scores: ReadonlyMap<string, Score>): { id: number; score: Score }[] {
  return rows.flatMap((e) => {
    const score = scores.get(e.key);
    return !score || canonicalJson(e.score) === canonicalJson(score) ? [] : [{ id: e.id, score }];
  });
}

/** K of the targets from `nodes` (and `known` premises): the cascades that differ from the stored ones, by id. */
function changedCascades(nodes: SubgraphNode[], targets: string[], rows: readonly ScoringRow[], known?: Map<string, KnownCascade>): Map<number, CascadeState> {
  const byKey = new Map(rows.map((e) => [e.key, e]));
  const out = new Map<number, CascadeState>();
  for (const { key, ...cascade } of recomputeCompounded(buildPremiseGraph(nodes), targets, known).values()) {
    const e = byKey.get(key);
    if (e && canonicalJson(e.cascade) !== canonicalJson(cascade)) out.set(e.id, cascade);
  }
  return out;
}

/** The present experiments as cascade nodes, with their new scores (premises outside dropped). */
function cascadeNodesOf(rows: readonly ScoringRow[], scores: ReadonlyMap<string, Score>): SubgraphNode[] {
  const present = new Set(rows.map((e) => e.key));
  return rows.map((e) => {
    const s = scores.get(e.key) ?? e.score;
    return { id: e.id, key: e.key, premises: e.premises.filter((p) => present.has(p)), confidence: s?.value ?? 0, anchored: s?.anchorEligible ?? false, hardGate: s?.hardGate ?? null };
  });
}

/** One update per row whose score or cascade changed. */
function mergeUpdates(scores: { id: number; score: Score }[], cascades: ReadonlyMap<number, CascadeState>): ScoringUpdate[] {
  const out = new Map<number, ScoringUpdate>(scores.map((u) => [u.id, { id: u.id, score: u.score }]));
  for (const [id, cascade] of cascades) out.set(id, { ...out.get(id), id, cascade });
  return [...out.values()];
}

/**
 * Rescores after a write, inside the caller's transaction (SPEC §3, §4): the whole project when
 * the statistics are due (or `forceStats` / `all`), else only what the written experiments
 * (`changedIds`: new experiments, new runs, changed code or review) affect. Only rows whose score
 * or cascade changed are written.
 */
export async function rescore(trx: Trx, project: ProjectRecord, changedIds: number[], opts: { forceStats?: boolean; all?: boolean } = {}): Promise<{ scored: number; cascaded: number }> {
  const count = await observationCount(trx, project.id);
  const repeats = !opts.forceStats && !opts.all && !sigmaIsKnown(project.stats?.sigmaSource, project.stats?.nu) ? await repeatsRun(trx, changedIds) : true;
  if (!opts.forceStats && !opts.all && !statsDue(project.stats, project.statsAtCount, count, repeats)) {
    const done = await rescoreAffected(trx, project, changedIds);
    if (done) return done;
  }
  return rescoreProject(trx, project, count);
}

/** Whether a written experiment now has two runs or more (what can measure σ̂). */
async function repeatsRun(trx: Trx, ids: number[]): Promise<boolean> {
  const rows = await scoringRowsByIds(trx, ids);
  const reps = await reproductionsOf(trx, rows.map((e) => e.id));
  return rows.some((e) => observations(toObserved(e, reps)).length >= 2);
}

/** Refits the statistics on the whole project, rescores every experiment and recomputes K of all. */
async function rescoreProject(trx: Trx, project: ProjectRecord, count: number): Promise<{ scored: number; cascaded: number }> {
  reportProgress('score: load the experiments and reproductions', 0, null, '');
  const all = await listScoringRows(trx, project.id);
  if (all.length === 0) return { scored: 0, cascaded: 0 };
  const reps = await reproductionsOf(trx, all.map((e) => e.id));
  const observed = all.map((e) => toObserved(e, reps));
  const prev = project.stats;
  reportProgress(`score: fit σ̂ and the prior on ${all.length.toLocaleString('en-US')} experiments`, 0, null, '');
  let stats = computeProjectStats({ project: project.config, experiments: observed, previous: prev, refitPrior: true, observationCount: count });
  if (prev && sameExceptVersion(prev, stats)) stats = prev;
  if (stats !== prev || project.statsAtCount !== count) {
    await saveProjectStats(trx, project.id, stats, count);
    project.stats = stats;
    project.statsAtCount = count;
  }
  reportProgress(`score: C of ${all.length.toLocaleString('en-US')} experiments`, 0, null, '');
  const scores = scoreProject({ project: project.config, experiments: observed, stats, reviews: reviewsOf(all) });
  const updates = changedScores(all, scores);
  reportProgress('score: K over the premise graph', 0, null, '');
  const cascades = changedCascades(cascadeNodesOf(all, scores), all.map((e) => e.key), all);
  const writes = mergeUpdates(updates, cascades);
  reportProgress(`score: save ${writes.length.toLocaleString('en-US')} changed scores`, 0, null, '');
  await saveScoring(trx, writes);
  return { scored: updates.length, cascaded: cascades.size };
}

/**
 * Rescores what the written experiments affect under the current statistics: the subtree under
 * each one's first premise (itself when it has none) gets new levels and scores, and K of that
 * subtree and of everything built on it is recomputed. Null when a stored score lacks what the
 * subtree needs (the caller then rescores the whole project).
 */
export async function rescoreAffected(trx: Trx, project: ProjectRecord, changedIds: number[]): Promise<{ scored: number; cascaded: number } | null> {
  const stats = project.stats!;
  const premiseOf = await firstPremiseIds(trx, changedIds);
  const entryIds = new Set([...premiseOf].map(([id, premise]) => premise ?? id));
  if (entryIds.size === 0) return { scored: 0, cascaded: 0 };
  const affectedIds = await descendantIds(trx, [...entryIds]);
  const rows = await scoringRowsByIds(trx, affectedIds);
  // The level subtree: the entries and what stands on them through first premises.
  const entries = new Set(rows.filter((e) => entryIds.has(e.id)).map((e) => e.key));
  const subtree = firstPremiseClosure(rows, entries);
  const top = rows.filter((e) => entries.has(e.key) && (e.premises[0] === undefined || !subtree.has(e.premises[0])));
  const above = await storedScoresByKey(trx, project.id, top.flatMap((e) => e.premises.slice(0, 1)));
  const anchors = await storedScoresByKey(trx, project.id, [...above.values()].flatMap((s) => (s?.chain?.nearestAnchor && !s.anchorEligible ? [s.chain.nearestAnchor] : [])));
  const frontier = subtreeFrontier(
    top.map((e) => ({ key: e.key, premiseKey: e.premises[0] ?? null, score: e.score })),
    (k) => (above.has(k) ? above.get(k) : anchors.has(k) ? anchors.get(k) : undefined),
  );
  if (!frontier) return null;
  const scoredRows = rows.filter((e) => subtree.has(e.key));
  reportProgress(`score: C of ${scoredRows.length.toLocaleString('en-US')} affected experiments`, 0, null, '');
  const reps = await reproductionsOf(trx, scoredRows.map((e) => e.id));
  const observed = scoredRows.map((e) => toObserved(e, reps));
  const scores = scoreProject({ project: project.config, experiments: observed, stats, reviews: reviewsOf(scoredRows), frontier });
  const updates = changedScores(scoredRows, scores);
  await saveScoring(trx, updates);

  // K reads the stored C and anchors of the cascade's nodes, the new ones included.
  reportProgress(`score: K of ${rows.length.toLocaleString('en-US')} experiments`, 0, null, '');
  const input = await cascadeInputs(trx, project.id, rows.map((e) => e.id));
  const cascades = changedCascades(input.nodes, rows.map((e) => e.key), rows, input.known);
  await saveScoring(trx, [...cascades].map(([id, cascade]) => ({ id, cascade })));
  return { scored: updates.length, cascaded: cascades.size };
}

/** The given keys and every row standing on one of them through first premises. */
function firstPremiseClosure(rows: readonly ScoringRow[], keys: ReadonlySet<string>): Set<string> {
  const children = new Map<string, string[]>();
  for (const e of rows) {
    const p = e.premises[0];
    if (p === undefined) continue;
    const list = children.get(p);
    if (list) list.push(e.key);
    else children.set(p, [e.key]);
  }
  const out = new Set(keys);
  const stack = [...keys];
  while (stack.length > 0) {
    for (const c of children.get(stack.pop()!) ?? []) {
      if (out.has(c)) continue;
      out.add(c);
      stack.push(c);
    }
  }
  return out;
}

/**
 * What K of the affected experiments is recomputed from: the affected nodes and their premises'
 * stored cascades where that suffices, else their whole cascades up to the anchors.
 */
async function cascadeInputs(db: Executor, projectId: number, affected: number[]): Promise<{ nodes: SubgraphNode[]; known?: Map<string, KnownCascade> }> {
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
  const nodes = [...own.map((n) => ({ ...n, premises: n.premises.filter((p) => loaded.has(p)) })), ...frontier.map((p) => ({ ...p, premises: [] }))];
  return { nodes, known };
}
