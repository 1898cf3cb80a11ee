import { describe, expect, it } from 'vitest';
import { reanchorCandidate, reanchorCandidateFor } from '../../../src/domain/cascade/index.js';
import { chain, graphOf, node } from './helpers.js';

describe('reanchorCandidate', () => {
  it('picks the experiment itself when it can be anchored (K rises to C)', () => {
    const g = graphOf(chain(5, 0.8));
    const r = reanchorCandidate(g, 'k4');
    expect(r?.key).toBe('k4');
    expect(r?.resultingK).toBeCloseTo(0.8, 14);
    expect(r?.gain).toBeCloseTo(0.8 - 0.8 ** 5, 14);
  });

  it('skips a hard-gated experiment and picks the premise that cuts the most', () => {
    const g = graphOf([
      ...chain(4, 0.8),
      node('x', ['k3'], { confidence: 0.9, hardGate: 'discard' }),
    ]);
    const r = reanchorCandidate(g, 'x');
    expect(r?.key).toBe('k3');
    expect(r?.resultingK).toBeCloseTo(0.9 * 0.8, 14);
  });

  it('in a diamond only the shared node dominates what lies behind it', () => {
    // r(0.5) → a → {b, c} → d; d gated, so candidates are its ancestors
    const nodes = [
      node('r', [], { confidence: 0.5 }),
      node('a', ['r'], { confidence: 0.9 }),
      node('b', ['a'], { confidence: 0.9 }),
      node('c', ['a'], { confidence: 0.7 }),
      node('d', ['b', 'c'], { confidence: 1, hardGate: 'crash' }),
    ];
    const r = reanchorCandidate(graphOf(nodes), 'd');
    // anchoring b or c cuts nothing (a is still reached via the other side); anchoring a cuts r
    expect(r?.key).toBe('a');
    expect(r?.resultingK).toBeCloseTo(0.9 * 0.7 * 0.9, 14);
  });

  it('returns null when nothing is eligible', () => {
    expect(reanchorCandidate(graphOf([node('a', [], { anchored: true })]), 'a')).toBeNull();
    expect(reanchorCandidate(graphOf([node('a', [], { hardGate: 'crash' })]), 'a')).toBeNull();
  });
});

describe('reanchorCandidateFor', () => {
  it('prefers a shared premise that lifts several gated experiments', () => {
    const nodes = [
      ...chain(5, 0.8),
      node('x1', ['k4'], { confidence: 0.9 }),
      node('x2', ['k4'], { confidence: 0.9 }),
      node('x3', ['k4'], { confidence: 0.9 }),
    ];
    const r = reanchorCandidateFor(graphOf(nodes), ['x1', 'x2', 'x3']);
    expect(r?.key).toBe('k4');
    expect(r?.gain).toBeCloseTo(3 * (0.9 * 0.8 - 0.9 * 0.8 ** 5), 12);
    expect(r?.beneficiaries).toEqual(['x1', 'x2', 'x3']);
  });

  it('with one target agrees with reanchorCandidate', () => {
    const g = graphOf(chain(6, 0.7));
    const one = reanchorCandidate(g, 'k5');
    const batch = reanchorCandidateFor(g, ['k5']);
    expect(batch?.key).toBe(one?.key);
    expect(batch?.gain).toBeCloseTo(one?.gain ?? NaN, 14);
    expect(batch?.beneficiaries).toEqual(['k5']);
  });

  it('returns null when no target has a candidate', () => {
    expect(reanchorCandidateFor(graphOf([node('a', [], { anchored: true })]), ['a'])).toBeNull();
    expect(reanchorCandidateFor(graphOf([node('a')]), [])).toBeNull();
  });
});
