/*
 * Baseline only: ECV's first gate design (v1), copied verbatim from our own code at git commit
 * 3b67ef4 (src/domain/cascade/compound.ts) so the obey-mode bench can run the previous design as a policy
 * in process after the service moved to gate v2. Not used by the service; do not edit except
 * to keep it compiling.
 */
/**
 * Compounded confidence (SPEC §4): K(X) = C(X) · Π_{A ∈ Anc*(X)} C(A).
 *
 * Anc*(X) is the set of ancestors reachable from X through premise edges without walking
 * past an anchor: an anchored ancestor is included but not expanded; an anchored X has
 * Anc*(X) = ∅. Each ancestor counts once however many paths reach it (diamonds).
 *
 * "Nearest X" is the shortest such path length; ties between equally near members are
 * broken by key, so every evaluation strategy here picks the same member.
 */
import { nodeOf, type PremiseGraph } from './graph.js';

/** The compounded view of one experiment. */
export interface Compounded {
  key: string;
  /** K(X) ∈ [0, 1]; never above C(X). */
  compounded: number;
  /** The member of {X} ∪ Anc*(X) with the least C (ties: nearest X). */
  weakest: { key: string; confidence: number };
  /** Its distance from X (0 for X itself). */
  weakestDist: number;
  /** The hard-gated member of {X} ∪ Anc*(X) nearest X, or null. */
  hardGate: { key: string; code: string } | null;
  /** Its distance from X; null without a hard gate. */
  hardGateDist: number | null;
  /** |Anc*(X)|. */
  ancestors: number;
}

/** {X} ∪ Anc*(X) with shortest distances from X, in breadth-first order (X first). */
export function cascadeRegion(graph: PremiseGraph, key: string): Map<string, number> {
  nodeOf(graph, key);
  const dist = new Map<string, number>([[key, 0]]);
  const queue = [key];
  for (let head = 0; head < queue.length; head++) {
    const v = queue[head];
    const node = graph.getNodeAttributes(v);
    if (node.anchored) continue; // included, but its premises are not reached through it
    const d = (dist.get(v) as number) + 1;
    for (const p of node.premises) {
      if (dist.has(p)) continue;
      dist.set(p, d);
      queue.push(p);
    }
  }
  return dist;
}

/** Anc*(X): X's ancestors, each once, not walking past anchors (empty when X is anchored). */
export function ancestorSet(graph: PremiseGraph, key: string): Set<string> {
  const region = new Set(cascadeRegion(graph, key).keys());
  region.delete(key);
  return region;
}

/**
 * K, weakest link and hard gate of one experiment by direct traversal of its cascade.
 * O(|Anc*(X)| + their premises); use `recomputeCompounded` for many experiments.
 */
export function compound(graph: PremiseGraph, key: string): Compounded {
  let compounded = 1;
  let weakest: Ranked | null = null;
  let gate: (Ranked & { code: string }) | null = null;
  const region = cascadeRegion(graph, key);
  for (const [v, dist] of region) {
    const { confidence, hardGate } = graph.getNodeAttributes(v);
    compounded *= confidence;
    const here = { key: v, confidence, dist };
    if (weakest === null || weaker(here, weakest)) weakest = here;
    if (hardGate !== null && (gate === null || nearer(dist, v, gate.dist, gate.key))) {
      gate = { ...here, code: hardGate };
    }
  }
  const w = weakest as Ranked; // the region always holds X
  return {
    key,
    compounded,
    weakest: { key: w.key, confidence: w.confidence },
    weakestDist: w.dist,
    hardGate: gate === null ? null : { key: gate.key, code: gate.code },
    hardGateDist: gate === null ? null : gate.dist,
    ancestors: region.size - 1,
  };
}

/** A cascade member with its distance from X. */
export interface Ranked {
  key: string;
  confidence: number;
  dist: number;
}

/** Is `a` the weaker link: lower C, or equal C and nearer X? */
export function weaker(a: Ranked, b: Ranked): boolean {
  return (
    a.confidence < b.confidence ||
    (a.confidence === b.confidence && nearer(a.dist, a.key, b.dist, b.key))
  );
}

/** Is (d1, k1) nearer X than (d2, k2)? Distance first, then key. */
export function nearer(d1: number, k1: string, d2: number, k2: string): boolean {
  return d1 < d2 || (d1 === d2 && k1 < k2);
}
