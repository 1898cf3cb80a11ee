/**
 * The pure half of storing a batch of experiments (SPEC §7): the batch checked and keyed, each
 * row classified against what is stored (new, changed, back from absent, unchanged), and the
 * premise edges of what will be written, checked against the batch and the latest log. The
 * service does the reads and writes around these (`upsertExperiments`).
 */
import { DomainError, type ErrorDetail } from '../domain/errors.js';
import { isReservedKey } from '../domain/keys.js';
import type { ExperimentInput } from '../domain/types.js';
import type { StoredKey } from '../db/experiments.repository.js';
import { stableHash } from './hash.js';

/** A row of the batch: its input, content hash and position in the request (for pointers). */
export interface BatchRow {
  input: ExperimentInput;
  hash: string;
  index: number;
}

/** What a batch does to the stored experiments. */
export interface UpsertPlan {
  fresh: BatchRow[];
  changed: (BatchRow & { id: number; version: number })[];
  /** Ids of absent rows the batch (a results.tsv) holds again, unchanged. */
  restored: number[];
  items: { key: string; created: boolean; version?: number }[];
}

/**
 * The batch by key: reserved keys are a 400 (`validation_failed`), a key given twice with other
 * content a 409 (`conflict`), each with every offending pointer; the same row twice counts once.
 */
export function keyedBatch(inputs: readonly ExperimentInput[]): Map<string, BatchRow> {
  const errors: ErrorDetail[] = [];
  inputs.forEach((input, index) => {
    if (isReservedKey(input.key)) errors.push({ pointer: `/${index}/key`, message: `'${input.key}' is reserved (an Object.prototype member); use another key` });
    (input.premises ?? []).forEach((p, j) => {
      if (isReservedKey(p)) errors.push({ pointer: `/${index}/premises/${j}`, message: `'${p}' is reserved (an Object.prototype member)` });
    });
  });
  if (errors.length) throw new DomainError('validation_failed', 'reserved experiment keys', { errors });
  const batch = new Map<string, BatchRow>();
  inputs.forEach((input, index) => {
    const hash = stableHash(input);
    const prev = batch.get(input.key);
    if (prev && prev.hash !== hash) {
      errors.push({ pointer: `/${index}/key`, message: `key '${input.key}' appears twice in the batch with different content (first at /${prev.index})` });
    } else if (!prev) batch.set(input.key, { input, hash, index });
  });
  if (errors.length) throw new DomainError('conflict', 'conflicting duplicate keys in the batch', { errors });
  return batch;
}

/** Every key the batch names: its rows' keys and their premises (what must be looked up). */
export const keysNamed = (batch: ReadonlyMap<string, BatchRow>): string[] => {
  const all = new Set<string>(batch.keys());
  for (const { input } of batch.values()) for (const p of input.premises ?? []) all.add(p);
  return [...all];
};

/** Each row against its stored version: new, a new version (content hash differs), back from absent, or unchanged. */
export function planUpsert(batch: ReadonlyMap<string, BatchRow>, stored: ReadonlyMap<string, StoredKey>, source: 'tsv' | 'json'): UpsertPlan {
  const plan: UpsertPlan = { fresh: [], changed: [], restored: [], items: [] };
  for (const b of batch.values()) {
    const s = stored.get(b.input.key);
    if (!s) {
      plan.fresh.push(b);
      plan.items.push({ key: b.input.key, created: true, version: 1 });
    } else if (s.contentHash !== b.hash) {
      plan.changed.push({ ...b, id: s.id, version: s.version + 1 });
      plan.items.push({ key: b.input.key, created: false, version: s.version + 1 });
    } else {
      if (s.absent && source === 'tsv') plan.restored.push(s.id);
      plan.items.push({ key: b.input.key, created: false });
    }
  }
  return plan;
}

/**
 * The premise edges of the new and changed rows; each premise must be in the batch or stored
 * and in the latest log (`unknown_premise`, with every offending pointer).
 */
export function premiseEdges(plan: UpsertPlan, batch: ReadonlyMap<string, BatchRow>, stored: ReadonlyMap<string, StoredKey>): { from: string; to: string }[] {
  const unknown: ErrorDetail[] = [];
  const edges: { from: string; to: string }[] = [];
  for (const b of [...plan.fresh, ...plan.changed]) {
    (b.input.premises ?? []).forEach((p, j) => {
      const s = stored.get(p);
      if (!batch.has(p) && (!s || s.absent)) {
        unknown.push({ pointer: `/${b.index}/premises/${j}`, message: s ? `premise '${p}' is absent from the latest results.tsv` : `premise '${p}' is not a known experiment` });
      }
      edges.push({ from: p, to: b.input.key });
    });
  }
  if (unknown.length) throw new DomainError('unknown_premise', 'premise not found', { errors: unknown });
  return edges;
}
