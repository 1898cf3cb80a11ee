import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  affectedBy,
  ancestorSet,
  compound,
  descendants,
  recomputeCompounded,
  type CascadeNode,
} from '../../../src/domain/cascade/index.js';
import { brute, graphOf } from './helpers.js';

const confidence = fc.oneof(
  fc.constantFrom(0, 0.5, 0.8, 1), // exact values, so ties in the weakest link happen
  fc.double({ min: 0, max: 1, noNaN: true }),
);

/**
 * Random DAGs: node i's premises point only to earlier nodes. Keys are sometimes
 * integer-like (graphology orders those numerically) and the input order is shuffled.
 */
const dag: fc.Arbitrary<CascadeNode[]> = fc
  .record({
    specs: fc.array(
      fc.record({
        premises: fc.array(fc.nat(), { maxLength: 3 }),
        confidence,
        anchored: fc.nat(4).map((v) => v === 0), // one in five
        hardGate: fc.option(fc.constantFrom('crash', 'discard'), { freq: 6 }),
      }),
      { minLength: 1, maxLength: 12 },
    ),
    numericKeys: fc.boolean(),
    order: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 12, maxLength: 12 }),
  })
  .map(({ specs, numericKeys, order }) => {
    const key = (i: number) => (numericKeys ? String((i * 7) % 13) : `n${i}`);
    const nodes = specs.map((s, i) => ({
      key: key(i),
      premises: i === 0 ? [] : s.premises.map((p) => key(p % i)),
      confidence: s.confidence,
      anchored: s.anchored,
      hardGate: s.hardGate,
    }));
    return nodes
      .map((n, i) => ({ n, r: order[i] }))
      .sort((a, b) => a.r - b.r)
      .map(({ n }) => n);
  });

const runs = { numRuns: 300 };

describe('cascade properties on random DAGs', () => {
  it('compound and recomputeCompounded equal brute-force path enumeration', () => {
    fc.assert(
      fc.property(dag, (nodes) => {
        const g = graphOf(nodes);
        const batch = recomputeCompounded(
          g,
          nodes.map((n) => n.key),
        );
        for (const n of nodes) {
          const want = brute(nodes, n.key);
          for (const got of [compound(g, n.key), batch.get(n.key)]) {
            expect(got?.compounded).toBeCloseTo(want.compounded, 12);
            expect(got?.ancestors).toBe(want.ancestors.size);
            expect(got?.weakest).toEqual(want.weakest);
            expect(got?.hardGate).toEqual(want.hardGate);
          }
          expect(ancestorSet(g, n.key)).toEqual(want.ancestors);
        }
      }),
      runs,
    );
  });

  it('a batch over some targets equals the per-node evaluation', () => {
    fc.assert(
      fc.property(dag, fc.array(fc.nat()), (nodes, picks) => {
        const g = graphOf(nodes);
        const targets = picks.map((p) => nodes[p % nodes.length].key);
        const batch = recomputeCompounded(g, targets);
        expect(new Set(batch.keys())).toEqual(new Set(targets));
        for (const t of targets) {
          const single = compound(g, t);
          expect(batch.get(t)?.compounded).toBeCloseTo(single.compounded, 12);
          expect({ ...batch.get(t), compounded: 0 }).toEqual({ ...single, compounded: 0 });
        }
      }),
      runs,
    );
  });

  it('on larger chain-like DAGs the batch equals the per-node evaluation', () => {
    // premises mostly to recent nodes, so diamonds nest and chains run deep
    const big = fc
      .array(
        fc.record({
          back: fc.array(fc.nat(6), { minLength: 1, maxLength: 3 }),
          confidence,
          anchored: fc.nat(9).map((v) => v === 0),
        }),
        { minLength: 1, maxLength: 80 },
      )
      .map((specs) =>
        specs.map((s, i) => ({
          key: `n${i}`,
          premises: i === 0 ? [] : s.back.map((b) => `n${Math.max(0, i - 1 - b)}`),
          confidence: s.confidence,
          anchored: s.anchored,
          hardGate: i % 17 === 5 ? 'crash' : null,
        })),
      );
    fc.assert(
      fc.property(big, (nodes) => {
        const g = graphOf(nodes);
        const batch = recomputeCompounded(
          g,
          nodes.map((n) => n.key),
        );
        for (const n of nodes) {
          const single = compound(g, n.key);
          expect(batch.get(n.key)?.compounded).toBeCloseTo(single.compounded, 12);
          expect({ ...batch.get(n.key), compounded: 0 }).toEqual({ ...single, compounded: 0 });
        }
      }),
      { numRuns: 100 },
    );
  });

  it('K ≤ C(X), and K = C(X) for anchored X', () => {
    fc.assert(
      fc.property(dag, (nodes) => {
        const batch = recomputeCompounded(
          graphOf(nodes),
          nodes.map((n) => n.key),
        );
        for (const n of nodes) {
          const k = batch.get(n.key)?.compounded as number;
          expect(k).toBeLessThanOrEqual(n.confidence + 1e-15);
          expect(k).toBeGreaterThanOrEqual(0);
          if (n.anchored) expect(k).toBe(n.confidence);
        }
      }),
      runs,
    );
  });

  it('K never increases when any C decreases', () => {
    fc.assert(
      fc.property(
        dag,
        fc.nat(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (nodes, pick, factor) => {
          const lowered = nodes[pick % nodes.length].key;
          const after = nodes.map((n) =>
            n.key === lowered ? { ...n, confidence: n.confidence * factor } : n,
          );
          const k0 = recomputeCompounded(
            graphOf(nodes),
            nodes.map((n) => n.key),
          );
          const k1 = recomputeCompounded(
            graphOf(after),
            nodes.map((n) => n.key),
          );
          for (const n of nodes) {
            expect(k1.get(n.key)?.compounded).toBeLessThanOrEqual(
              (k0.get(n.key)?.compounded as number) * (1 + 1e-12),
            );
          }
        },
      ),
      runs,
    );
  });

  it('affectedBy is the changed set plus descendants, premises first', () => {
    fc.assert(
      fc.property(dag, fc.array(fc.nat(), { maxLength: 3 }), (nodes, picks) => {
        const g = graphOf(nodes);
        const changed = picks.map((p) => nodes[p % nodes.length].key);
        const order = affectedBy(g, changed);
        // brute force: X is affected iff a changed key is X or one of its ancestors (all paths)
        const upstream = (x: string): Set<string> => {
          const seen = new Set([x]);
          const stack = [x];
          while (stack.length > 0) {
            const v = stack.pop();
            for (const p of nodes.find((n) => n.key === v)?.premises ?? []) {
              if (!seen.has(p)) {
                seen.add(p);
                stack.push(p);
              }
            }
          }
          return seen;
        };
        const want = nodes
          .filter((n) => changed.some((c) => upstream(n.key).has(c)))
          .map((n) => n.key);
        expect(new Set(order)).toEqual(new Set(want));
        expect(order).toHaveLength(want.length);
        expect(descendants(g, changed)).toEqual(new Set(want));
        for (const x of order) {
          for (const p of g.getNodeAttribute(x, 'premises')) {
            if (order.includes(p)) expect(order.indexOf(p)).toBeLessThan(order.indexOf(x));
          }
        }
      }),
      runs,
    );
  });
});

describe('extending stored cascades (known premises)', () => {
  // Chain-like DAGs: most experiments have one premise, a few two (diamonds), some anchors.
  const chainy = fc
    .array(
      fc.record({
        back: fc.nat(9).chain((v) => fc.array(fc.nat(4), { minLength: v === 0 ? 2 : 1, maxLength: v === 0 ? 2 : 1 })),
        confidence,
        anchored: fc.nat(5).map((v) => v === 0),
        hardGate: fc.option(fc.constantFrom('crash', 'discard'), { freq: 8 }),
      }),
      { minLength: 2, maxLength: 40 },
    )
    .map((specs) =>
      specs.map((s, i) => ({
        key: `n${i}`,
        premises: i === 0 ? [] : [...new Set(s.back.map((b) => `n${Math.max(0, i - 1 - b)}`))],
        confidence: s.confidence,
        anchored: s.anchored,
        hardGate: s.hardGate,
      })),
    );

  it('equals the full evaluation when only the changed part and its premises are loaded', () => {
    fc.assert(
      fc.property(chainy, fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), (nodes, picks) => {
        const full = graphOf(nodes);
        const affected = descendants(full, picks.map((p) => nodes[p % nodes.length].key));
        const byKey = new Map(nodes.map((n) => [n.key, n]));
        // What the service does: only when no affected experiment walks a diamond.
        fc.pre([...affected].every((k) => byKey.get(k)!.anchored || byKey.get(k)!.premises.length <= 1));
        const frontier = new Set<string>();
        for (const k of affected) {
          const n = byKey.get(k)!;
          if (!n.anchored) for (const p of n.premises) if (!affected.has(p)) frontier.add(p);
        }
        const known = new Map([...frontier].filter((k) => !byKey.get(k)!.anchored).map((k) => {
          const { key: _key, ...stored } = compound(full, k);
          return [k, stored] as const;
        }));
        const loaded = new Set([...affected, ...frontier]);
        const partial = graphOf(
          nodes
            .filter((n) => loaded.has(n.key))
            .map((n) => ({ ...n, premises: frontier.has(n.key) ? [] : n.premises.filter((p) => loaded.has(p)) })),
        );
        const got = recomputeCompounded(partial, affected, known);
        expect(new Set(got.keys())).toEqual(affected);
        for (const k of affected) {
          const want = compound(full, k);
          expect(got.get(k)?.compounded).toBeCloseTo(want.compounded, 12);
          expect({ ...got.get(k), compounded: 0 }).toEqual({ ...want, compounded: 0 });
        }
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a known premise inside a diamond walk', () => {
    const g = graphOf([
      { key: 'a', premises: [], confidence: 0.9, anchored: false, hardGate: null },
      { key: 'b', premises: [], confidence: 0.9, anchored: false, hardGate: null },
      { key: 'x', premises: ['a', 'b'], confidence: 0.9, anchored: false, hardGate: null },
    ]);
    const { key: _k, ...stored } = compound(g, 'a');
    expect(() => recomputeCompounded(g, ['x'], new Map([['a', stored]]))).toThrow(/diamond/);
  });
});

