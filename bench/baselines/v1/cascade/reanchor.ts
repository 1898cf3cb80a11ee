/*
 * Baseline only: ECV's first gate design (v1), copied verbatim from our own code at git commit
 * 3b67ef4 (src/domain/cascade/reanchor.ts) so the obey-mode bench can run the previous design as a policy
 * in process after the service moved to gate v2. Not used by the service; do not edit except
 * to keep it compiling.
 */
/**
 * Re-anchoring candidate choice (SPEC §6): which experiment to reproduce so that a gated
 * experiment's K rises the most. Each candidate costs one round of reproductions, so the
 * best candidate is the one with the largest resulting K, assuming its C stays the same.
 *
 * Anchoring Y ∈ Anc*(X) stops the walk at Y, so it removes from Anc*(X) exactly the nodes
 * every one of whose restricted paths to X passes through Y: the nodes Y strictly
 * dominates in the cascade read from X downwards (premise edges reversed). One dominator
 * tree per X therefore prices every candidate at once.
 */
import { cascadeRegion, nearer } from './compound.js';
import { nodeOf, type PremiseGraph } from './graph.js';

/** Resulting K values closer than this count as equal (K ∈ [0, 1]). */
const EPSILON = 1e-12;

/** What anchoring one candidate would do for one X. */
interface Option {
  key: string;
  /** Distance from X along premise edges (0 for X itself). */
  dist: number;
  resultingK: number;
}

/**
 * The member of {X} ∪ Anc*(X) — not anchored, not hard-gated — whose anchoring would raise
 * K(X) the most (ties: nearest X, then key), with `gain` = resulting K − current K ≥ 0.
 * Null when no member is eligible.
 */
export function reanchorCandidate(
  graph: PremiseGraph,
  key: string,
): { key: string; gain: number; resultingK: number } | null {
  const { current, options } = reanchorOptions(graph, key);
  let best: Option | null = null;
  for (const o of options) {
    if (
      best === null ||
      preferred(o.resultingK, o.dist, o.key, best.resultingK, best.dist, best.key)
    ) {
      best = o;
    }
  }
  return best === null
    ? null
    : { key: best.key, gain: best.resultingK - current, resultingK: best.resultingK };
}

/**
 * For several gated experiments, the candidate whose anchoring raises the summed K over
 * them the most (ties: nearest to any of them, then key). `beneficiaries` are the targets
 * whose cascade contains the candidate, i.e. whose K it can raise. Null when no target
 * has an eligible candidate.
 */
export function reanchorCandidateFor(
  graph: PremiseGraph,
  keys: string[],
): { key: string; gain: number; beneficiaries: string[] } | null {
  const totals = new Map<string, { gain: number; dist: number; beneficiaries: string[] }>();
  for (const target of new Set(keys)) {
    const { current, options } = reanchorOptions(graph, target);
    for (const o of options) {
      const t = totals.get(o.key) ?? { gain: 0, dist: Infinity, beneficiaries: [] };
      t.gain += o.resultingK - current;
      t.dist = Math.min(t.dist, o.dist);
      t.beneficiaries.push(target);
      totals.set(o.key, t);
    }
  }
  let best: { key: string; gain: number; dist: number; beneficiaries: string[] } | null = null;
  for (const [key, t] of totals) {
    if (best === null || preferred(t.gain, t.dist, key, best.gain, best.dist, best.key)) {
      best = { key, ...t };
    }
  }
  return best === null
    ? null
    : { key: best.key, gain: best.gain, beneficiaries: best.beneficiaries };
}

/** Larger value first (within EPSILON), then nearer, then key. */
function preferred(
  v1: number,
  d1: number,
  k1: string,
  v2: number,
  d2: number,
  k2: string,
): boolean {
  if (v1 > v2 + EPSILON) return true;
  if (v2 > v1 + EPSILON) return false;
  return nearer(d1, k1, d2, k2);
}

/**
 * Current K(X) and, for every eligible member Y of {X} ∪ Anc*(X), K(X) with Y anchored.
 * O(|cascade| + premise edges + dominator-tree climbs); chains need no climbs.
 */
export function reanchorOptions(
  graph: PremiseGraph,
  x: string,
): { current: number; options: Option[] } {
  nodeOf(graph, x);
  const dist = cascadeRegion(graph, x);
  const keys = [...dist.keys()]; // index 0 is X
  const index = new Map<string, number>();
  keys.forEach((k, i) => index.set(k, i));
  const nodes = keys.map((k) => graph.getNodeAttributes(k));
  const n = keys.length;

  // Reversed cascade: i → each premise of i, for expanded (non-anchored) i. All such
  // premises are in the region by construction of cascadeRegion.
  const preds: number[][] = Array.from({ length: n }, () => []);
  const succ: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) {
    if (nodes[i].anchored) continue;
    for (const p of nodes[i].premises) {
      const j = index.get(p) as number;
      succ[i].push(j);
      preds[j].push(i);
    }
  }

  // Kahn from X over the reversed cascade: every node after all nodes built on it.
  const order = [0];
  const pending = preds.map((ps) => ps.length);
  for (let head = 0; head < order.length; head++) {
    for (const j of succ[order[head]]) if (--pending[j] === 0) order.push(j);
  }

  // Immediate dominators on a DAG: the tree LCA of a node's predecessors, all of which
  // precede it in `order` and so already have their idom.
  const idom = new Int32Array(n).fill(-1);
  const depth = new Int32Array(n);
  const lca = (a: number, b: number): number => {
    while (a !== b) {
      if (depth[a] >= depth[b]) a = idom[a];
      else b = idom[b];
    }
    return a;
  };
  for (let t = 1; t < n; t++) {
    const v = order[t];
    let a = preds[v][0];
    for (let q = 1; q < preds[v].length; q++) a = lca(a, preds[v][q]);
    idom[v] = a;
    depth[v] = depth[a] + 1;
  }

  // Dominator subtree sums of log C (zeros counted apart, so nothing underflows to 0/0).
  const ownZero = nodes.map((nd) => (nd.confidence === 0 ? 1 : 0));
  const ownLog = nodes.map((nd) => (nd.confidence > 0 ? Math.log(nd.confidence) : 0));
  const zeros = [...ownZero];
  const logs = [...ownLog];
  const size = new Array<number>(n).fill(1);
  for (let t = n - 1; t > 0; t--) {
    const v = order[t];
    const parent = idom[v];
    zeros[parent] += zeros[v];
    logs[parent] += logs[v];
    size[parent] += size[v];
  }

  const cx = nodes[0].confidence;
  let current = cx;
  for (let i = 1; i < n; i++) current *= nodes[i].confidence;
  // Over Anc*(X): the whole tree minus X.
  const totalZeros = zeros[0] - ownZero[0];
  const totalLog = logs[0] - ownLog[0];

  const options: Option[] = [];
  for (let i = 0; i < n; i++) {
    const nd = nodes[i];
    if (nd.anchored || nd.hardGate !== null) continue;
    let resultingK: number;
    if (i === 0) resultingK = cx;
    else if (size[i] === 1)
      resultingK = current; // dominates nothing: no factor removed
    else {
      const z = totalZeros - (zeros[i] - ownZero[i]);
      const lg = totalLog - (logs[i] - ownLog[i]);
      // Removing factors ≤ 1 never lowers K; the max absorbs rounding in exp/log.
      resultingK = Math.max(current, z > 0 ? 0 : cx * Math.exp(lg));
    }
    options.push({ key: keys[i], dist: dist.get(keys[i]) as number, resultingK });
  }
  return { current, options };
}
