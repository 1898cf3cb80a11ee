import { readFileSync } from 'node:fs';
import type { LoopResult } from './loop.js';

/** The shape of a keep-if-better log, in units of σ: what the karpathy regime is calibrated on. */
export interface LogShape {
  proposals: number;
  keepRate: number;
  /** Share of keeps that improved on their premise by less than 2σ. */
  smallKeeps: number;
  /** Median regression of discards (σ units). */
  discardMedian: number;
  /** Share of discards worse than their premise by more than 4σ. */
  bigRegressions: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function shapeOf(rows: { status: string; delta: number | null }[], sigma: number): LogShape {
  const proposals = rows.filter((r) => r.status !== 'crash' && r.delta !== null);
  const keeps = proposals.filter((r) => r.status === 'keep').map((r) => r.delta! / sigma);
  const discards = proposals.filter((r) => r.status === 'discard').map((r) => -r.delta! / sigma);
  return {
    proposals: proposals.length,
    keepRate: keeps.length / proposals.length,
    smallKeeps: keeps.filter((d) => d < 2).length / keeps.length,
    discardMedian: median(discards),
    bigRegressions: discards.filter((d) => d > 4).length / discards.length,
  };
}

/** Shape of a real Karpathy-format results.tsv (minimized metric in column 2), each row vs the latest keep. */
export function realLogShape(path: string, sigma: number): LogShape {
  const lines = readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .slice(1)
    .filter((l) => l.trim());
  let premise: number | null = null;
  const rows: { status: string; delta: number | null }[] = [];
  for (const l of lines) {
    const [, v, , status] = l.split('\t');
    const value = Number(v);
    if (status === 'crash') continue;
    if (premise !== null) rows.push({ status, delta: premise - value });
    if (status === 'keep') premise = value;
  }
  return shapeOf(rows, sigma);
}

/** Shape of simulated flat keep/discard loops (the loop as Karpathy ran it). */
export function simulatedShape(loops: LoopResult[], sigma: number): LogShape {
  return shapeOf(
    loops.flatMap((l) => l.outcomes.map((o) => ({ status: o.status, delta: o.observedDelta }))),
    sigma,
  );
}
