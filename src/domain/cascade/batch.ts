/**
 * Batch evaluation of compounded confidence: every target in one pass, reusing each
 * premise's result instead of walking every cascade to its roots. See compound.ts for
 * the definitions; this must agree with `compound` exactly (up to float rounding of K).
 *
 * Nodes are numbered as they are discovered and all per-node state lives in arrays
 * indexed by that number: string-keyed maps dominate the cost at 10⁵ nodes.
 */
import { nearer, type Compounded } from './compound.js';
import { nodeOf, type CascadeNode, type PremiseGraph } from './graph.js';

/**
 * Per-node results as parallel typed arrays (no object per node): K, |Anc*|, and the
 * weakest link and hard gate as node numbers with their distances from the node.
 */
class Memo {
  readonly k: Float64Array;
  readonly count: Int32Array;
  readonly weakest: Int32Array;
  readonly weakestDist: Int32Array;
  /** -1: no hard gate in the cascade. */
  readonly gate: Int32Array;
  readonly gateDist: Int32Array;

  constructor(n: number) {
    this.k = new Float64Array(n);
    this.count = new Int32Array(n);
    this.weakest = new Int32Array(n);
    this.weakestDist = new Int32Array(n);
    this.gate = new Int32Array(n);
    this.gateDist = new Int32Array(n);
  }
}

/**
 * Evaluate every target (and the cascades they stand on) in topological order, reusing
 * each premise's result:
 * - an anchored node or a root: K = C;
 * - a single premise P: K(X) = C(X)·K(P), or C(X)·C(P) when P is anchored;
 * - several premises: walk the cascade upwards in decreasing topological position until
 *   only one unvisited node Y is pending; every remaining ancestor is then reached only
 *   through Y (below), so K(X) = C(X)·Π(visited)·K(Y). For diamonds the walk stops at the
 *   shared ancestor; when parallel chains never rejoin it visits the whole cascade, which
 *   a union of ancestor sets would cost as well.
 *
 * Why the collapse is sound: pops happen in strictly decreasing topological position (each
 * push is a premise of the node just popped, so it sits lower). When Y is the only pending
 * node, take any undiscovered A ∈ Anc*(X) and a path A → … → X without anchors strictly
 * inside it; its first discovered node cannot be an expanded (non-anchored) node, whose
 * premises were all discovered, nor an anchor, which the path avoids inside; so it is Y,
 * and A ∈ Anc*(Y). Everything visited lies above Y in the order, so the sets are disjoint,
 * and every node that could shorten Y's distance has been popped, so that distance is final.
 *
 * `known` results (stored cascades of experiments nothing changed under) end the walk: such a
 * premise P is absorbed from its stored K, ancestor count, weakest link and hard gate (with
 * their distances) instead of being expanded, so re-evaluating the leaf of a 10,000-deep chain
 * reads one premise, not 10,000. Only single-premise experiments may stand on known nodes.
 *
 * Iterative throughout (10⁴-deep chains, 10⁵-node DAGs). The map iterates in evaluation
 * order: premises before what is built on them along cascade edges (an anchored target's
 * own premises lie outside its cascade and may come after it).
 */
export function recomputeCompounded(
  graph: PremiseGraph,
  targets: Iterable<string>,
  known?: ReadonlyMap<string, KnownCascade>,
): Map<string, Compounded> {
  const wanted = new Set<string>();
  for (const t of targets) {
    nodeOf(graph, t);
    wanted.add(t);
  }
  const plan = planOf(graph, wanted, known);
  const memo = new Memo(plan.keys.length + 2 * plan.known.length);
  for (const i of plan.known) preset(plan, memo, i, known!.get(plan.keys[i])!);
  const { keys, order } = plan;
  const position = new Int32Array(keys.length);
  order.forEach((i, t) => (position[i] = t));

  const out = new Map<string, Compounded>();
  for (const i of order) {
    evaluate(plan, i, memo, position);
    if (wanted.has(keys[i])) out.set(keys[i], toCompounded(plan, i, memo));
  }
  return out;
}

/**
 * An experiment's stored cascade, still valid because nothing it stands on changed: evaluation
 * extends it (K(X) = C(X)·K(P)) instead of walking its ancestry again.
 */
export type KnownCascade = Omit<Compounded, 'key'>;

interface Plan {
  keys: string[];
  nodes: CascadeNode[];
  /** Premises as node numbers; empty for anchored and known nodes (never expanded). */
  premises: number[][];
  /** Node numbers in depth-first post-order: every expanded premise before its dependent. */
  order: number[];
  /** Nodes whose results are given (not anchored, not targets): never expanded or evaluated. */
  known: number[];
  isKnown: Uint8Array;
}

/** Number the targets and their Anc* and order them, in one iterative depth-first pass. */
function planOf(graph: PremiseGraph, targets: Set<string>, known?: ReadonlyMap<string, KnownCascade>): Plan {
  const index = new Map<string, number>();
  const plan: Plan = { keys: [], nodes: [], premises: [], order: [], known: [], isKnown: new Uint8Array(0) };
  const frozen: boolean[] = [];
  const discover = (key: string): number => {
    const i = plan.keys.length;
    index.set(key, i);
    plan.keys.push(key);
    const node = graph.getNodeAttributes(key);
    plan.nodes.push(node);
    plan.premises.push([]);
    const isFrozen = !node.anchored && !targets.has(key) && known?.has(key) === true;
    frozen.push(isFrozen);
    if (isFrozen) plan.known.push(i);
    return i;
  };
  const stack: number[] = [];
  const cursor: number[] = [];
  for (const t of targets) {
    if (index.has(t)) continue;
    stack.push(discover(t));
    cursor.push(0);
    while (stack.length > 0) {
      const top = stack.length - 1;
      const i = stack[top];
      const node = plan.nodes[i];
      if (!node.anchored && !frozen[i] && cursor[top] < node.premises.length) {
        const p = node.premises[cursor[top]++];
        let j = index.get(p);
        if (j === undefined) {
          j = discover(p);
          stack.push(j);
          cursor.push(0);
        }
        plan.premises[i].push(j);
      } else {
        stack.pop();
        cursor.pop();
        if (!frozen[i]) plan.order.push(i);
      }
    }
  }
  plan.isKnown = Uint8Array.from(frozen, (f) => (f ? 1 : 0));
  return plan;
}

/**
 * Memo of a known node from its stored cascade. Its weakest link and hard gate may lie outside
 * the plan: they get entries of their own (key, C, hard gate code), never evaluated.
 */
function preset(plan: Plan, memo: Memo, i: number, c: KnownCascade): void {
  const extra = (key: string, confidence: number, hardGate: string | null): number => {
    if (key === plan.keys[i]) return i;
    plan.keys.push(key);
    plan.nodes.push({ key, premises: [], confidence, anchored: false, hardGate });
    plan.premises.push([]);
    return plan.keys.length - 1;
  };
  memo.k[i] = c.compounded;
  memo.count[i] = c.ancestors;
  memo.weakest[i] = extra(c.weakest.key, c.weakest.confidence, null);
  memo.weakestDist[i] = c.weakestDist;
  if (c.hardGate === null) {
    memo.gate[i] = -1;
  } else {
    const g = extra(c.hardGate.key, c.hardGate.key === c.weakest.key ? c.weakest.confidence : 0, c.hardGate.code);
    memo.gate[i] = g;
    memo.gateDist[i] = c.hardGateDist ?? 0;
  }
}

/** Fill memo[x]; every premise of x (and every node of its cascade) is already filled. */
function evaluate(plan: Plan, x: number, memo: Memo, position: Int32Array): void {
  const { nodes, premises } = plan;
  const own = nodes[x];
  memo.k[x] = own.confidence;
  memo.count[x] = 0;
  memo.weakest[x] = x;
  memo.weakestDist[x] = 0;
  memo.gate[x] = own.hardGate === null ? -1 : x;
  memo.gateDist[x] = 0;
  const ps = premises[x];
  if (ps.length === 0) return; // root or anchor: K = C
  if (ps.length === 1) {
    const p = ps[0];
    if (nodes[p].anchored) include(plan, memo, x, p, 1);
    else absorb(plan, memo, x, p, 1);
    return;
  }

  // Several premises: max-heap on topological position; local distances by node number.
  const heap = new MaxHeap();
  const dist = new Map<number, number>();
  const discover = (i: number, d: number) => {
    // Known nodes are neither expanded nor ordered: a diamond walk cannot pass them. Callers
    // give known premises only to experiments with a single premise.
    if (plan.isKnown[i]) throw new Error(`cascade: known node ${plan.keys[i]} reached by a diamond walk`);
    const known = dist.get(i);
    if (known === undefined) {
      dist.set(i, d);
      heap.push(position[i]);
    } else if (d < known) dist.set(i, d);
  };
  for (const p of ps) discover(p, 1);
  while (heap.size > 0) {
    const v = plan.order[heap.peek()];
    const d = dist.get(v) as number;
    if (heap.size === 1 && !nodes[v].anchored) {
      absorb(plan, memo, x, v, d); // collapse: the rest of the cascade is {v} ∪ Anc*(v)
      return;
    }
    heap.pop();
    include(plan, memo, x, v, d);
    for (const p of premises[v]) discover(p, d + 1);
  }
}

/** Add one member v of Anc*(x) at distance d. */
function include(plan: Plan, memo: Memo, x: number, v: number, d: number): void {
  memo.k[x] *= plan.nodes[v].confidence;
  memo.count[x]++;
  offer(plan, memo, x, v, d, plan.nodes[v].hardGate === null ? -1 : v, d);
}

/** Add {y} ∪ Anc*(y) at once: y at distance d, everything behind it reached only through y. */
function absorb(plan: Plan, memo: Memo, x: number, y: number, d: number): void {
  memo.k[x] *= memo.k[y];
  memo.count[x] += 1 + memo.count[y];
  offer(
    plan,
    memo,
    x,
    memo.weakest[y],
    d + memo.weakestDist[y],
    memo.gate[y],
    d + memo.gateDist[y],
  );
}

/** Let x's weakest link and hard gate be replaced by nearer/weaker candidates. */
function offer(
  plan: Plan,
  memo: Memo,
  x: number,
  weak: number,
  weakDist: number,
  gate: number,
  gateDist: number,
): void {
  const { nodes, keys } = plan;
  const cur = memo.weakest[x];
  const c = nodes[weak].confidence;
  const w = nodes[cur].confidence;
  if (c < w || (c === w && nearer(weakDist, keys[weak], memo.weakestDist[x], keys[cur]))) {
    memo.weakest[x] = weak;
    memo.weakestDist[x] = weakDist;
  }
  if (gate < 0) return;
  const g = memo.gate[x];
  if (g < 0 || nearer(gateDist, keys[gate], memo.gateDist[x], keys[g])) {
    memo.gate[x] = gate;
    memo.gateDist[x] = gateDist;
  }
}

function toCompounded(plan: Plan, i: number, memo: Memo): Compounded {
  const { keys, nodes } = plan;
  const w = memo.weakest[i];
  const g = memo.gate[i];
  return {
    key: keys[i],
    compounded: memo.k[i],
    weakest: { key: keys[w], confidence: nodes[w].confidence },
    weakestDist: memo.weakestDist[i],
    hardGate: g < 0 ? null : { key: keys[g], code: nodes[g].hardGate as string },
    hardGateDist: g < 0 ? null : memo.gateDist[i],
    ancestors: memo.count[i],
  };
}

/** Binary max-heap of non-negative integers (topological positions). */
class MaxHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): number {
    return this.items[0];
  }

  push(value: number): void {
    const a = this.items;
    let i = a.push(value) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent] >= value) break;
      a[i] = a[parent];
      i = parent;
    }
    a[i] = value;
  }

  pop(): number {
    const a = this.items;
    const top = a[0];
    const last = a.pop() as number;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const c = l + 1 < a.length && a[l + 1] > a[l] ? l + 1 : l;
        if (a[c] <= last) break;
        a[i] = a[c];
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}
