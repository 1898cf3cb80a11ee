import type { Transaction } from 'kysely';
import { DomainError, type ErrorDetail } from '../domain/errors.js';
import { isReservedKey } from '../domain/keys.js';
import { cycleInEdges } from '../domain/cascade/index.js';
import type { ExperimentInput, ExperimentStatus } from '../domain/types.js';
import type { Database } from '../db/schema.js';
import { inProjectTx } from './project-tx.js';
import { lockProject, reserveSeq, type ProjectRecord } from '../db/projects.repository.js';
import {
  appendPremises,
  clearAbsent,
  contentFields,
  deleteEdgesOf,
  experimentsByIds,
  findKeys,
  getExperimentByKey,
  insertEdges,
  insertExperiments,
  insertVersions,
  listExperiments,
  listVersions,
  markAbsentExcept,
  reproductionsOf,
  updateExperiments,
  type EdgeRow,
  type ExperimentRecord,
} from '../db/experiments.repository.js';
import { descendantIds, edgesAmong, keysByIds } from '../db/graph.repository.js';
import { canonicalJson } from './hash.js';
import { rescore } from './scoring.service.js';
import { enqueueReviews } from './review.service.js';
import { getProject } from './projects.service.js';
import { experimentOut } from './views.js';
import type { Deps } from './deps.js';
import { reportProgress } from './progress.js';
import { keyedBatch, keysNamed, planUpsert, premiseEdges, type BatchRow, type UpsertPlan } from './upsert-plan.js';

type Trx = Transaction<Database>;

export interface UpsertResult {
  created: number;
  unchanged: number;
  /** Stored experiments whose content changed: each got a new version. */
  updated: number;
  /** results.tsv rows a later file no longer holds, marked absent by this ingest. */
  absent?: number;
  /** Absent rows that this file holds again (same content: no new version). */
  restored?: number;
  items: { key: string; created: boolean; version?: number }[];
}

/** Who wrote a version (SPEC §7: history says by which token). */
export interface Writer {
  tokenId: string | null;
  caller: string | null;
}

export interface UpsertOptions {
  /** 'tsv': the rows are a project's results.tsv; with `complete`, stored log rows missing from it go absent. */
  source?: 'tsv' | 'json';
  complete?: boolean;
  writer?: Writer;
  trx?: Trx;
}

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Paths below `prefix` where two objects differ, descending `depth` levels into plain objects. */
function diffPaths(a: Record<string, unknown>, b: Record<string, unknown>, prefix: string, depth: number): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort().flatMap((k) => {
    if (canonicalJson(a[k]) === canonicalJson(b[k])) return [];
    const x = a[k];
    const y = b[k];
    return depth > 0 && isPlain(x) && isPlain(y) ? diffPaths(x, y, `${prefix}${k}.`, depth - 1) : [`${prefix}${k}`];
  });
}

/**
 * The fields of a new version that differ from the stored one; metadata per key, and per
 * column for a results.tsv's extra columns (`metadata.columns.<name>`).
 */
export function changedFields(before: ExperimentInput, after: ExperimentInput): string[] {
  const { metadata: ma, ...a } = contentFields(before);
  const { metadata: mb, ...b } = contentFields(after);
  return [...diffPaths(a, b, '', 0), ...diffPaths(ma as Record<string, unknown>, mb as Record<string, unknown>, 'metadata.', 1)];
}

/** The stored content of an experiment as an input (what its latest version holds). */
function recordInput(r: ExperimentRecord): ExperimentInput {
  const { key, status, value, baseline, replicates, premises, code, description, hypothesis, resources, metadata } = r;
  return { key, status, value, baseline, replicates, premises, code, description, hypothesis, resources, metadata };
}

const WRITE_SLICE = 10_000;

/** Inserts the new rows (seqs reserved in one step, in slices an in-process caller sees move): their ids by key. */
async function insertFresh(trx: Trx, project: ProjectRecord, fresh: UpsertPlan['fresh'], source: 'tsv' | 'json', writes: number): Promise<{ ids: Map<string, number>; seq0?: number }> {
  const ids = new Map<string, number>();
  if (fresh.length === 0) return { ids };
  const seq0 = await reserveSeq(trx, project.id, fresh.length);
  for (let i = 0; i < fresh.length; i += WRITE_SLICE) {
    const slice = fresh.slice(i, i + WRITE_SLICE).map((b, j) => ({ input: b.input, seq: seq0 + i + j, contentHash: b.hash }));
    for (const [k, id] of await insertExperiments(trx, project.id, slice, source)) ids.set(k, id);
    reportProgress('write', i + slice.length, writes, 'experiments');
  }
  return { ids, seq0 };
}

/** Replaces the premise edges of moved rows and writes those of new ones; a moved premise must leave the graph a DAG. */
async function writeEdges(trx: Trx, project: ProjectRecord, rows: BatchRow[], moved: number[], idOf: (key: string) => number, newIds: Iterable<number>): Promise<void> {
  await deleteEdgesOf(trx, moved);
  const edgeRows: EdgeRow[] = [];
  for (const b of rows) (b.input.premises ?? []).forEach((p, position) => edgeRows.push({ parentId: idOf(p), childId: idOf(b.input.key), position }));
  await insertEdges(trx, project.id, edgeRows);
  if (moved.length > 0) await assertAcyclic(trx, [...moved, ...newIds]);
}

/**
 * Stores experiments (one request = one transaction): same content again is a no-op; a key
 * stored with other content gets a new version (content, premises and edges replaced, history
 * kept, SPEC §7); premises must exist (in the batch or stored in the latest log); the graph stays
 * a DAG. With `source: 'tsv', complete: true` the batch is the project's whole results.tsv: log
 * rows it no longer holds go absent, absent rows it holds come back. Scores and K of everything
 * affected are updated before commit. With `trx`, runs in the caller's transaction (an ingest
 * that records its state with the rows).
 */
export async function upsertExperiments(deps: Deps, projectName: string, inputs: ExperimentInput[], opts: UpsertOptions = {}): Promise<UpsertResult> {
  const source = opts.source ?? 'json';
  const writer = opts.writer ?? { tokenId: null, caller: null };
  const work = async (trx: Trx, project: ProjectRecord): Promise<UpsertResult> => {
    const batch = keyedBatch(inputs);
    reportProgress(`compare ${batch.size.toLocaleString('en-US')} rows with the stored experiments`, 0, null, '');
    const stored = await findKeys(trx, project.id, keysNamed(batch));
    const plan = planUpsert(batch, stored, source);
    const { fresh, changed, restored } = plan;
    const newEdges = premiseEdges(plan, batch, stored);
    const before = new Map((await experimentsByIds(trx, changed.map((c) => c.id))).map((r) => [r.id, r]));
    const moved = changed.filter((c) => canonicalJson(before.get(c.id)!.premises) !== canonicalJson(c.input.premises ?? []));
    // With only new experiments (which only gain parents) a cycle can only run through the batch.
    const cycle = moved.length === 0 ? cycleInEdges(newEdges) : null;
    if (cycle) throw new DomainError('conflict_cycle', `premises would close a cycle: ${cycle.join(' → ')}`, { extra: { cycle } });

    const writes = fresh.length + changed.length;
    if (writes > 0) reportProgress('write', 0, writes, 'experiments');
    const { ids, seq0 } = await insertFresh(trx, project, fresh, source, writes);
    const codeChanged = (c: (typeof changed)[number]) => canonicalJson(before.get(c.id)!.code ?? null) !== canonicalJson(c.input.code ?? null);
    await updateExperiments(trx, changed.map((c) => ({ id: c.id, input: c.input, contentHash: c.hash, codeChanged: codeChanged(c) })), source);
    if (writes > 0) reportProgress(`write ${writes.toLocaleString('en-US')} versions`, 0, null, '');
    await clearAbsent(trx, restored);
    await insertVersions(trx, [
      ...fresh.map((b) => ({ experimentId: ids.get(b.input.key)!, version: 1, contentHash: b.hash, content: b.input, changed: [], ...writer })),
      ...changed.map((c) => ({ experimentId: c.id, version: c.version, contentHash: c.hash, content: c.input, changed: changedFields(recordInput(before.get(c.id)!), c.input), ...writer })),
    ]);

    const idOf = (k: string) => ids.get(k) ?? stored.get(k)!.id;
    if (writes > 0) reportProgress('write premise edges', 0, null, '');
    await writeEdges(trx, project, [...fresh, ...moved], moved.map((c) => c.id), idOf, ids.values());

    if (source === 'tsv' && opts.complete) reportProgress('mark rows the log lost absent', 0, null, '');
    const absent = source === 'tsv' && opts.complete ? await markAbsentExcept(trx, project.id, [...batch.keys()], seq0) : [];
    const touched = [...ids.values(), ...changed.map((c) => c.id), ...restored, ...absent];
    // An edit (not growth) changes what the statistics were fitted on: refit them now.
    if (touched.length > 0) await rescore(trx, project, touched, changed.length + restored.length + absent.length > 0 ? { forceStats: true } : {});
    // LLM review (SPEC §9) runs later, off the request path; the job commits with the data.
    await enqueueReviews(deps, trx, [...fresh.map((b) => ({ id: idOf(b.input.key), input: b.input })), ...changed.filter(codeChanged).map((c) => ({ id: c.id, input: c.input }))]);
    return {
      created: fresh.length,
      unchanged: plan.items.length - fresh.length - changed.length,
      updated: changed.length,
      ...(source === 'tsv' ? { absent: absent.length, restored: restored.length } : {}),
      items: plan.items,
    };
  };
  if (opts.trx) {
    const project = await lockProject(opts.trx, projectName);
    if (!project) throw new DomainError('not_found', `no project '${projectName}'`);
    return work(opts.trx, project);
  }
  const res = await inProjectTx(deps, projectName, work);
  // Counted once committed (metrics: ecv_ingest_rows_total).
  for (const outcome of ['created', 'updated', 'unchanged'] as const) deps.metrics.ingestRows(source, outcome, res[outcome]);
  return res;
}

/**
 * After premises of stored experiments were replaced: a cycle runs through a replaced or new
 * edge, so it lies among the descendants of those edges' children (checked in the final graph).
 */
async function assertAcyclic(trx: Trx, childIdsOfNewEdges: number[]): Promise<void> {
  const reach = await descendantIds(trx, childIdsOfNewEdges);
  const edges = await edgesAmong(trx, reach);
  const keyOf = await keysByIds(trx, reach);
  const cycle = cycleInEdges(edges.map((e) => ({ from: keyOf.get(e.parentId)!, to: keyOf.get(e.childId)! })));
  if (cycle) throw new DomainError('conflict_cycle', `premises would close a cycle: ${cycle.join(' → ')}`, { extra: { cycle } });
}

/**
 * Adds premise edges between stored experiments. An edge already present is a no-op; one that
 * would close a cycle is rejected with the cycle path (nothing written).
 */
export async function addEdges(deps: Deps, projectName: string, edges: { from: string; to: string }[]): Promise<{ added: number; unchanged: number }> {
  return inProjectTx(deps, projectName, async (trx, project) => {
    const reserved = edges.flatMap((e, i) => [e.from, e.to].filter(isReservedKey).map((k) => ({ pointer: `/edges/${i}`, message: `'${k}' is reserved (an Object.prototype member)` })));
    if (reserved.length) throw new DomainError('validation_failed', 'reserved experiment keys', { errors: reserved });
    const keys = [...new Set(edges.flatMap((e) => [e.from, e.to]))];
    const stored = await findKeys(trx, project.id, keys);
    const unknown: ErrorDetail[] = [];
    edges.forEach((e, i) => {
      if (!stored.has(e.from)) unknown.push({ pointer: `/edges/${i}/from`, message: `'${e.from}' is not a known experiment` });
      if (!stored.has(e.to)) unknown.push({ pointer: `/edges/${i}/to`, message: `'${e.to}' is not a known experiment` });
    });
    if (unknown.length) throw new DomainError('unknown_premise', 'edge endpoint not found', { errors: unknown });

    // Everything reachable from the new edges' children, with the edges among it: a cycle through
    // a new edge A→B needs a path B ⇝ A, and all such paths live in this subgraph.
    const toIds = [...new Set(edges.map((e) => stored.get(e.to)!.id))];
    const reach = await descendantIds(trx, toIds);
    const fromIds = edges.map((e) => stored.get(e.from)!.id);
    const existing = await edgesAmong(trx, [...new Set([...reach, ...fromIds])]);
    const keyOf = await keysByIds(trx, [...new Set([...reach, ...fromIds])]);
    const existingSet = new Set(existing.map((e) => `${e.parentId}>${e.childId}`));
    const graphEdges = existing.map((e) => ({ from: keyOf.get(e.parentId)!, to: keyOf.get(e.childId)! }));
    const adding = edges.filter((e, i) => {
      const k = `${stored.get(e.from)!.id}>${stored.get(e.to)!.id}`;
      return !existingSet.has(k) && edges.findIndex((f) => f.from === e.from && f.to === e.to) === i;
    });
    const cycle = cycleInEdges([...graphEdges, ...adding]);
    if (cycle) throw new DomainError('conflict_cycle', `edge would close a cycle: ${cycle.join(' → ')}`, { extra: { cycle } });
    if (adding.length === 0) return { added: 0, unchanged: edges.length };

    const byChild = new Map<string, string[]>();
    for (const e of adding) byChild.set(e.to, [...(byChild.get(e.to) ?? []), e.from]);
    const rows: EdgeRow[] = [];
    for (const [child, parents] of byChild) {
      const current = await getExperimentByKey(trx, project.id, child);
      parents.forEach((p, j) => rows.push({ parentId: stored.get(p)!.id, childId: stored.get(child)!.id, position: (current?.premises.length ?? 0) + j }));
      await appendPremises(trx, stored.get(child)!.id, parents);
    }
    await insertEdges(trx, project.id, rows);
    await rescore(trx, project, [...byChild.keys()].map((k) => stored.get(k)!.id));
    return { added: adding.length, unchanged: edges.length - adding.length };
  });
}

export async function getExperiment(deps: Deps, projectName: string, key: string) {
  const project = await getProject(deps, projectName);
  const e = await getExperimentByKey(deps.db.db, project.id, key);
  if (!e) throw new DomainError('not_found', `no experiment '${key}' in project '${projectName}'`);
  const reps = await reproductionsOf(deps.db.db, [e.id]);
  return experimentOut(e, reps.get(e.id) ?? []);
}

export async function listProjectExperiments(deps: Deps, projectName: string, f: { status?: ExperimentStatus[]; after?: number; limit: number }) {
  const project = await getProject(deps, projectName);
  const rows = await listExperiments(deps.db.db, project.id, { status: f.status, afterSeq: f.after, limit: f.limit });
  const items = rows.map((e) => experimentOut(e));
  return { items, next: rows.length === f.limit ? rows[rows.length - 1].seq : null };
}

/** An experiment's versions, oldest first (SPEC §7: when, by which token, what changed). */
export async function experimentVersions(deps: Deps, projectName: string, key: string) {
  const project = await getProject(deps, projectName);
  const e = await getExperimentByKey(deps.db.db, project.id, key);
  if (!e) throw new DomainError('not_found', `no experiment '${key}' in project '${projectName}'`);
  const rows = await listVersions(deps.db.db, e.id);
  return {
    key: e.key,
    version: e.version,
    absent: e.absent,
    items: rows.map((r) => ({ version: r.version, createdAt: r.createdAt.toISOString(), tokenId: r.tokenId, caller: r.caller, changed: r.changed, contentHash: r.contentHash, content: r.content })),
  };
}
