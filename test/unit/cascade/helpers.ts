/** Builders and brute-force references for the cascade tests. */
import {
  buildPremiseGraph,
  type CascadeNode,
  type PremiseGraph,
} from '../../../src/domain/cascade/index.js';

/** A node with defaults: C = 1, not anchored, no hard gate. */
export function node(
  key: string,
  premises: string[] = [],
  over: Partial<CascadeNode> = {},
): CascadeNode {
  return { key, premises, confidence: 1, anchored: false, hardGate: null, ...over };
}

/** A chain k0 → k1 → … of `length` nodes with the given C (and anchors by depth). */
export function chain(
  length: number,
  confidence: number,
  anchoredAt: (d: number) => boolean = () => false,
): CascadeNode[] {
  return Array.from({ length }, (_, d) =>
    node(`k${d}`, d === 0 ? [] : [`k${d - 1}`], { confidence, anchored: anchoredAt(d) }),
  );
}

export function graphOf(nodes: CascadeNode[]): PremiseGraph {
  return buildPremiseGraph(nodes);
}

export interface BruteResult {
  compounded: number;
  ancestors: Set<string>;
  weakest: { key: string; confidence: number };
  hardGate: { key: string; code: string } | null;
  /** Shortest path length from X to each member of {X} ∪ Anc*(X). */
  distances: Map<string, number>;
}

/**
 * Reference evaluation by enumerating every premise path from X upwards, extending a
 * path only past non-anchored nodes (X included). Independent of the graph module: it
 * reads the plain node list. Exponential; for small graphs only.
 */
export function brute(nodes: CascadeNode[], x: string): BruteResult {
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const minDist = new Map<string, number>();
  const walk = (path: string[]) => {
    const last = byKey.get(path[path.length - 1]) as CascadeNode;
    const d = path.length - 1;
    if (d < (minDist.get(last.key) ?? Infinity)) minDist.set(last.key, d);
    if (last.anchored) return;
    for (const p of last.premises) if (!path.includes(p)) walk([...path, p]);
  };
  walk([x]);
  const members = [...minDist.keys()];
  let compounded = 1;
  for (const m of members) compounded *= (byKey.get(m) as CascadeNode).confidence;
  const rank = (a: string, b: string) =>
    (minDist.get(a) as number) - (minDist.get(b) as number) || (a < b ? -1 : a > b ? 1 : 0);
  const minC = Math.min(...members.map((m) => (byKey.get(m) as CascadeNode).confidence));
  const weakestKey = members
    .filter((m) => (byKey.get(m) as CascadeNode).confidence === minC)
    .sort(rank)[0];
  const gated = members.filter((m) => (byKey.get(m) as CascadeNode).hardGate !== null).sort(rank);
  const ancestors = new Set(members);
  ancestors.delete(x);
  return {
    compounded,
    ancestors,
    weakest: { key: weakestKey, confidence: minC },
    hardGate:
      gated.length === 0
        ? null
        : { key: gated[0], code: (byKey.get(gated[0]) as CascadeNode).hardGate as string },
    distances: minDist,
  };
}
