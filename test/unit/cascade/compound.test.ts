import { describe, expect, it } from 'vitest';
import { ancestorSet, compound, recomputeCompounded } from '../../../src/domain/cascade/index.js';
import { DomainError } from '../../../src/domain/errors.js';
import { chain, graphOf, node } from './helpers.js';

/** compound and the batch agree on every example. */
function both(nodes: Parameters<typeof graphOf>[0], key: string) {
  const g = graphOf(nodes);
  const single = compound(g, key);
  const batch = recomputeCompounded(g, [key]).get(key);
  expect(batch?.compounded).toBeCloseTo(single.compounded, 14);
  expect({ ...batch, compounded: 0 }).toEqual({ ...single, compounded: 0 });
  return single;
}

describe('compounded confidence K', () => {
  it('multiplies along a chain of three', () => {
    const r = both(
      [
        node('a', [], { confidence: 0.9 }),
        node('b', ['a'], { confidence: 0.8 }),
        node('c', ['b'], { confidence: 0.7 }),
      ],
      'c',
    );
    expect(r.compounded).toBeCloseTo(0.9 * 0.8 * 0.7, 14);
    expect(r.ancestors).toBe(2);
    expect(r.weakest).toEqual({ key: 'c', confidence: 0.7 });
    expect(r.hardGate).toBeNull();
  });

  it('an anchor cuts the chain: its C counts, its ancestors do not', () => {
    const nodes = [
      node('a', [], { confidence: 0.2 }),
      node('b', ['a'], { confidence: 0.9, anchored: true }),
      node('c', ['b'], { confidence: 0.8 }),
    ];
    const r = both(nodes, 'c');
    expect(r.compounded).toBeCloseTo(0.72, 14);
    expect(r.ancestors).toBe(1);
    expect(r.weakest).toEqual({ key: 'c', confidence: 0.8 });
    expect(ancestorSet(graphOf(nodes), 'c')).toEqual(new Set(['b']));
  });

  it('an anchored experiment vouches for itself: K = C', () => {
    const nodes = [
      node('a', [], { confidence: 0.1 }),
      node('b', ['a'], { confidence: 0.85, anchored: true }),
    ];
    const r = both(nodes, 'b');
    expect(r).toEqual({
      key: 'b',
      compounded: 0.85,
      weakest: { key: 'b', confidence: 0.85 },
      weakestDist: 0,
      hardGate: null,
      hardGateDist: null,
      ancestors: 0,
    });
  });

  it('a root has K = C', () => {
    expect(both([node('r', [], { confidence: 0.6 })], 'r').compounded).toBe(0.6);
  });

  it('a diamond counts the shared ancestor once', () => {
    // a → b → d, a → c → d
    const nodes = [
      node('a', [], { confidence: 0.5 }),
      node('b', ['a'], { confidence: 0.9 }),
      node('c', ['a'], { confidence: 0.8 }),
      node('d', ['b', 'c'], { confidence: 0.95 }),
    ];
    const r = both(nodes, 'd');
    expect(r.compounded).toBeCloseTo(0.95 * 0.9 * 0.8 * 0.5, 14);
    expect(r.ancestors).toBe(3);
  });

  it('a diamond with one anchored side still reaches the shared ancestor through the other', () => {
    const nodes = [
      node('z', [], { confidence: 0.3 }),
      node('a', ['z'], { confidence: 0.5 }),
      node('b', ['a'], { confidence: 0.9, anchored: true }),
      node('c', ['a'], { confidence: 0.8 }),
      node('d', ['b', 'c'], { confidence: 0.95 }),
      node('e', ['d'], { confidence: 0.99 }),
    ];
    const r = both(nodes, 'e');
    expect(r.compounded).toBeCloseTo(0.99 * 0.95 * 0.9 * 0.8 * 0.5 * 0.3, 14);
    expect(r.ancestors).toBe(5);
  });

  it('names the weakest link, nearest X on ties', () => {
    const nodes = [
      node('a', [], { confidence: 0.4 }),
      node('b', ['a'], { confidence: 0.9 }),
      node('c', ['b'], { confidence: 0.4 }),
      node('d', ['c'], { confidence: 0.95 }),
    ];
    expect(both(nodes, 'd').weakest).toEqual({ key: 'c', confidence: 0.4 });
    expect(both(nodes, 'b').weakest).toEqual({ key: 'a', confidence: 0.4 });
  });

  it('surfaces a hard-gated premise (crash, discard), nearest first', () => {
    const nodes = [
      node('a', [], { hardGate: 'discard' }),
      node('b', ['a'], { hardGate: 'crash' }),
      node('c', ['b'], { confidence: 0.9 }),
    ];
    expect(both(nodes, 'c').hardGate).toEqual({ key: 'b', code: 'crash' });
    expect(both(nodes, 'b').hardGate).toEqual({ key: 'b', code: 'crash' });
    expect(both(nodes, 'a').hardGate).toEqual({ key: 'a', code: 'discard' });
  });

  it('does not surface a hard gate behind an anchor', () => {
    const nodes = [
      node('a', [], { hardGate: 'crash' }),
      node('b', ['a'], { anchored: true }),
      node('c', ['b']),
    ];
    expect(both(nodes, 'c').hardGate).toBeNull();
  });

  it('throws not_found for an unknown experiment', () => {
    const g = graphOf([node('a')]);
    expect(() => compound(g, 'zz')).toThrow(DomainError);
    expect(() => recomputeCompounded(g, ['zz'])).toThrow(DomainError);
  });

  it('returns the targets in topological order', () => {
    const g = graphOf(chain(5, 0.9));
    expect([...recomputeCompounded(g, ['k4', 'k1', 'k3']).keys()]).toEqual(['k1', 'k3', 'k4']);
  });
});

describe('a 30-keep chain at C = 0.8', () => {
  it('decays as 0.8^(d+1) without anchors and falls below 0.6 after the 2nd link', () => {
    const g = graphOf(chain(30, 0.8));
    const ks = recomputeCompounded(g, g.nodes());
    for (let d = 0; d < 30; d++) {
      expect(ks.get(`k${d}`)?.compounded).toBeCloseTo(0.8 ** (d + 1), 14);
      expect(compound(g, `k${d}`).compounded).toBeCloseTo(0.8 ** (d + 1), 14);
    }
    expect(ks.get('k1')?.compounded).toBeGreaterThanOrEqual(0.6);
    expect(ks.get('k2')?.compounded).toBeLessThan(0.6);
    // SPEC §4 "29 keeps at 0.8 compound to 0.0016": 0.8^29 ≈ 0.00155
    expect(ks.get('k28')?.compounded).toBeGreaterThan(0.0015);
    expect(ks.get('k28')?.compounded).toBeLessThan(0.0016);
  });

  it('stays at or above 0.8^3 with an anchor every 3rd link', () => {
    const g = graphOf(chain(30, 0.8, (d) => d % 3 === 2));
    const ks = [...recomputeCompounded(g, g.nodes()).values()].map((c) => c.compounded);
    expect(Math.min(...ks)).toBeCloseTo(0.8 ** 3, 14);
    for (const k of ks) expect(k).toBeGreaterThanOrEqual(0.8 ** 3 - 1e-12);
  });
});
