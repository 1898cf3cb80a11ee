import { expect } from 'vitest';
import { buildPremiseGraph, compound } from '../../src/domain/cascade/index.js';
import { api } from './service.js';

export interface GraphOut {
  nodes: { key: string; status: string; confidence: number; compounded: number; anchored: boolean; hardGate: string | null }[];
  edges: { from: string; to: string }[];
}

/**
 * Reads a project's graph from a running service and checks that every node's stored K equals a
 * from-scratch recomputation over the stored C values and edges, and that no key appears twice.
 * Returns the graph for further checks.
 */
export async function expectStoredKRecomputes(base: string, project: string): Promise<GraphOut> {
  const res = await api<GraphOut>(base, 'GET', `/v1/projects/${project}/graph`);
  expect(res.status).toBe(200);
  const graph = res.body;
  expect(new Set(graph.nodes.map((n) => n.key)).size).toBe(graph.nodes.length);
  const premises = new Map<string, string[]>();
  for (const e of graph.edges) premises.set(e.to, [...(premises.get(e.to) ?? []), e.from]);
  const g = buildPremiseGraph(
    graph.nodes.map((n) => ({ key: n.key, premises: premises.get(n.key) ?? [], confidence: n.confidence, anchored: n.anchored, hardGate: n.hardGate })),
  );
  for (const n of graph.nodes) expect(n.compounded, n.key).toBeCloseTo(compound(g, n.key).compounded, 12);
  return graph;
}

