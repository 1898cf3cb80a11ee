import { describe, expect, it } from 'vitest';
import {
  addEdgesChecked,
  affectedBy,
  buildPremiseGraph,
  descendants,
  findCycle,
  mainChain,
} from '../../../src/domain/cascade/index.js';
import { DomainError } from '../../../src/domain/errors.js';
import { chain, graphOf, node } from './helpers.js';

function thrown(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    return e as DomainError;
  }
  throw new Error('expected a DomainError');
}

describe('buildPremiseGraph', () => {
  it('adds an edge premise → experiment and keeps premise order, deduplicated', () => {
    const g = graphOf([node('b', ['a', 'c', 'a']), node('a'), node('c')]);
    expect(g.hasDirectedEdge('a', 'b')).toBe(true);
    expect(g.hasDirectedEdge('c', 'b')).toBe(true);
    expect(g.getNodeAttribute('b', 'premises')).toEqual(['a', 'c']);
  });

  it('throws unknown_premise listing every missing premise', () => {
    const e = thrown(() => buildPremiseGraph([node('a', ['x']), node('b', ['a', 'y'])]));
    expect(e.code).toBe('unknown_premise');
    expect(e.errors?.map((d) => d.message)).toEqual([
      'experiment a: premise x is unknown',
      'experiment b: premise y is unknown',
    ]);
  });

  it('rejects duplicate keys and confidences outside [0, 1]', () => {
    expect(thrown(() => buildPremiseGraph([node('a'), node('a')])).code).toBe('validation_failed');
    expect(thrown(() => buildPremiseGraph([node('a', [], { confidence: 1.2 })])).code).toBe(
      'validation_failed',
    );
    expect(thrown(() => buildPremiseGraph([node('a', [], { confidence: NaN })])).code).toBe(
      'validation_failed',
    );
  });

  it('rejects cyclic premises with the cycle in edge direction', () => {
    const e = thrown(() =>
      buildPremiseGraph([node('r'), node('a', ['r', 'c']), node('b', ['a']), node('c', ['b'])]),
    );
    expect(e.code).toBe('conflict_cycle');
    const cycle = e.extra?.cycle as string[];
    expect(cycle[0]).toBe(cycle[cycle.length - 1]);
    expect(new Set(cycle)).toEqual(new Set(['a', 'b', 'c']));
    // consecutive members are edges premise → experiment
    const premisesOf: Record<string, string[]> = { a: ['r', 'c'], b: ['a'], c: ['b'] };
    for (let i = 0; i + 1 < cycle.length; i++) expect(premisesOf[cycle[i + 1]]).toContain(cycle[i]);
  });

  it('rejects an experiment that is its own premise', () => {
    const e = thrown(() => buildPremiseGraph([node('a', ['a'])]));
    expect(e.extra).toEqual({ cycle: ['a', 'a'] });
  });
});

describe('findCycle / addEdgesChecked', () => {
  const abc = () => graphOf([node('a'), node('b', ['a']), node('c', ['b'])]);

  it('returns the cycle [to, …, from, to] an edge would close', () => {
    expect(findCycle(abc(), 'c', 'a')).toEqual(['a', 'b', 'c', 'a']);
    expect(findCycle(abc(), 'b', 'a')).toEqual(['a', 'b', 'a']);
    expect(findCycle(abc(), 'b', 'b')).toEqual(['b', 'b']);
  });

  it('returns null when no cycle would close', () => {
    expect(findCycle(abc(), 'a', 'c')).toBeNull();
    expect(findCycle(abc(), 'a', 'b')).toBeNull();
  });

  it('throws for unknown endpoints', () => {
    expect(thrown(() => findCycle(abc(), 'zz', 'a')).code).toBe('unknown_premise');
    expect(thrown(() => findCycle(abc(), 'a', 'zz')).code).toBe('not_found');
  });

  it('adds edges and appends to premises', () => {
    const g = graphOf([node('a'), node('b'), node('c', ['b'])]);
    addEdgesChecked(g, [
      { from: 'a', to: 'c' },
      { from: 'a', to: 'b' },
      { from: 'a', to: 'c' },
    ]);
    expect(g.getNodeAttribute('c', 'premises')).toEqual(['b', 'a']);
    expect(g.getNodeAttribute('b', 'premises')).toEqual(['a']);
    expect(g.size).toBe(3);
  });

  it('throws conflict_cycle on the first cycle and leaves the graph unchanged', () => {
    const g = graphOf([node('a'), node('b', ['a']), node('c', ['b']), node('d')]);
    const e = thrown(() =>
      addEdgesChecked(g, [
        { from: 'a', to: 'd' },
        { from: 'd', to: 'a' },
        { from: 'c', to: 'a' },
      ]),
    );
    expect(e.code).toBe('conflict_cycle');
    expect(e.extra).toEqual({ cycle: ['a', 'd', 'a'] });
    expect(g.hasDirectedEdge('a', 'd')).toBe(false);
    expect(g.getNodeAttribute('d', 'premises')).toEqual([]);
    expect(g.size).toBe(2);
  });
});

describe('descendants / affectedBy / mainChain', () => {
  // r → a → c, r → b → c, c → d, x alone
  const g = () =>
    graphOf([
      node('d', ['c']),
      node('c', ['a', 'b']),
      node('b', ['r']),
      node('a', ['r']),
      node('r'),
      node('x'),
    ]);

  it('descendants include the keys and everything built on them', () => {
    expect(descendants(g(), ['a'])).toEqual(new Set(['a', 'c', 'd']));
    expect(descendants(g(), ['r', 'x'])).toEqual(new Set(['r', 'a', 'b', 'c', 'd', 'x']));
  });

  it('affectedBy lists premises before what is built on them', () => {
    const order = affectedBy(g(), ['b', 'a']);
    expect(new Set(order)).toEqual(new Set(['a', 'b', 'c', 'd']));
    expect(order.indexOf('c')).toBeGreaterThan(Math.max(order.indexOf('a'), order.indexOf('b')));
    expect(order.indexOf('d')).toBe(3);
  });

  it('mainChain follows first premises from the root', () => {
    expect(mainChain(g(), 'd')).toEqual(['r', 'a', 'c', 'd']);
    expect(mainChain(g(), 'x')).toEqual(['x']);
  });

  it('handles a 10,000-deep chain iteratively', () => {
    const deep = graphOf(chain(10_000, 0.9));
    expect(mainChain(deep, 'k9999')).toHaveLength(10_000);
    const order = affectedBy(deep, ['k0']);
    expect(order).toHaveLength(10_000);
    expect(order[0]).toBe('k0');
    expect(order[9999]).toBe('k9999');
  });
});
