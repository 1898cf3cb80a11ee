/**
 * Builds the report model in two pure steps, so the caller reads text only for what is shown:
 * `planReport` (structure of every experiment → main chain, selection, contamination, and the
 * keys whose descriptions are needed), then `assembleReport` (plan + loaded details → model).
 */
import { buildPremiseGraph, mainChain } from '../cascade/index.js';
import type { Direction } from '../types.js';
import { contaminationPaths, isGatedKeep } from './contamination.js';
import { selectNodes } from './select.js';
import {
  emptyCounts,
  type ChainStep,
  type ContaminationPath,
  type DagNode,
  type GatedBy,
  type GateDecisionRow,
  type ReportModel,
  type ReportNode,
  type ReproductionOutcome,
  type ReproductionRow,
  type ReproductionStat,
  type ReproductionTotals,
} from './types.js';

export const DEFAULT_MAX_NODES = 1500;

export interface PlanOptions {
  threshold: number;
  /** Most experiments drawn in the DAG (and steps in the main-chain plot). */
  maxNodes?: number;
  /** Contamination paths listed. */
  maxPaths?: number;
}

export interface ReportPlan {
  threshold: number;
  maxNodes: number;
  nodes: ReportNode[];
  byKey: Map<string, ReportNode>;
  /** Experiments built directly on each key (from premise lists). */
  children: Map<string, string[]>;
  /** The whole main chain, root first. */
  chain: string[];
  /** Its drawn suffix. */
  chainDrawn: string[];
  drawn: Set<string>;
  contamination: { total: number; paths: ContaminationPath[] };
  /** Keys whose descriptions the report shows. */
  detailKeys: string[];
}

/** Main chain, selection and contamination from the structure of every experiment. */
export function planReport(input: ReportNode[], opts: PlanOptions): ReportPlan {
  const maxNodes = Math.max(1, Math.floor(opts.maxNodes ?? DEFAULT_MAX_NODES));
  const nodes = [...input].sort((a, b) => a.seq - b.seq);
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  // Premises outside the input (none in a consistent store) are ignored rather than fatal.
  const graph = buildPremiseGraph(
    nodes.map((n) => ({
      key: n.key,
      premises: n.premises.filter((p) => byKey.has(p)),
      confidence: clamp01(n.confidence ?? 0),
      anchored: n.anchored,
      hardGate: n.hardGate,
    })),
  );
  const children = new Map<string, string[]>();
  for (const n of nodes) {
    for (const p of new Set(n.premises)) {
      if (!byKey.has(p)) continue;
      const list = children.get(p);
      if (list) list.push(n.key);
      else children.set(p, [n.key]);
    }
  }
  let head: ReportNode | undefined;
  for (const n of nodes) if (n.status === 'keep') head = n;
  const chain = head ? mainChain(graph, head.key) : [];
  const sel = selectNodes(nodes, byKey, chain, maxNodes);
  const contamination = contaminationPaths(byKey, children, { threshold: opts.threshold, maxPaths: opts.maxPaths ?? 50, maxPathKeys: 40 });
  const detail = new Set<string>(sel.drawn);
  for (const p of contamination.paths) for (const k of p.path) detail.add(k);
  return { threshold: opts.threshold, maxNodes, nodes, byKey, children, chain, chainDrawn: sel.chain, drawn: sel.drawn, contamination, detailKeys: [...detail] };
}

export interface ReportDetails {
  generatedAt: string;
  project: { name: string; metric: { name: string; direction: Direction } };
  /** Descriptions by key (for `plan.detailKeys`; missing keys have none). */
  descriptions: Map<string, string>;
  /** Aggregated reproductions by experiment key. */
  reproductionStats: Map<string, ReproductionStat>;
  reproductionTotals: ReproductionTotals;
  recentReproductions: ReproductionRow[];
  gateDecisions: { total: number; items: GateDecisionRow[] };
  /** Rows absent from the latest log (history; not in `nodes`). */
  absent?: number;
  /** Reproduction jobs queued or running now. */
  pending?: number;
}

/** The report model: plan plus the details loaded for it. */
export function assembleReport(plan: ReportPlan, d: ReportDetails): ReportModel {
  const { byKey, threshold } = plan;
  const byStatus = emptyCounts();
  let gated = 0;
  let anchored = 0;
  for (const n of plan.nodes) {
    byStatus[n.status]++;
    if (isGatedKeep(n, threshold)) gated++;
    if (n.anchored) anchored++;
  }
  const desc = (k: string) => d.descriptions.get(k) ?? null;
  const chainIndex = new Map(plan.chain.map((k, i) => [k, i]));

  const steps: ChainStep[] = plan.chainDrawn.map((key) => {
    const n = byKey.get(key)!;
    const r = d.reproductionStats.get(key);
    return {
      step: chainIndex.get(key)!,
      key,
      seq: n.seq,
      value: n.value,
      reproduced: r ? { runs: r.runs, failed: r.failed, mean: r.mean, min: r.min, max: r.max, beat: r.beat } : null,
      confidence: n.confidence,
      compounded: n.compounded,
      anchored: n.anchored,
      gated: isGatedKeep(n, threshold),
      gatedBy: gatedBy(n, threshold),
      description: desc(key),
    };
  });

  const elidedByStatus = emptyCounts();
  const dagNodes: DagNode[] = [];
  const hidden = new Map<string, number>();
  for (const n of plan.nodes) {
    if (!plan.drawn.has(n.key)) {
      elidedByStatus[n.status]++;
      const host = n.premises[0];
      if (n.status !== 'keep' && host !== undefined && plan.drawn.has(host) && !plan.children.has(n.key)) {
        hidden.set(host, (hidden.get(host) ?? 0) + 1);
      }
      continue;
    }
    dagNodes.push({
      key: n.key,
      seq: n.seq,
      status: n.status,
      value: n.value,
      confidence: n.confidence,
      compounded: n.compounded,
      anchored: n.anchored,
      gated: isGatedKeep(n, threshold),
      hardGate: n.hardGate,
      chainStep: chainIndex.get(n.key) ?? null,
      premises: n.premises.filter((p) => plan.drawn.has(p)),
      description: desc(n.key),
    });
  }
  const head = plan.chain.length > 0 ? byKey.get(plan.chain[plan.chain.length - 1])! : null;

  return {
    version: 1,
    generatedAt: d.generatedAt,
    project: { name: d.project.name, metric: d.project.metric, threshold },
    summary: {
      experiments: plan.nodes.length,
      absent: d.absent ?? 0,
      byStatus,
      gated,
      anchored,
      reproductions: d.reproductionTotals.runs,
      reproductionsFailed: d.reproductionTotals.failed,
      reproducedExperiments: d.reproductionTotals.experiments,
      gpuMinutes: d.reproductionTotals.durationS / 60,
      chainLength: plan.chain.length,
      head: head?.key ?? null,
      headCompounded: head?.compounded ?? null,
      pendingReproductions: d.pending ?? 0,
    },
    mainChain: { length: plan.chain.length, elided: plan.chain.length - plan.chainDrawn.length, steps },
    dag: {
      total: plan.nodes.length,
      drawn: dagNodes.length,
      maxNodes: plan.maxNodes,
      elided: plan.nodes.length - dagNodes.length,
      elidedByStatus,
      nodes: dagNodes,
      hiddenLeaves: [...hidden].map(([key, count]) => ({ key, count })),
    },
    contamination: plan.contamination,
    gateDecisions: d.gateDecisions,
    reproductions: { total: d.reproductionTotals.runs, items: d.recentReproductions.map((x) => ({ ...x, outcome: reproductionOutcome(x, d.project.metric.direction) })) },
  };
}

/**
 * Why a keep is gated: its own hard gate, an inherited one (the gated ancestor's key), or else
 * the weakest link of its cascade (the lowest C between it and the nearest anchor, which bounds
 * K). Null when the keep passes.
 */
export function gatedBy(n: ReportNode, threshold: number): GatedBy | null {
  if (!isGatedKeep(n, threshold)) return null;
  if (n.hardGate) return { kind: 'hard_gate', key: n.key, code: n.hardGate };
  if (n.inheritedGate) return { kind: 'hard_gate', key: n.inheritedGate, code: n.inheritedGateCode ?? 'hard_gate' };
  if (n.weakest) return { kind: 'weakest_link', key: n.weakest.key, confidence: n.weakest.confidence };
  return { kind: 'below_threshold' };
}

/**
 * A reproduction passes its test only when it ran and beat the premise level its experiment's
 * score used. Judged from the value, not the stored `ok` (which says only that a value came back).
 */
export function reproductionOutcome(r: ReproductionRow, direction: Direction): ReproductionOutcome {
  if (r.value === null) return 'failed';
  if (r.premiseLevel === null || r.premiseLevel === undefined) return 'ran';
  const better = direction === 'minimize' ? r.value < r.premiseLevel : r.value > r.premiseLevel;
  return better ? 'reproduced' : 'not_better';
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}
