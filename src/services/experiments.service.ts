import type { Transaction } from 'kysely';
import { DomainError, type ErrorDetail } from '../domain/errors.js';
import { isReservedKey } from '../domain/keys.js';
import type { ExperimentInput, ExperimentStatus } from '../domain/types.js';
import type { Database } from '../db/schema.js';
import { lockProject, reserveSeq, type ProjectRecord } from '../db/projects.repository.js';
import {
  appendPremises,
  findKeys,
  getExperimentByKey,
  insertEdges,
  insertExperiments,
  listExperiments,
  reproductionsOf,
  type EdgeRow,
} from '../db/experiments.repository.js';
import { childIds, descendantIds, edgesAmong } from '../db/graph.repository.js';
import { stableHash } from './hash.js';
import { rescore } from './scoring.service.js';
import { enqueueReviews } from './review.service.js';
import { getProject } from './projects.service.js';
import { experimentOut } from './views.js';
import type { Deps } from './deps.js';

type Trx = Transaction<Database>;

export interface UpsertResult {
  created: number;
  unchanged: number;
  /** Keeps re-marked discard/crash by the loop after a revert. */
  amended?: number;
  items: { key: string; created: boolean }[];
}

/** Runs fn in a transaction holding the project's row lock; 404 when the project is missing. */
export async function inProjectTx<T>(deps: Deps, name: string, fn: (trx: Trx, p: ProjectRecord) => Promise<T>): Promise<T> {
  const out = await deps.db.db.transaction().execute(async (trx) => {
    const project = await lockProject(trx, name);
    if (!project) throw new DomainError('not_found', `no project '${name}'`);
    return { value: await fn(trx, project), projectId: project.id };
  });
  deps.onScoresChanged?.(out.projectId);
  return out.value;
}

/** Finds a cycle among directed edges parent→child (DFS, iterative); returns keys along it. */
function findCycleIn(edges: { from: string; to: string }[]): string[] | null {
  const out = new Map<string, string[]>();
  for (const e of edges) out.set(e.from, [...(out.get(e.from) ?? []), e.to]);
  const state = new Map<string, 1 | 2>();
  for (const start of out.keys()) {
    if (state.has(start)) continue;
    const stack: { node: string; i: number }[] = [{ node: start, i: 0 }];
    const path: string[] = [start];
    state.set(start, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const next = (out.get(top.node) ?? [])[top.i++];
      if (next === undefined) {
        state.set(top.node, 2);
        stack.pop();
        path.pop();
      } else if (state.get(next) === 1) {
        return [...path.slice(path.indexOf(next)), next];
      } else if (!state.has(next)) {
        state.set(next, 1);
        stack.push({ node: next, i: 0 });
        path.push(next);
      }
    }
  }
  return null;
}

/**
 * Stores experiments (one request = one transaction): same content again is a no-op, a key
 * reused with other content is a conflict, premises must exist (in the batch or stored), the
 * graph stays a DAG. Scores and K of everything affected are updated before commit.
 */
export async function upsertExperiments(deps: Deps, projectName: string, inputs: ExperimentInput[], trxIn?: Trx): Promise<UpsertResult> {
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
    const stored = await findKeys(trx, project.id, [...allKeys]);

    const fresh: { input: ExperimentInput; hash: string; index: number }[] = [];
    const amended: { id: number; status: ExperimentStatus; hash: string }[] = [];
    const items: UpsertResult['items'] = [];
    for (const b of batch.values()) {
      const s = stored.get(b.input.key);
      if (s) {
        if (s.contentHash !== b.hash) {
          // The one change a loop makes to its own log: a keep it reverted (git reset) is
          // re-marked discard/crash. Allowed while nothing is built on it; anything else conflicts.
          const revert = s.status === 'keep' && (b.input.status === 'discard' || b.input.status === 'crash') && stableHash({ ...b.input, status: s.status }) === s.contentHash;
          if (revert && (await childIds(trx, [s.id])).length === 0) amended.push({ id: s.id, status: b.input.status, hash: b.hash });
          else errors.push({ pointer: `/${b.index}`, message: `experiment '${b.input.key}' already exists with different content${revert ? ' (it cannot be re-marked: other experiments are built on it)' : ''}` });
        }
        items.push({ key: b.input.key, created: false });
      } else {
        fresh.push(b);
        items.push({ key: b.input.key, created: true });
      }
    }
    if (errors.length) throw new DomainError('conflict', 'experiment key already used with other content', { errors });

    const unknown: ErrorDetail[] = [];
    const newEdges: { from: string; to: string }[] = [];
    for (const b of fresh) {
      (b.input.premises ?? []).forEach((p, j) => {
        if (!batch.has(p) && !stored.has(p)) {
          unknown.push({ pointer: `/${b.index}/premises/${j}`, message: `premise '${p}' is not a known experiment` });
        }
        newEdges.push({ from: p, to: b.input.key });
      });
    }
    if (unknown.length) throw new DomainError('unknown_premise', 'premise not found', { errors: unknown });
    // New experiments only gain parents, so a cycle can only run through the batch itself.
    const cycle = findCycleIn(newEdges);
    if (cycle) {
      throw new DomainError('conflict_cycle', `premises would close a cycle: ${cycle.join(' → ')}`, { extra: { cycle } });
    }
    for (const a of amended) {
      await trx.updateTable('experiments').set({ status: a.status, content_hash: a.hash, updated_at: new Date() }).where('id', '=', a.id).execute();
    }
    if (fresh.length === 0) {
      if (amended.length > 0) await rescore(trx, project, amended.map((a) => a.id));
      return { created: 0, unchanged: items.length - amended.length, ...(amended.length ? { amended: amended.length } : {}), items };
    }

    const seq0 = await reserveSeq(trx, project.id, fresh.length);
    const ids = await insertExperiments(
      trx,
      project.id,
      fresh.map((b, i) => ({ input: b.input, seq: seq0 + i, contentHash: b.hash })),
    );
    const idOf = (k: string) => ids.get(k) ?? stored.get(k)!.id;
    const edgeRows: EdgeRow[] = [];
    for (const b of fresh) {
      (b.input.premises ?? []).forEach((p, position) => edgeRows.push({ parentId: idOf(p), childId: idOf(b.input.key), position }));
    }
    await insertEdges(trx, project.id, edgeRows);
    await rescore(trx, project, [...ids.values(), ...amended.map((a) => a.id)]);
    // LLM review (SPEC §9) runs later, off the request path; the job commits with the data.
    await enqueueReviews(deps, trx, fresh.map((b) => ({ id: idOf(b.input.key), input: b.input })));
    return { created: fresh.length, unchanged: items.length - fresh.length - amended.length, ...(amended.length ? { amended: amended.length } : {}), items };
  };
  if (trxIn) {
    const project = await lockProject(trxIn, projectName);
    if (!project) throw new DomainError('not_found', `no project '${projectName}'`);
    return work(trxIn, project);
  }
  return inProjectTx(deps, projectName, work);
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
    const keyOf = new Map<number, string>();
    const reachRows = await trx.selectFrom('experiments').select(['id', 'key']).where('id', 'in', [...new Set([...reach, ...fromIds])]).execute();
    for (const r of reachRows) keyOf.set(r.id, r.key);
    const existingSet = new Set(existing.map((e) => `${e.parentId}>${e.childId}`));
    const graphEdges = existing.map((e) => ({ from: keyOf.get(e.parentId)!, to: keyOf.get(e.childId)! }));
    const adding = edges.filter((e, i) => {
      const k = `${stored.get(e.from)!.id}>${stored.get(e.to)!.id}`;
      return !existingSet.has(k) && edges.findIndex((f) => f.from === e.from && f.to === e.to) === i;
    });
    const cycle = findCycleIn([...graphEdges, ...adding]);
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
