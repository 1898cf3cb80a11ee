/**
 * Deep and large graphs: recomputeCompounded must finish without recursion (no stack
 * overflow). Correctness is checked on a few nodes; speed belongs in bench/.
 */
import { describe, expect, it } from 'vitest';
import {
  compound,
  recomputeCompounded,
  type CascadeNode,
} from '../../../src/domain/cascade/index.js';
import { rng } from '../../helpers/prng.js';
import { chain, graphOf } from './helpers.js';


describe('scale', () => {
  it('a 10,000-deep chain', () => {
    const c = 0.9999;
    const g = graphOf(chain(10_000, c));
    const ks = recomputeCompounded(g, ['k9999', 'k4999', 'k0']);
    expect(ks.get('k0')?.compounded).toBe(c);
    expect(ks.get('k4999')?.compounded).toBeCloseTo(c ** 5000, 10);
    expect(ks.get('k9999')?.compounded).toBeCloseTo(c ** 10_000, 10);
    expect(ks.get('k9999')?.ancestors).toBe(9999);
    expect(compound(g, 'k9999').compounded).toBeCloseTo(c ** 10_000, 10);
    // the batched candidate search is iterative too
  });

  it('a 100,000-node mostly chain-like DAG with diamonds and anchors', () => {
    const random = rng(42);
    const nodes: CascadeNode[] = [];
    for (let i = 0; i < 100_000; i++) {
      const premises: string[] = [];
      if (i > 0) premises.push(`n${i - 1}`);
      const r = random();
      if (i > 10 && r < 0.05)
        premises.push(`n${i - 2 - Math.floor(random() * 8)}`); // diamond
      else if (i > 10 && r < 0.07) premises[0] = `n${i - 2 - Math.floor(random() * 8)}`; // branch
      nodes.push({
        key: `n${i}`,
        premises,
        confidence: 0.9995 + 0.0005 * random(),
        anchored: i % 5000 === 4999,
        hardGate: i === 50_123 ? 'crash' : null,
      });
    }
    const g = graphOf(nodes);
    const all = recomputeCompounded(g, g.nodes());
    expect(all.size).toBe(100_000);
    for (const key of ['n0', 'n17', 'n4999', 'n50123', 'n50200', 'n77777', 'n99999']) {
      const single = compound(g, key);
      expect(all.get(key)?.compounded).toBeCloseTo(single.compounded, 10);
      expect(all.get(key)?.ancestors).toBe(single.ancestors);
      expect(all.get(key)?.weakest).toEqual(single.weakest);
      expect(all.get(key)?.hardGate).toEqual(single.hardGate);
    }
    expect(all.get('n50200')?.hardGate).toEqual({ key: 'n50123', code: 'crash' });
  });

  it('a 100,000-node DAG without anchors (whole upstream in every cascade)', () => {
    const random = rng(7);
    const nodes: CascadeNode[] = [];
    for (let i = 0; i < 100_000; i++) {
      const premises = i === 0 ? [] : [`n${i - 1}`];
      if (i > 10 && random() < 0.02) premises.push(`n${i - 2 - Math.floor(random() * 5)}`);
      nodes.push({ key: `n${i}`, premises, confidence: 1 - 1e-6, anchored: false, hardGate: null });
    }
    const g = graphOf(nodes);
    const ks = recomputeCompounded(g, ['n99999', 'n12345']);
    expect(ks.get('n99999')?.ancestors).toBe(99_999);
    expect(ks.get('n99999')?.compounded).toBeCloseTo((1 - 1e-6) ** 100_000, 10);
    expect(ks.get('n12345')?.compounded).toBeCloseTo(compound(g, 'n12345').compounded, 12);
  });
});
