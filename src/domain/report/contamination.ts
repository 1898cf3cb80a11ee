/**
 * Contamination paths (SPEC §10): gated premises that kept experiments were built on anyway.
 * Only where contamination *starts* is listed — once a premise is gated, everything built on
 * it is too (K only shrinks along a chain until an anchor), so listing every gated keep would
 * repeat the same chain over and over. A region ends where the gate passes again (a
 * reproduced anchor vouches for its whole cumulative state); what follows is a new region.
 * Walks `children` built from premise lists (plain Maps: keys such as `constructor` are safe).
 */
import type { ContaminationPath, ReportNode } from './types.js';

/** A keep that fails the gate: K below threshold, or hard-gated (own or inherited). */
export function isGatedKeep(n: ReportNode, threshold: number): boolean {
  if (n.status !== 'keep') return false;
  return n.hardGate !== null || n.inheritedGate !== null || (n.compounded !== null && n.compounded < threshold);
}

/** Why a premise is gated: `below_threshold`, its own hard gate, or `premise_hard_gated`. */
export function gateReason(n: ReportNode): string {
  if (n.status !== 'keep') return n.hardGate ?? n.status;
  if (n.hardGate) return n.hardGate;
  if (n.inheritedGate) return 'premise_hard_gated';
  return 'below_threshold';
}

export interface ContaminationOptions {
  threshold: number;
  /** Paths to return (largest first). */
  maxPaths: number;
  /** Keys kept per path: the first and last halves when the path is longer. */
  maxPathKeys: number;
  /** Sources examined at most (each costs a walk over its descendants). */
  maxSources?: number;
}

/**
 * Sources of contamination: premises that are gated (a gated keep, or any non-keep, which is
 * hard-gated as a premise) with a kept child, none of whose own premises is such a source.
 * For each: how many kept experiments stand on it, and the path to the latest of them.
 */
export function contaminationPaths(
  byKey: Map<string, ReportNode>,
  children: Map<string, string[]>,
  opts: ContaminationOptions,
): { total: number; paths: ContaminationPath[] } {
  const gatedPremise = (n: ReportNode) => n.status !== 'keep' || isGatedKeep(n, opts.threshold);
  const contaminating = (key: string): boolean => {
    const n = byKey.get(key)!;
    return gatedPremise(n) && (children.get(key) ?? []).some((c) => byKey.get(c)!.status === 'keep');
  };
  const sources = [...byKey.values()]
    .filter((n) => contaminating(n.key) && !n.premises.some((p) => byKey.has(p) && contaminating(p)))
    .sort((a, b) => a.seq - b.seq);
  const examined = sources.slice(0, opts.maxSources ?? 200);
  const paths = examined.map((src) => pathFrom(byKey, children, src, gatedPremise, opts.maxPathKeys));
  paths.sort((a, b) => b.affected - a.affected || byKey.get(a.source)!.seq - byKey.get(b.source)!.seq);
  return { total: sources.length, paths: paths.slice(0, opts.maxPaths) };
}

function pathFrom(byKey: Map<string, ReportNode>, children: Map<string, string[]>, src: ReportNode, gated: (n: ReportNode) => boolean, maxKeys: number): ContaminationPath {
  // The region: what is built on the source, transitively, through gated experiments only.
  const below = new Set<string>();
  const stack = [src.key];
  while (stack.length > 0) {
    const v = stack.pop() as string;
    for (const c of children.get(v) ?? []) {
      if (below.has(c) || c === src.key || !gated(byKey.get(c)!)) continue;
      below.add(c);
      stack.push(c);
    }
  }
  let latest: ReportNode | null = null;
  let affected = 0;
  for (const k of below) {
    const n = byKey.get(k)!;
    if (n.status !== 'keep') continue;
    affected++;
    if (latest === null || n.seq > latest.seq) latest = n;
  }
  // Walk back from the latest kept descendant to the source, preferring first premises.
  const path: string[] = [];
  for (let v: string | undefined = latest?.key; v !== undefined && v !== src.key; ) {
    path.push(v);
    v = byKey.get(v)!.premises.find((p) => p === src.key || below.has(p));
  }
  path.push(src.key);
  path.reverse();
  const half = Math.max(1, Math.floor(maxKeys / 2));
  return {
    source: src.key,
    status: src.status,
    compounded: src.compounded,
    reason: gateReason(src),
    affected,
    path: path.length > maxKeys ? [...path.slice(0, half), ...path.slice(path.length - half)] : path,
    pathLength: path.length,
  };
}
