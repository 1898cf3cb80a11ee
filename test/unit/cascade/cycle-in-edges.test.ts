import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cycleInEdges } from '../../../src/domain/cascade/index.js';

describe('cycleInEdges', () => {
  it('answers null for a DAG and a cycle in edge direction otherwise', () => {
    expect(cycleInEdges([{ from: 'a', to: 'b' }, { from: 'b', to: 'c' }, { from: 'a', to: 'c' }])).toBeNull();
    expect(cycleInEdges([{ from: 'r', to: 's' }, { from: 's', to: 'r' }])).toEqual(['r', 's', 'r']);
    expect(cycleInEdges([{ from: 'x', to: 'x' }])).toEqual(['x', 'x']);
  });

  it('finds a cycle exactly when one exists, and every step of it is an edge', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: 7 }), fc.nat({ max: 7 })), { maxLength: 14 }), (pairs) => {
        const edges = pairs.map(([a, b]) => ({ from: `n${a}`, to: `n${b}` }));
        const has = new Set(edges.map((e) => `${e.from}>${e.to}`));
        // Oracle: a DAG iff repeatedly removing nodes without incoming edges empties the graph.
        const nodes = new Set(edges.flatMap((e) => [e.from, e.to]));
        let left = edges;
        for (let changed = true; changed; ) {
          const withIn = new Set(left.map((e) => e.to));
          const sources = [...nodes].filter((n) => !withIn.has(n));
          changed = sources.length > 0;
          for (const n of sources) nodes.delete(n);
          left = left.filter((e) => nodes.has(e.from) && nodes.has(e.to));
        }
        const cycle = cycleInEdges(edges);
        expect(cycle === null).toBe(nodes.size === 0);
        if (cycle) {
          expect(cycle[0]).toBe(cycle[cycle.length - 1]);
          for (let i = 0; i + 1 < cycle.length; i++) expect(has.has(`${cycle[i]}>${cycle[i + 1]}`)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
