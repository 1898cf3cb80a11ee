import { describe, expect, it } from 'vitest';
import { MAX_LEAVES_PER_PREMISE, planReport } from '../../../src/domain/report/index.js';
import { loop, model, node } from './helpers.js';

describe('report model', () => {
  it('follows the main chain from the root to the latest keep by seq', () => {
    const nodes = [
      node('r', 0),
      node('a', 1, { premises: ['r'] }),
      node('side', 2, { premises: ['r'] }),
      node('b', 3, { premises: ['a'] }),
      node('x', 4, { status: 'discard', premises: ['b'], hardGate: 'discard' }),
    ];
    const m = model(nodes);
    expect(m.mainChain.steps.map((s) => s.key)).toEqual(['r', 'a', 'b']);
    expect(m.summary.head).toBe('b');
    expect(m.summary.chainLength).toBe(3);
    expect(m.dag.nodes.find((n) => n.key === 'side')!.chainStep).toBeNull();
    expect(m.dag.nodes.find((n) => n.key === 'b')!.chainStep).toBe(2);
  });

  it('counts statuses, gated keeps (K < threshold or hard gate, own or inherited) and anchors', () => {
    const nodes = [
      node('r', 0, { anchored: true }),
      node('low', 1, { premises: ['r'], compounded: 0.5 }),
      node('hard', 2, { premises: ['r'], hardGate: 'protected_path', compounded: 0.9 }),
      node('d', 3, { status: 'discard', premises: ['r'], hardGate: 'discard' }),
      node('ond', 4, { premises: ['d'], inheritedGate: 'd', compounded: 0.9 }),
      node('c', 5, { status: 'crash', premises: ['r'], hardGate: 'crash', value: null }),
      node('u', 6, { status: 'unknown', premises: ['r'] }),
      node('ok', 7, { premises: ['r'], compounded: 0.7 }),
    ];
    const m = model(nodes);
    expect(m.summary.byStatus).toEqual({ keep: 5, discard: 1, crash: 1, unknown: 1 });
    expect(m.summary.gated).toBe(3);
    expect(m.summary.anchored).toBe(1);
    expect(m.dag.nodes.filter((n) => n.gated).map((n) => n.key).sort()).toEqual(['hard', 'low', 'ond']);
  });

  it('turns reproduction seconds into GPU minutes and attaches reproduced spreads to chain steps', () => {
    const m = model([node('r', 0), node('a', 1, { premises: ['r'] })], {}, {
      reproductionStats: new Map([['a', { key: 'a', runs: 3, failed: 1, mean: 0.99, min: 0.98, max: 1 }]]),
      reproductionTotals: { runs: 3, failed: 1, experiments: 1, durationS: 900 },
    });
    expect(m.summary.gpuMinutes).toBe(15);
    expect(m.summary.reproductionsFailed).toBe(1);
    expect(m.mainChain.steps[1].reproduced).toEqual({ runs: 3, failed: 1, mean: 0.99, min: 0.98, max: 1 });
    expect(m.mainChain.steps[0].reproduced).toBeNull();
  });

  it('handles a project without keeps', () => {
    const m = model([node('d', 0, { status: 'discard', hardGate: 'discard' }), node('c', 1, { status: 'crash', hardGate: 'crash' })]);
    expect(m.summary.head).toBeNull();
    expect(m.mainChain.steps).toEqual([]);
    expect(m.dag.drawn).toBe(2);
  });
});

describe('elision (bounded reports)', () => {
  it('draws everything when it fits', () => {
    const m = model(loop(300));
    expect(m.dag.drawn).toBe(300);
    expect(m.dag.elided).toBe(0);
  });

  it('draws at most maxNodes of 10,000: the main chain, then others; counts the rest by status', () => {
    const nodes = loop(10_000, 20);
    const m = model(nodes, { maxNodes: 1500 });
    expect(m.dag.drawn).toBeLessThanOrEqual(1500);
    expect(m.dag.drawn + m.dag.elided).toBe(10_000);
    const el = m.dag.elidedByStatus;
    expect(el.keep + el.discard + el.crash + el.unknown).toBe(m.dag.elided);
    // The whole chain (501 keeps) is drawn; the most recent others fill the rest.
    expect(m.mainChain.length).toBe(m.summary.byStatus.keep);
    expect(m.mainChain.elided).toBe(0);
    expect(m.dag.nodes.filter((n) => n.chainStep !== null)).toHaveLength(m.mainChain.length);
    expect(m.dag.nodes.some((n) => n.key === 'd9999' || n.key === 'd9998')).toBe(true);
    expect(m.dag.nodes.some((n) => n.key === 'd1')).toBe(false);
    // Undrawn discards next to a drawn premise are counted there.
    const hidden = m.dag.hiddenLeaves.reduce((s, h) => s + h.count, 0);
    expect(hidden).toBeGreaterThan(0);
    expect(hidden).toBeLessThanOrEqual(m.dag.elided);
  });

  it('keeps the end of a main chain longer than the budget', () => {
    const nodes = loop(3000, 1); // 3,000 keeps in one chain
    const m = model(nodes, { maxNodes: 200 });
    expect(m.dag.drawn).toBeLessThanOrEqual(200);
    expect(m.mainChain.length).toBe(3000);
    expect(m.mainChain.steps.length + m.mainChain.elided).toBe(3000);
    expect(m.mainChain.steps.at(-1)!.key).toBe('k2999');
    expect(m.mainChain.steps[0].step).toBe(m.mainChain.elided);
  });

  it('draws at most MAX_LEAVES_PER_PREMISE discards per premise', () => {
    const nodes = [node('r', 0), ...Array.from({ length: 200 }, (_, i) => node(`d${i + 1}`, i + 1, { status: 'discard', premises: ['r'], hardGate: 'discard' }))];
    const m = model(nodes);
    expect(m.dag.drawn).toBe(1 + MAX_LEAVES_PER_PREMISE);
    expect(m.dag.hiddenLeaves).toEqual([{ key: 'r', count: 200 - MAX_LEAVES_PER_PREMISE }]);
  });

  it('brings a chosen branch keep its connecting premises', () => {
    const nodes = loop(2000, 50);
    nodes.push(node('b1', 2000, { premises: ['k50'], compounded: 0.01 }), node('b2', 2001, { premises: ['b1'], compounded: 0.001 }));
    const plan = planReport(nodes, { threshold: 0.6, maxNodes: 100 });
    expect(plan.drawn.has('b2')).toBe(true);
    expect(plan.drawn.has('b1')).toBe(true);
  });
});
