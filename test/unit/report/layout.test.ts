import { describe, expect, it } from 'vitest';
import { contaminationPaths, layoutDag, planReport } from '../../../src/domain/report/index.js';
import { loop, model, node } from './helpers.js';

describe('DAG layout', () => {
  it('puts the main chain on one line, left to right, and folds leaves under their premise', () => {
    const m = model(loop(120, 4));
    const L = layoutDag(m.dag.nodes);
    const chain = L.nodes.filter((p) => p.kind === 'chain').sort((a, b) => a.node.chainStep! - b.node.chainStep!);
    expect(chain).toHaveLength(m.mainChain.length);
    expect(new Set(chain.map((p) => p.y)).size).toBe(1);
    for (let i = 1; i < chain.length; i++) expect(chain[i].x).toBeGreaterThan(chain[i - 1].x);
    const at = new Map(L.nodes.map((p) => [p.node.key, p]));
    for (const leaf of L.nodes.filter((p) => p.kind === 'leaf')) {
      const host = at.get(leaf.node.premises[0])!;
      expect(leaf.y).toBeGreaterThan(host.y);
      expect(Math.abs(leaf.x - host.x)).toBeLessThan(L.dx / 2 + 1);
    }
  });

  it('offsets kept branches onto lanes above the chain without overlaps', () => {
    const nodes = loop(60, 3);
    let seq = 100;
    for (const base of ['k3', 'k6', 'k9', 'k12']) {
      let prev = base;
      for (let j = 0; j < 4; j++) {
        const key = `b${base}_${j}`;
        nodes.push(node(key, seq++, { premises: [prev], compounded: 0.3 }));
        prev = key;
      }
    }
    nodes.push(node('merge', seq++, { premises: ['bk3_3', 'bk6_3'] }));
    nodes.push(node('head', seq, { premises: ['k57'] }));
    const L = layoutDag(model(nodes).dag.nodes);
    const branch = L.nodes.filter((p) => p.kind === 'branch');
    expect(branch.length).toBe(18); // 16 branch keeps, the merge, and k59 (the old head, now off the chain)
    expect(branch.every((p) => p.y < L.chainY)).toBe(true);
    const spots = L.nodes.filter((p) => p.kind !== 'leaf').map((p) => `${p.x},${p.y}`);
    expect(new Set(spots).size).toBe(spots.length);
    expect(L.edges.some((e) => e.kind === 'extra')).toBe(true);
    expect(L.width).toBeGreaterThan(0);
    expect(L.height).toBeGreaterThan(L.chainY);
  });
});

describe('contamination paths', () => {
  const thr = 0.6;
  const paths = (nodes: ReturnType<typeof node>[]) => {
    const plan = planReport(nodes, { threshold: thr });
    return contaminationPaths(plan.byKey, plan.children, { threshold: thr, maxPaths: 10, maxPathKeys: 40 });
  };

  it('lists where contamination starts and the path to the latest kept experiment on it', () => {
    const c = paths([
      node('r', 0, { compounded: 0.9 }),
      node('a', 1, { premises: ['r'], compounded: 0.5 }),
      node('b', 2, { premises: ['a'], compounded: 0.4 }),
      node('x', 3, { status: 'discard', premises: ['b'], hardGate: 'discard' }),
      node('c', 4, { premises: ['b'], compounded: 0.3 }),
    ]);
    expect(c.total).toBe(1);
    expect(c.paths[0]).toMatchObject({ source: 'a', reason: 'below_threshold', affected: 2, path: ['a', 'b', 'c'], pathLength: 3 });
  });

  it('ends a region at an anchor that passes the gate; what follows is a new source', () => {
    const c = paths([
      node('r', 0),
      node('a', 1, { premises: ['r'], compounded: 0.5 }),
      node('b', 2, { premises: ['a'], compounded: 0.4 }),
      node('anc', 3, { premises: ['b'], compounded: 0.85, anchored: true }),
      node('c', 4, { premises: ['anc'], compounded: 0.5 }),
      node('d', 5, { premises: ['c'], compounded: 0.45 }),
      node('e', 6, { premises: ['d'], compounded: 0.4 }),
    ]);
    expect(c.paths.map((p) => [p.source, p.affected, p.path])).toEqual([
      ['c', 2, ['c', 'd', 'e']],
      ['a', 1, ['a', 'b']],
    ]);
  });

  it('reports keeps built on a hard-gated premise (a discard, via explicit lineage)', () => {
    const c = paths([node('r', 0), node('d', 1, { status: 'discard', premises: ['r'], hardGate: 'discard' }), node('k', 2, { premises: ['d'], inheritedGate: 'd' })]);
    expect(c.paths[0]).toMatchObject({ source: 'd', reason: 'discard', affected: 1, path: ['d', 'k'] });
  });

  it('is empty when every premise passes', () => {
    expect(paths([node('r', 0), node('a', 1, { premises: ['r'] })]).total).toBe(0);
  });

  it('shortens very long paths to their ends', () => {
    const nodes = [node('r', 0), ...Array.from({ length: 100 }, (_, i) => node(`n${i}`, i + 1, { premises: [i === 0 ? 'r' : `n${i - 1}`], compounded: 0.5 }))];
    const plan = planReport(nodes, { threshold: thr });
    const c = contaminationPaths(plan.byKey, plan.children, { threshold: thr, maxPaths: 5, maxPathKeys: 10 });
    expect(c.paths[0].pathLength).toBe(100);
    expect(c.paths[0].path).toEqual(['n0', 'n1', 'n2', 'n3', 'n4', 'n95', 'n96', 'n97', 'n98', 'n99']);
  });
});
