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
import { canonicalJson, stableHash } from './hash.js';
import { rescore } from './scoring.service.js';
import { enqueueReviews } from './review.service.js';
import { getProject } from './projects.service.js';
import { experimentOut } from './views.js';
import type { Deps } from './deps.js';
import { reportProgress } from './progress.js';

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

/**
 * Stores experiments (one request = one transaction): same content again is a no-op; a key
 * stored with other content gets a new version (content, premises and edges replaced, history
 * kept, SPEC §7); premises must exist (in the batch or stored in the latest log); the graph stays
 * a DAG. With `source: 'tsv', complete: true` the batch is the project's whole results.tsv: log
 * rows it no longer holds go absent, absent rows it holds come back. Scores and K of everything
 * affected are updated before commit.
 */
const WRITE_SLICE = 10_000;

export async function upsertExperiments(deps: Deps, projectName: string, inputs: ExperimentInput[], opts: UpsertOptions = {}): Promise<UpsertResult> {
  const source = opts.source ?? 'json';
  const writer = opts.writer ?? { tokenId: null, caller: null };
  const work = async (trx: Trx, project: ProjectRecord): Promise<UpsertResult> => {
    const errors: ErrorDetail[] = [];
    inputs.forEach((input, index) => {
      if (isReservedKey(input.key)) errors.push({ pointer: `/${index}/key`, message: `'${input.key}' is reserved (an Object.prototype member); use another key` });
      (input.premises ?? []).forEach((p, j) => {
        if (isReservedKey(p)) errors.push({ pointer: `/${index}/premises/${j}`, message: `'${p}' is reserved (an Object.prototype member)` });
      });
    });
    if (errors.length) throw new DomainError('validation_failed', 'reserved experiment keys', { errors });
    const batch = new Map<string, { input: ExperimentInput; hash: string; index: number }>();
    inputs.forEach((input, index) => {
      const hash = stableHash(input);
      const prev = batch.get(input.key);
      if (prev && prev.hash !== hash) {
        errors.push({ pointer: `/${index}/key`, message: `key '${input.key}' appears twice in the batch with different content (first at /${prev.index})` });
      } else if (!prev) batch.set(input.key, { input, hash, index });
    });
    if (errors.length) throw new DomainError('conflict', 'conflicting duplicate keys in the batch', { errors });

    const allKeys = new Set<string>(batch.keys());
    for (const { input } of batch.values()) for (const p of input.premises ?? []) allKeys.add(p);
    reportProgress(`compare ${batch.size.toLocaleString('en-US')} rows with the stored experiments`, 0, null, '');
    const stored = await findKeys(trx, project.id, [...allKeys]);

    type Row = { input: ExperimentInput; hash: string; index: number };
    const fresh: Row[] = [];
    const changed: (Row & { id: number; version: number })[] = [];
    const restored: number[] = [];
    const items: UpsertResult['items'] = [];
    for (const b of batch.values()) {
      const s = stored.get(b.input.key);
      if (!s) {
        fresh.push(b);
        items.push({ key: b.input.key, created: true, version: 1 });
      } else if (s.contentHash !== b.hash) {
        changed.push({ ...b, id: s.id, version: s.version + 1 });
        items.push({ key: b.input.key, created: false, version: s.version + 1 });
      } else {
        if (s.absent && source === 'tsv') restored.push(s.id);
        items.push({ key: b.input.key, created: false });
      }
    }

    // Premises of new and changed rows: in the batch, or stored and in the latest log.
    const unknown: ErrorDetail[] = [];
    const newEdges: { from: string; to: string }[] = [];
    for (const b of [...fresh, ...changed]) {
      (b.input.premises ?? []).forEach((p, j) => {
        const s = stored.get(p);
        if (!batch.has(p) && (!s || s.absent)) {
          unknown.push({ pointer: `/${b.index}/premises/${j}`, message: s ? `premise '${p}' is absent from the latest results.tsv` : `premise '${p}' is not a known experiment` });
        }
        newEdges.push({ from: p, to: b.input.key });
      });
    }
    if (unknown.length) throw new DomainError('unknown_premise', 'premise not found', { errors: unknown });
    const before = new Map((await experimentsByIds(trx, changed.map((c) => c.id))).map((r) => [r.id, r]));
    const moved = changed.filter((c) => canonicalJson(before.get(c.id)!.premises) !== canonicalJson(c.input.premises ?? []));
    // With only new experiments (which only gain parents) a cycle can only run through the batch.
    const cycle = moved.length === 0 ? cycleInEdges(newEdges) : null;
    if (cycle) throw new DomainError('conflict_cycle', `premises would close a cycle: ${cycle.join(' → ')}`, { extra: { cycle } });

    const ids = new Map<string, number>();
    const writes = fresh.length + changed.length;
    if (writes > 0) reportProgress('write', 0, writes, 'experiments');
    let seq0: number | undefined;
    if (fresh.length > 0) {
      seq0 = await reserveSeq(trx, project.id, fresh.length);
      // In slices so that an in-process caller sees the count move (one statement per 2,000 rows either way).
      for (let i = 0; i < fresh.length; i += WRITE_SLICE) {
        const slice = fresh.slice(i, i + WRITE_SLICE).map((b, j) => ({ input: b.input, seq: seq0! + i + j, contentHash: b.hash }));
        for (const [k, id] of await insertExperiments(trx, project.id, slice, source)) ids.set(k, id);
        reportProgress('write', i + slice.length, writes, 'experiments');
      }
    }
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
    await deleteEdgesOf(trx, moved.map((c) => c.id));
    const edgeRows: EdgeRow[] = [];
    for (const b of [...fresh, ...moved]) {
      (b.input.premises ?? []).forEach((p, position) => edgeRows.push({ parentId: idOf(p), childId: idOf(b.input.key), position }));
    }
    await insertEdges(trx, project.id, edgeRows);
    if (moved.length > 0) await assertAcyclic(trx, [...moved.map((c) => c.id), ...ids.values()]);

    if (source === 'tsv' && opts.complete) reportProgress('mark rows the log lost absent', 0, null, '');
    const absent = source === 'tsv' && opts.complete ? await markAbsentExcept(trx, project.id, [...batch.keys()], seq0) : [];
    const touched = [...ids.values(), ...changed.map((c) => c.id), ...restored, ...absent];
    // An edit (not growth) changes what the statistics were fitted on: refit them now.
    if (touched.length > 0) await rescore(trx, project, touched, changed.length + restored.length + absent.length > 0 ? { forceStats: true } : {});
    // LLM review (SPEC §9) runs later, off the request path; the job commits with the data.
    await enqueueReviews(deps, trx, [...fresh.map((b) => ({ id: idOf(b.input.key), input: b.input })), ...changed.filter(codeChanged).map((c) => ({ id: c.id, input: c.input }))]);
    return {
      created: fresh.length,
      unchanged: items.length - fresh.length - changed.length,
      updated: changed.length,
      ...(source === 'tsv' ? { absent: absent.length, restored: restored.length } : {}),
      items,
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
