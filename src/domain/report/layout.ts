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

/** The drawn DAG indexed for layout: lookups, the chain in step order and the pitch it sets. */
interface DagIndex {
  nodes: DagNode[];
  byKey: Map<string, DagNode>;
  children: Map<string, DagNode[]>;
  chain: DagNode[];
  firstStep: number;
  /** Column pitch, node radius (px) and folded marks per row under a node. */
  dx: number;
  r: number;
  perRow: number;
  /** The drawn first premise: where a node hangs. */
  host: (n: DagNode) => DagNode | undefined;
  /** Off the chain, not a keep, nothing built on it, with a drawn host: folded as a mark. */
  isLeaf: (n: DagNode) => boolean;
}

/** Branch lanes above the chain: per lane, the column intervals [a, b] of its paths. */
interface Lanes {
  branch: DagNode[];
  lanes: [number, number][][];
  laneOf: Map<string, number>;
}

/** Vertical geometry: y of each lane and of the chain, the bottom of the chain's marks. */
interface Rows {
  laneY: number[];
  chainY: number;
  ticksY: number;
  /** "+n" labels staggered on two lines (columns too narrow side by side). */
  stagger: boolean;
}

type Point = { x: number; y: number };

/** Places the drawn nodes. `hidden` counts undrawn leaves per drawn host key. */
export function layoutDag(nodes: DagNode[], hidden: Map<string, number> = new Map()): DagLayout {
  const g = indexDag(nodes);
  const col = assignColumns(g);
  const lanes = packLanes(g, col);
  const leaves = foldLeaves(g);
  const rows = stackRows(g, lanes, leaves, hidden);
  const xOf = (c: number) => PAD_X + c * g.dx + g.dx / 2;
  const { placed, pos, more } = placeNodes(g, col, lanes, leaves, rows, hidden, xOf);
  const maxCol = Math.max(0, ...col.values());
  const every = g.dx >= 30 ? 5 : 10;
  const ticks: DagLayout['ticks'] = [];
  for (let c = 0; c < g.chain.length; c += every) ticks.push({ x: xOf(c), label: String(g.firstStep + c) });
  return { width: PAD_X * 2 + (maxCol + 1) * g.dx, height: rows.ticksY + 12, dx: g.dx, r: g.r, chainY: rows.chainY, nodes: placed, edges: drawEdges(g, pos), more, ticks, firstStep: g.firstStep };
}

function indexDag(nodes: DagNode[]): DagIndex {
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
  const dx = chain.length <= 40 ? 34 : chain.length <= 100 ? 26 : 20;
  const host = (n: DagNode): DagNode | undefined => byKey.get(n.premises[0] ?? '');
  return {
    nodes,
    byKey,
    children,
    chain,
    firstStep: chain[0]?.chainStep ?? 0,
    dx,
    r: dx >= 30 ? 7 : dx >= 24 ? 6 : 5,
    perRow: Math.max(2, Math.floor((dx - 6) / MARK)),
    host,
    isLeaf: (n) => n.chainStep === null && n.status !== 'keep' && !children.has(n.key) && host(n) !== undefined,
  };
}

/** Columns: the chain by step; others one right of their first premise; orphans by time. */
function assignColumns(g: DagIndex): Map<string, number> {
  const col = new Map<string, number>();
  for (const n of g.chain) col.set(n.key, n.chainStep! - g.firstStep);
  const chainSeqs = g.chain.map((n) => n.seq);
  let orphanRank = 0;
  for (const n of g.nodes) {
    if (col.has(n.key)) continue;
    // Walk up first premises to a placed node (iteratively: branches may be long), then down.
    const up: DagNode[] = [];
    const seen = new Set<string>();
    let v: DagNode | undefined = n;
    while (v && !col.has(v.key) && !seen.has(v.key)) {
      up.push(v);
      seen.add(v.key);
      v = g.host(v);
    }
    let c = v && col.has(v.key) ? col.get(v.key)! : g.chain.length > 0 ? countBelow(chainSeqs, up[up.length - 1].seq) - 1 : orphanRank++ - 1;
    for (let i = up.length - 1; i >= 0; i--) {
      if (!g.isLeaf(up[i])) c += 1;
      col.set(up[i].key, c);
    }
  }
  return col;
}

/** Branch paths follow the earliest branch child (siblings start new paths), packed greedily on lanes. */
function packLanes(g: DagIndex, col: Map<string, number>): Lanes {
  const branch = g.nodes.filter((n) => n.chainStep === null && !g.isLeaf(n));
  const inBranch = new Set(branch.map((n) => n.key));
  const pathStarts = branch.filter((n) => !g.host(n) || !inBranch.has(g.host(n)!.key));
  const lanes: [number, number][][] = [];
  const laneOf = new Map<string, number>();
  const queue = [...pathStarts];
  for (let qi = 0; qi < queue.length; qi++) {
    const path: DagNode[] = [];
    for (let v: DagNode | undefined = queue[qi]; v && !laneOf.has(v.key); ) {
      path.push(v);
      laneOf.set(v.key, -1);
      const next: DagNode[] = (g.children.get(v.key) ?? []).filter((c) => inBranch.has(c.key) && g.host(c)?.key === v!.key && !laneOf.has(c.key));
      next.sort((a, b) => a.seq - b.seq);
      queue.push(...next.slice(1));
      v = next[0];
    }
    if (path.length === 0) continue;
    const h = g.host(path[0]);
    const a = h ? col.get(h.key)! : col.get(path[0].key)!;
    const b = Math.max(...path.map((p) => col.get(p.key)!));
    let lane = lanes.findIndex((iv) => iv.every(([oa, ob]) => b < oa || a > ob));
    if (lane < 0) lane = lanes.push([]) - 1;
    lanes[lane].push([a, b]);
    for (const p of path) laneOf.set(p.key, lane);
  }
  return { branch, lanes, laneOf };
}

/** Folded leaves per host key, oldest first. */
function foldLeaves(g: DagIndex): Map<string, DagNode[]> {
  const leaves = new Map<string, DagNode[]>();
  for (const n of g.nodes) {
    if (!g.isLeaf(n)) continue;
    const list = leaves.get(g.host(n)!.key);
    if (list) list.push(n);
    else leaves.set(g.host(n)!.key, [n]);
  }
  return leaves;
}

/** Lane heights from the marks under their nodes; highest lane on top, then down to the chain. */
function stackRows(g: DagIndex, { branch, lanes, laneOf }: Lanes, leaves: Map<string, DagNode[]>, hidden: Map<string, number>): Rows {
  const stagger = g.dx < 30;
  const rowsUnder = (key: string) => Math.ceil((leaves.get(key)?.length ?? 0) / g.perRow) + (hidden.get(key) ? (stagger ? 4 : 2) : 0);
  const laneRows = lanes.map(() => 0);
  for (const n of branch) laneRows[laneOf.get(n.key)!] = Math.max(laneRows[laneOf.get(n.key)!], rowsUnder(n.key));
  const laneH = laneRows.map((rows) => 2 * g.r + 16 + rows * MARK);
  const laneY: number[] = [];
  let y = PAD_TOP;
  for (let l = lanes.length - 1; l >= 0; l--) {
    laneY[l] = y + g.r + 4;
    y += laneH[l];
  }
  const chainY = y + g.r + 6;
  const chainRows = Math.max(0, ...g.chain.map((n) => rowsUnder(n.key)));
  return { laneY, chainY, ticksY: chainY + g.r + 8 + chainRows * MARK + 14, stagger };
}

/** Positions of chain and branch nodes, their folded marks below them, and the "+n" labels. */
function placeNodes(
  g: DagIndex,
  col: Map<string, number>,
  { laneOf }: Lanes,
  leaves: Map<string, DagNode[]>,
  rows: Rows,
  hidden: Map<string, number>,
  xOf: (c: number) => number,
): { placed: PlacedNode[]; pos: Map<string, Point>; more: DagLayout['more'] } {
  const placed: PlacedNode[] = [];
  const pos = new Map<string, Point>();
  for (const n of g.nodes) {
    if (g.isLeaf(n)) continue;
    const kind: Placement = n.chainStep !== null ? 'chain' : 'branch';
    const p = { x: xOf(col.get(n.key)!), y: kind === 'chain' ? rows.chainY : rows.laneY[laneOf.get(n.key)!] };
    pos.set(n.key, p);
    placed.push({ node: n, ...p, kind });
  }
  for (const [hk, list] of leaves) {
    const hp = pos.get(hk)!;
    const x0 = hp.x - (g.perRow * MARK) / 2 + 0.5;
    list.forEach((n, i) => {
      placed.push({ node: n, x: x0 + (i % g.perRow) * MARK, y: hp.y + g.r + 6 + Math.floor(i / g.perRow) * MARK, kind: 'leaf' });
    });
  }
  const more: DagLayout['more'] = [];
  for (const [hk, count] of hidden) {
    const hp = pos.get(hk);
    if (!hp) continue;
    const markRows = Math.ceil((leaves.get(hk)?.length ?? 0) / g.perRow);
    const shift = rows.stagger && col.get(hk)! % 2 === 1 ? 10 : 0;
    more.push({ x: hp.x, y: hp.y + g.r + 6 + markRows * MARK + 8 + shift, count });
  }
  return { placed, pos, more };
}

/** Premise edges between placed nodes: chain to chain, first premise (branch), further premises (extra). */
function drawEdges(g: DagIndex, pos: Map<string, Point>): DagLayout['edges'] {
  const edges: DagLayout['edges'] = [];
  for (const n of g.nodes) {
    const to = pos.get(n.key);
    if (!to) continue;
    n.premises.forEach((p, i) => {
      const from = pos.get(p);
      if (!from) return;
      const kind = i > 0 ? 'extra' : n.chainStep !== null && g.byKey.get(p)!.chainStep !== null ? 'chain' : 'branch';
      edges.push({ d: curve(from, to), kind });
    });
  }
  return edges;
}

function curve(a: Point, b: Point): string {
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
