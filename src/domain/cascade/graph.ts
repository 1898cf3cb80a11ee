/**
 * The premise graph (SPEC §4): an edge A → B means B was built on A (A is a premise of B).
 *
 * Invariants kept by every function here:
 * - the graph is a DAG (building and adding edges reject cycles with `conflict_cycle`);
 * - each node's `premises` attribute lists exactly its in-neighbours, deduplicated, in the
 *   order they were given. Traversals read `premises` rather than graphology's neighbour
 *   iteration because the latter orders integer-like keys (e.g. all-digit short hashes)
 *   numerically, not by insertion; "first premise" must mean the one given first.
 *   Mutate the graph only through this module to keep that true.
 */
import { DirectedGraph } from 'graphology';
import { hasCycle } from 'graphology-dag';
import { DomainError, type ErrorDetail } from '../errors.js';

/** One experiment as the cascade sees it. */
export interface CascadeNode {
  key: string;
  /** Keys of the experiments this one was built on. */
  premises: string[];
  /** Confidence C ∈ [0, 1]. */
  confidence: number;
  /** A reproduced anchor vouches for itself: its ancestors no longer multiply in. */
  anchored: boolean;
  /** Hard gate reason code (e.g. `crash`, `discard`), or null. */
  hardGate: string | null;
}

/** The graphology graph the cascade functions operate on; node attributes are CascadeNode. */
export type PremiseGraph = DirectedGraph<CascadeNode>;

/** A premise edge: `to` was built on `from`. */
export interface PremiseEdge {
  from: string;
  to: string;
}

/** Node attributes, throwing `not_found` for an unknown key. */
export function nodeOf(graph: PremiseGraph, key: string): CascadeNode {
  if (!graph.hasNode(key)) throw new DomainError('not_found', `unknown experiment ${key}`);
  return graph.getNodeAttributes(key);
}

/**
 * Build the premise graph from nodes. Every premise must name a node in the input
 * (`unknown_premise`, listing all of them); keys must be unique and confidences in [0, 1]
 * (`validation_failed`); the premises must not form a cycle (`conflict_cycle`, with the
 * cycle as `extra.cycle`). Nodes are copied; premises are deduplicated keeping order.
 */
export function buildPremiseGraph(nodes: Iterable<CascadeNode>): PremiseGraph {
  const graph: PremiseGraph = new DirectedGraph<CascadeNode>();
  const invalid: ErrorDetail[] = [];
  for (const n of nodes) {
    if (graph.hasNode(n.key)) {
      invalid.push({
        code: 'duplicate_key',
        message: `experiment ${n.key} appears more than once`,
      });
      continue;
    }
    if (!(Number.isFinite(n.confidence) && n.confidence >= 0 && n.confidence <= 1)) {
      invalid.push({
        code: 'confidence_out_of_range',
        message: `experiment ${n.key}: confidence ${n.confidence} is not in [0, 1]`,
      });
    }
    const premises = [...new Set(n.premises)];
    graph.addNode(n.key, { ...n, premises });
  }
  if (invalid.length > 0) {
    throw new DomainError('validation_failed', 'invalid cascade nodes', { errors: invalid });
  }

  const unknown: ErrorDetail[] = [];
  graph.forEachNode((key, attrs) => {
    for (const p of attrs.premises) {
      if (!graph.hasNode(p)) {
        unknown.push({
          code: 'unknown_premise',
          message: `experiment ${key}: premise ${p} is unknown`,
        });
      }
    }
  });
  if (unknown.length > 0) {
    throw new DomainError('unknown_premise', 'premises name unknown experiments', {
      errors: unknown,
    });
  }

  graph.forEachNode((key, attrs) => {
    for (const p of attrs.premises) {
      if (p === key) throw cycleError([key, key]);
      graph.addDirectedEdge(p, key);
    }
  });
  if (hasCycle(graph)) throw cycleError(extractCycle(graph));
  return graph;
}

/**
 * If adding the edge from → to (to built on from) would close a cycle, the cycle as keys
 * in edge direction `[to, …, from, to]`; otherwise null. `from === to` is the cycle
 * `[from, from]`. Breadth-first, so the path returned is a shortest one.
 */
export function findCycle(graph: PremiseGraph, from: string, to: string): string[] | null {
  if (!graph.hasNode(from)) throw new DomainError('unknown_premise', `unknown premise ${from}`);
  nodeOf(graph, to);
  if (from === to) return [from, from];
  if (graph.hasDirectedEdge(from, to)) return null; // already there: adding it changes nothing
  // A cycle closes iff `from` is already built (transitively) on `to`.
  const parent = new Map<string, string | null>([[to, null]]);
  const queue = [to];
  for (let head = 0; head < queue.length; head++) {
    const v = queue[head];
    for (const w of graph.outNeighbors(v)) {
      if (parent.has(w)) continue;
      parent.set(w, v);
      if (w === from) {
        const path: string[] = [];
        for (let u: string | null = from; u !== null; u = parent.get(u) ?? null) path.push(u);
        path.reverse();
        path.push(to);
        return path;
      }
      queue.push(w);
    }
  }
  return null;
}

/**
 * Add premise edges, rejecting the first one that would close a cycle with
 * `conflict_cycle` (`extra.cycle`). All or nothing: on error the graph is left as it was.
 * Edges already present are ignored.
 */
export function addEdgesChecked(graph: PremiseGraph, edges: Iterable<PremiseEdge>): void {
  const added: PremiseEdge[] = [];
  try {
    for (const e of edges) {
      const cycle = findCycle(graph, e.from, e.to);
      if (cycle) throw cycleError(cycle);
      if (graph.hasDirectedEdge(e.from, e.to)) continue;
      graph.addDirectedEdge(e.from, e.to);
      graph.updateNodeAttribute(e.to, 'premises', (ps) => [...(ps ?? []), e.from]);
      added.push(e);
    }
  } catch (err) {
    for (const e of added.reverse()) {
      graph.dropDirectedEdge(e.from, e.to);
      graph.updateNodeAttribute(e.to, 'premises', (ps) => (ps ?? []).filter((p) => p !== e.from));
    }
    throw err;
  }
}

/** `keys` plus everything built on them, transitively (iterative; anchors do not stop it). */
export function descendants(graph: PremiseGraph, keys: Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const stack: string[] = [];
  for (const k of keys) {
    nodeOf(graph, k);
    if (!seen.has(k)) {
      seen.add(k);
      stack.push(k);
    }
  }
  while (stack.length > 0) {
    const v = stack.pop() as string;
    graph.forEachOutNeighbor(v, (w) => {
      if (!seen.has(w)) {
        seen.add(w);
        stack.push(w);
      }
    });
  }
  return seen;
}

/**
 * The experiments whose K must be recomputed after the C (or anchor state) of `changed`
 * moved: `changed` and all their descendants, premises before what is built on them.
 */
export function affectedBy(graph: PremiseGraph, changed: Iterable<string>): string[] {
  return topoOrderOf(graph, descendants(graph, changed));
}

/**
 * The members of `subset` in topological order (premises first), by Kahn's algorithm on
 * the induced subgraph; ties keep the subset's iteration order. O(|subset| + edges).
 */
export function topoOrderOf(graph: PremiseGraph, subset: Iterable<string>): string[] {
  const members = subset instanceof Set ? (subset as Set<string>) : new Set(subset);
  const indegree = new Map<string, number>();
  for (const v of members) {
    let d = 0;
    for (const p of nodeOf(graph, v).premises) if (members.has(p)) d++;
    indegree.set(v, d);
  }
  const order: string[] = [];
  for (const v of members) if (indegree.get(v) === 0) order.push(v);
  for (let head = 0; head < order.length; head++) {
    graph.forEachOutNeighbor(order[head], (w) => {
      const d = indegree.get(w);
      if (d === undefined) return;
      indegree.set(w, d - 1);
      if (d === 1) order.push(w);
    });
  }
  // Unreachable while the graph is a DAG; guards against edits that bypassed this module.
  if (order.length !== members.size) throw cycleError(extractCycle(graph));
  return order;
}

/** From the root to `head`, following each node's first premise (for reports). */
export function mainChain(graph: PremiseGraph, head: string): string[] {
  const chain: string[] = [];
  const seen = new Set<string>();
  for (let v: string | undefined = head; v !== undefined && !seen.has(v);) {
    seen.add(v);
    chain.push(v);
    v = nodeOf(graph, v).premises[0];
  }
  return chain.reverse();
}

/**
 * Some cycle among directed premise edges (`to` built on `from`), in edge direction
 * `[a, …, a]`, or null when they form none: the check of a batch of new edges, or of the stored
 * edges below a replaced premise, before they are committed.
 */
export function cycleInEdges(edges: Iterable<PremiseEdge>): string[] | null {
  const graph: PremiseGraph = new DirectedGraph<CascadeNode>();
  for (const e of edges) {
    if (e.from === e.to) return [e.from, e.from];
    for (const k of [e.from, e.to]) if (!graph.hasNode(k)) graph.addNode(k, { key: k, premises: [], confidence: 0, anchored: false, hardGate: null });
    if (!graph.hasDirectedEdge(e.from, e.to)) graph.addDirectedEdge(e.from, e.to);
  }
  return hasCycle(graph) ? extractCycle(graph) : null;
}

function cycleError(cycle: string[]): DomainError {
  return new DomainError('conflict_cycle', `premises form a cycle: ${cycle.join(' → ')}`, {
    extra: { cycle },
  });
}

/**
 * Some cycle of a cyclic graph, in edge direction `[a, …, a]`. Peels off nodes that can
 * be sorted (Kahn); every node left has a premise that is also left, so walking premises
 * from any of them must revisit a node.
 */
function extractCycle(graph: PremiseGraph): string[] {
  const indegree = new Map<string, number>();
  const queue: string[] = [];
  graph.forEachNode((v) => {
    const d = graph.inDegree(v);
    indegree.set(v, d);
    if (d === 0) queue.push(v);
  });
  for (let head = 0; head < queue.length; head++) {
    graph.forEachOutNeighbor(queue[head], (w) => {
      const d = (indegree.get(w) as number) - 1;
      indegree.set(w, d);
      if (d === 0) queue.push(w);
    });
  }
  const left = (v: string) => (indegree.get(v) as number) > 0;
  const start = graph.findNode((v) => left(v));
  if (start === undefined) return [];
  const walk: string[] = [];
  const at = new Map<string, number>();
  let v = start;
  while (!at.has(v)) {
    at.set(v, walk.length);
    walk.push(v);
    v = graph.findInNeighbor(v, (p) => left(p)) as string;
  }
  // walk[i + 1] is a premise of walk[i]: reverse the loop to get edge direction.
  const loop = walk.slice(at.get(v)).reverse();
  return [v, ...loop];
}
