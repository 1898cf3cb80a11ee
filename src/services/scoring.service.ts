import type { Transaction } from 'kysely';
import { recomputeCompounded, buildPremiseGraph } from '../domain/cascade/index.js';
import { computeProjectStats, scoreProject, type ObservedExperiment, type ReviewShift } from '../domain/scoring/index.js';
import type { ProjectStats } from '../domain/types.js';
import type { Database } from '../db/schema.js';
import { saveProjectStats, type ProjectRecord } from '../db/projects.repository.js';
import { listAllExperiments, reproductionsOf, saveCascade, saveScores, type ExperimentRecord } from '../db/experiments.repository.js';
import { projectCascadeNodes } from '../db/graph.repository.js';
import { canonicalJson } from './hash.js';
import { reportProgress } from './progress.js';

type Trx = Transaction<Database>;

/**
 * σ̂, the effect prior and the levels are recomputed on every write, the prior by EM from g0:
 * scores then depend on the project's data alone, not on the order it arrived in (issue 15 §1:
 * replaying a log's versions ends where a fresh ingest of the last one does). SPEC §3 allows
 * refitting only on 10% growth; that saving is not taken (docs/benchmarks.md shows the cost).
 */

function toObserved(e: ExperimentRecord, reps: Map<number, ObservedExperiment['reproductions']>): ObservedExperiment {
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

/** Experiments + reproductions of the project: both counted on its row (next_seq, reproduction_count). */
async function observationCount(trx: Trx, projectId: number): Promise<number> {
  const r = await trx.selectFrom('projects').select((eb) => eb('next_seq', '+', eb.ref('reproduction_count')).as('n')).where('id', '=', projectId).executeTakeFirst();
  return Number(r?.n ?? 0);
}

const sameExceptVersion = (a: ProjectStats, b: ProjectStats): boolean => canonicalJson({ ...a, version: 0 }) === canonicalJson({ ...b, version: 0 });

/** The LLM review's shift of Q stored on an experiment, if any. */
function reviewOf(e: ExperimentRecord): ReviewShift | undefined {
  const review = e.review as { adjustment?: number; reasons?: { code: string; message: string }[] } | null;
  return review && typeof review.adjustment === 'number' ? { adjustment: review.adjustment, reasons: review.reasons ?? [] } : undefined;
}

/**
 * Rescores the project after a write, inside the caller's transaction (SPEC §3, §4): σ̂ and the
 * chain posterior of every commit (a new run of one commit moves the level of its premise and of
 * everything built on it), the prior when due (or `forceStats`), then C of every experiment and
 * K over the whole premise DAG. Only rows whose score or cascade changed are written.
 * `changedIds` is kept for callers; the chain posterior makes every write a whole-project one.
 */
export async function rescore(trx: Trx, project: ProjectRecord, changedIds: number[], opts: { forceStats?: boolean; all?: boolean } = {}): Promise<{ scored: number; cascaded: number }> {
  void changedIds;
  reportProgress('score: load the experiments and reproductions', 0, null, '');
  const all = await listAllExperiments(trx, project.id);
  if (all.length === 0) return { scored: 0, cascaded: 0 };
  const reps = await reproductionsOf(trx, all.map((e) => e.id));
  const observed = all.map((e) => toObserved(e, reps));
  const count = await observationCount(trx, project.id);
  const prev = project.stats;
  void opts.forceStats; // every write refits (see above)
  reportProgress(`score: fit σ̂ and the prior on ${all.length.toLocaleString('en-US')} experiments`, 0, null, '');
  let stats = computeProjectStats({ project: project.config, experiments: observed, previous: prev, refitPrior: true, observationCount: count });
  if (prev && sameExceptVersion(prev, stats)) stats = prev;
  else {
    await saveProjectStats(trx, project.id, stats, count);
    project.stats = stats;
    project.statsAtCount = count;
  }
  const reviews = new Map<string, ReviewShift>();
  for (const e of all) {
    const r = reviewOf(e);
    if (r) reviews.set(e.key, r);
  }
  reportProgress(`score: C of ${all.length.toLocaleString('en-US')} experiments`, 0, null, '');
  const scores = scoreProject({ project: project.config, experiments: observed, stats, reviews });
  const updates = all.flatMap((e) => {
    const score = scores.get(e.key)!;
    return canonicalJson(e.score) === canonicalJson(score) ? [] : [{ id: e.id, score }];
  });
  reportProgress(`score: save ${updates.length.toLocaleString('en-US')} changed scores`, 0, null, '');
  await saveScores(trx, updates);

  reportProgress('score: K over the premise graph', 0, null, '');
  const nodes = await projectCascadeNodes(trx, project.id);
  const graph = buildPremiseGraph(nodes);
  const results = recomputeCompounded(graph, nodes.map((n) => n.key));
  const byKey = new Map(all.map((e) => [e.key, e]));
  const cascades = [...results.values()].flatMap(({ key, ...cascade }) => {
    const e = byKey.get(key);
    return !e || canonicalJson(e.cascade) === canonicalJson(cascade) ? [] : [{ id: e.id, cascade }];
  });
  await saveCascade(trx, cascades);
  return { scored: updates.length, cascaded: cascades.length };
}
