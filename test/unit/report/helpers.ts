import { assembleReport, planReport, type ReportDetails, type ReportModel, type ReportNode } from '../../../src/domain/report/index.js';
import type { ExperimentStatus } from '../../../src/domain/types.js';

/** A ReportNode with defaults: a scored keep with K = C = 0.9. */
export function node(key: string, seq: number, extra: Partial<ReportNode> = {}): ReportNode {
  return { key, seq, status: 'keep', value: 1 - seq / 1000, confidence: 0.9, compounded: 0.9, anchored: false, hardGate: null, inheritedGate: null, premises: [], ...extra };
}

/**
 * A keep-if-better loop of `n` experiments: every `keepEvery`-th is a keep on the chain (K
 * decaying), the rest discards (and every 13th a crash) tried on the current head.
 */
export function loop(n: number, keepEvery = 5): ReportNode[] {
  const out: ReportNode[] = [node('k0', 0)];
  let head = 'k0';
  let k = 0.9;
  for (let i = 1; i < n; i++) {
    if (i % keepEvery === 0 || i === n - 1) {
      k *= 0.95;
      out.push(node(`k${i}`, i, { premises: [head], compounded: k, confidence: 0.95 }));
      head = `k${i}`;
    } else {
      const status: ExperimentStatus = i % 13 === 0 ? 'crash' : 'discard';
      out.push(node(`d${i}`, i, { status, premises: [head], hardGate: status, value: status === 'crash' ? null : 1, compounded: 0.1 }));
    }
  }
  return out;
}

export function details(extra: Partial<ReportDetails> = {}): ReportDetails {
  return {
    generatedAt: '2025-03-08T12:00:00.000Z',
    project: { name: 'demo', metric: { name: 'val_bpb', direction: 'minimize' } },
    descriptions: new Map(),
    reproductionStats: new Map(),
    reproductionTotals: { runs: 0, failed: 0, experiments: 0, durationS: 0 },
    recentReproductions: [],
    gateDecisions: { total: 0, items: [] },
    ...extra,
  };
}

/** Plan + assemble in one go. */
export function model(nodes: ReportNode[], opts: { threshold?: number; maxNodes?: number } = {}, d: Partial<ReportDetails> = {}): ReportModel {
  return assembleReport(planReport(nodes, { threshold: opts.threshold ?? 0.6, maxNodes: opts.maxNodes }), details(d));
}

/** Elements carrying data-key inside the DAG svg. */
export function dagKeyCount(html: string): number {
  const svg = html.slice(html.indexOf('<svg id="dag"'), html.indexOf('</svg>', html.indexOf('<svg id="dag"')));
  return (svg.match(/ data-key="/g) ?? []).length;
}
