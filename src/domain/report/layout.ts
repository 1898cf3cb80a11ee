/**
 * Layered layout of the premise DAG for the report (pure geometry, pixels):
 * - the main chain runs straight along the x axis, one column per step;
 * - discards, crashes and unknowns that nothing was built on are folded as small marks in a
 *   grid under the premise they were tried on (the "+n" of undrawn ones below that);
 * - other drawn experiments (kept branches, orphans) follow their first premise one column
 *   to the right, on lanes above the chain, packed greedily so branches never overlap.
 * Linear in the drawn nodes apart from lane packing (lanes × paths).
 */
import type { DagNode } from './types.js';

export const MARK = 6; // pitch of a folded mark (5 px square + 1 px gap)

export type Placement = 'chain' | 'branch' | 'leaf';

export interface PlacedNode {
  node: DagNode;
  x: number;
  y: number;
  kind: Placement;
}

export interface DagLayout {
  width: number;
  height: number;
  /** Column pitch and node radius. */
  dx: number;
  r: number;
  chainY: number;
  nodes: PlacedNode[];
  edges: { d: string; kind: 'chain' | 'branch' | 'extra' }[];
  /** "+n" labels for undrawn leaves under a drawn node. */
  more: { x: number; y: number; count: number }[];
  /** Step ticks along the bottom. */
  ticks: { x: number; label: string }[];
  /** First drawn chain step (0 unless the chain's beginning is elided). */
  firstStep: number;
}

const PAD_X = 24;
const PAD_TOP = 14;

/** Places the drawn nodes. `hidden` counts undrawn leaves per drawn host key. */
export function layoutDag(nodes: DagNode[], hidden: Map<string, number> = new Map()): DagLayout {
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const children = new Map<string, DagNode[]>();
  for (const n of nodes) {
    for (const p of n.premises) {
      if (p === n.key) continue;
      const list = children.get(p);
      if (list) list.push(n);
      else children.set(p, [n]);
    }
  }
  const chain = nodes.filter((n) => n.chainStep !== null).sort((a, b) => a.chainStep! - b.chainStep!);
  const firstStep = chain[0]?.chainStep ?? 0;
  const dx = chain.length <= 40 ? 34 : chain.length <= 100 ? 26 : 20;
  const r = dx >= 30 ? 7 : dx >= 24 ? 6 : 5;
  const perRow = Math.max(2, Math.floor((dx - 6) / MARK));

  const host = (n: DagNode): DagNode | undefined => byKey.get(n.premises[0] ?? '');
  const isLeaf = (n: DagNode) => n.chainStep === null && n.status !== 'keep' && !children.has(n.key) && host(n) !== undefined;

  // Columns: chain by step; others one right of their first premise, orphans by time.
  const col = new Map<string, number>();
  for (const n of chain) col.set(n.key, n.chainStep! - firstStep);
  const chainSeqs = chain.map((n) => n.seq);
  let orphanRank = 0;
  for (const n of nodes) {
    if (col.has(n.key)) continue;
    // Walk up first premises to a placed node (iteratively: branches may be long), then down.
    const up: DagNode[] = [];
    const seen = new Set<string>();
    let v: DagNode | undefined = n;
    while (v && !col.has(v.key) && !seen.has(v.key)) {
      up.push(v);
      seen.add(v.key);
      v = host(v);
    }
    let c = v && col.has(v.key) ? col.get(v.key)! : chain.length > 0 ? countBelow(chainSeqs, up[up.length - 1].seq) - 1 : orphanRank++ - 1;
    for (let i = up.length - 1; i >= 0; i--) {
      if (!isLeaf(up[i])) c += 1;
      col.set(up[i].key, c);
    }
  }

  // Branch paths: follow the earliest branch child; siblings start new paths.
  const branch = nodes.filter((n) => n.chainStep === null && !isLeaf(n));
  const inBranch = new Set(branch.map((n) => n.key));
  const pathStarts = branch.filter((n) => !host(n) || !inBranch.has(host(n)!.key));
  const lanes: [number, number][][] = [];
  const laneOf = new Map<string, number>();
  const queue = [...pathStarts];
  for (let qi = 0; qi < queue.length; qi++) {
    const path: DagNode[] = [];
    for (let v: DagNode | undefined = queue[qi]; v && !laneOf.has(v.key); ) {
      path.push(v);
      laneOf.set(v.key, -1);
      const next: DagNode[] = (children.get(v.key) ?? []).filter((c) => inBranch.has(c.key) && host(c)?.key === v!.key && !laneOf.has(c.key));
      next.sort((a, b) => a.seq - b.seq);
      queue.push(...next.slice(1));
      v = next[0];
    }
    if (path.length === 0) continue;
    const h = host(path[0]);
    const a = h ? col.get(h.key)! : col.get(path[0].key)!;
    const b = Math.max(...path.map((p) => col.get(p.key)!));
    let lane = lanes.findIndex((iv) => iv.every(([oa, ob]) => b < oa || a > ob));
    if (lane < 0) lane = lanes.push([]) - 1;
    lanes[lane].push([a, b]);
    for (const p of path) laneOf.set(p.key, lane);
  }

  // Folded leaves per host, oldest first.
  const leaves = new Map<string, DagNode[]>();
  for (const n of nodes) {
    if (!isLeaf(n)) continue;
    const list = leaves.get(host(n)!.key);
    if (list) list.push(n);
    else leaves.set(host(n)!.key, [n]);
  }
  // "+n" labels are staggered on two lines when columns are too narrow for them side by side.
  const stagger = dx < 30;
  const rowsUnder = (key: string) => Math.ceil((leaves.get(key)?.length ?? 0) / perRow) + (hidden.get(key) ? (stagger ? 4 : 2) : 0);
  const laneRows = lanes.map(() => 0);
  for (const n of branch) laneRows[laneOf.get(n.key)!] = Math.max(laneRows[laneOf.get(n.key)!], rowsUnder(n.key));
  const laneH = laneRows.map((rows) => 2 * r + 16 + rows * MARK);

  // Vertical positions: highest lane on top, then down to the chain.
  const laneY: number[] = [];
  let y = PAD_TOP;
  for (let l = lanes.length - 1; l >= 0; l--) {
    laneY[l] = y + r + 4;
    y += laneH[l];
  }
  const chainY = y + r + 6;
  const chainRows = Math.max(0, ...chain.map((n) => rowsUnder(n.key)));
  const ticksY = chainY + r + 8 + chainRows * MARK + 14;

  const xOf = (c: number) => PAD_X + c * dx + dx / 2;
  const placed: PlacedNode[] = [];
  const pos = new Map<string, { x: number; y: number }>();
  for (const n of nodes) {
    if (isLeaf(n)) continue;
    const kind: Placement = n.chainStep !== null ? 'chain' : 'branch';
    const p = { x: xOf(col.get(n.key)!), y: kind === 'chain' ? chainY : laneY[laneOf.get(n.key)!] };
    pos.set(n.key, p);
    placed.push({ node: n, ...p, kind });
  }
  const more: DagLayout['more'] = [];
  for (const [hk, list] of leaves) {
    const hp = pos.get(hk)!;
    const x0 = hp.x - (perRow * MARK) / 2 + 0.5;
    list.forEach((n, i) => {
      placed.push({ node: n, x: x0 + (i % perRow) * MARK, y: hp.y + r + 6 + Math.floor(i / perRow) * MARK, kind: 'leaf' });
    });
  }
  for (const [hk, count] of hidden) {
    const hp = pos.get(hk);
    if (!hp) continue;
    const rows = Math.ceil((leaves.get(hk)?.length ?? 0) / perRow);
    const shift = stagger && col.get(hk)! % 2 === 1 ? 10 : 0;
    more.push({ x: hp.x, y: hp.y + r + 6 + rows * MARK + 8 + shift, count });
  }

  const edges: DagLayout['edges'] = [];
  for (const n of nodes) {
    const to = pos.get(n.key);
    if (!to) continue;
    n.premises.forEach((p, i) => {
      const from = pos.get(p);
      if (!from) return;
      const kind = i > 0 ? 'extra' : n.chainStep !== null && byKey.get(p)!.chainStep !== null ? 'chain' : 'branch';
      edges.push({ d: curve(from, to), kind });
    });
  }
  const maxCol = Math.max(0, ...col.values());
  const every = dx >= 30 ? 5 : 10;
  const ticks: DagLayout['ticks'] = [];
  for (let c = 0; c < chain.length; c += every) ticks.push({ x: xOf(c), label: String(firstStep + c) });
  return { width: PAD_X * 2 + (maxCol + 1) * dx, height: ticksY + 12, dx, r, chainY, nodes: placed, edges, more, ticks, firstStep };
}

function curve(a: { x: number; y: number }, b: { x: number; y: number }): string {
  const f = (v: number) => String(Math.round(v * 10) / 10);
  if (a.y === b.y) return `M${f(a.x)},${f(a.y)}L${f(b.x)},${f(b.y)}`;
  const mx = (a.x + b.x) / 2;
  return `M${f(a.x)},${f(a.y)}C${f(mx)},${f(a.y)} ${f(mx)},${f(b.y)} ${f(b.x)},${f(b.y)}`;
}

/** How many of the sorted numbers are below x (binary search). */
function countBelow(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
