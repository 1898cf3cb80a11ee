/**
 * Which experiments the report draws. A project may hold 10,000+ experiments; the DAG draws at
 * most `maxNodes`: the main chain (its most recent part when longer than the budget), then the
 * others by alternating "lowest K among off-chain keeps" and "most recent", with the premises
 * that connect a chosen keep to the drawing. Everything else is counted as elided.
 */
import type { ReportNode } from './types.js';

/** Discards/crashes drawn individually per premise; the rest show as "+n" next to it. */
export const MAX_LEAVES_PER_PREMISE = 48;

export interface Selection {
  /** Main-chain keys that are drawn (a suffix of the chain). */
  chain: string[];
  drawn: Set<string>;
}

/**
 * Picks the nodes to draw. `nodes` sorted by seq; `chain` root first. Pure and
 * O(n log n): two sorts, then linear passes.
 */
export function selectNodes(nodes: ReportNode[], byKey: Map<string, ReportNode>, chain: string[], maxNodes: number): Selection {
  const budget = Math.max(1, Math.floor(maxNodes));
  const others = nodes.length - chain.length;
  // The chain gets everything it needs, but leaves a third for the rest when it is too long.
  const chainBudget = chain.length <= budget ? chain.length : others > 0 ? Math.ceil((budget * 2) / 3) : budget;
  const chainDrawn = chain.slice(chain.length - chainBudget);
  const drawn = new Set<string>(chainDrawn);
  const onChain = new Set(chain);
  const leavesPer = new Map<string, number>();

  const isLeaf = (n: ReportNode) => n.status !== 'keep';
  const add = (n: ReportNode): void => {
    if (drawn.has(n.key) || drawn.size >= budget) return;
    if (isLeaf(n)) {
      const host = n.premises[0] ?? '';
      const c = leavesPer.get(host) ?? 0;
      if (c >= MAX_LEAVES_PER_PREMISE) return;
      leavesPer.set(host, c + 1);
      drawn.add(n.key);
      return;
    }
    // A keep: bring along the first-premise ancestors that connect it to the drawing, if they fit.
    const lineage: ReportNode[] = [n];
    for (let p = byKey.get(n.premises[0] ?? ''); p && !drawn.has(p.key) && !onChain.has(p.key); p = byKey.get(p.premises[0] ?? '')) {
      lineage.push(p);
      if (lineage.length > budget) break;
    }
    if (drawn.size + lineage.length > budget) return;
    for (const m of lineage) drawn.add(m.key);
  };

  const rest = nodes.filter((n) => !onChain.has(n.key));
  const recent = [...rest].reverse();
  const lowK = rest.filter((n) => n.status === 'keep').sort((a, b) => (a.compounded ?? 0) - (b.compounded ?? 0) || b.seq - a.seq);
  let i = 0;
  let j = 0;
  while (drawn.size < budget && (i < recent.length || j < lowK.length)) {
    if (j < lowK.length) add(lowK[j++]);
    if (i < recent.length) add(recent[i++]);
  }
  return { chain: chainDrawn, drawn };
}
