import { describe, expect, it } from 'vitest';
import { changesScoring, diffConfig, formatChanges, mergePatch } from '../../../src/domain/project-diff.js';
import { normalizeProject } from '../../../src/domain/project.js';

const base = normalizeProject({ name: 'p', metric: { name: 'val_bpb', direction: 'minimize' }, protectedPaths: ['prepare.py'], reproduction: { command: 'uv run train.py' } });
const asObj = (v: unknown) => v as Record<string, unknown>;

describe('diffConfig', () => {
  it('is empty for equal configs, whatever the key order', () => {
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(base).reverse())));
    expect(diffConfig(asObj(base), reordered)).toEqual([]);
  });

  it('lists changed leaves by dotted path, arrays as one leaf, unset as undefined', () => {
    const next = normalizeProject({ ...base, sigma0: 0.01, weights: { ...base.weights, code: base.weights.code - 0.05, effect: base.weights.effect + 0.05 }, protectedPaths: ['prepare.py', 'eval.py'] });
    const changed = diffConfig(asObj(base), asObj(next));
    expect(changed).toEqual([
      { field: 'protectedPaths', from: ['prepare.py'], to: ['prepare.py', 'eval.py'] },
      { field: 'sigma0', from: undefined, to: 0.01 },
      { field: 'weights.code', from: base.weights.code, to: base.weights.code - 0.05 },
      { field: 'weights.effect', from: base.weights.effect, to: base.weights.effect + 0.05 },
    ]);
    expect(formatChanges(changed)[1]).toBe('sigma0: (unset) → 0.01');
  });
});

describe('changesScoring', () => {
  it('is false only for fields no score depends on', () => {
    expect(changesScoring([{ field: 'reproduction.command', from: 'a', to: 'b' }, { field: 'reproduction.timeBudgetS', from: 1, to: 2 }])).toBe(false);
    for (const field of ['protectedPaths', 'weights.code', 'sigma0', 'nu0', 'threshold', 'minEffect', 'metric.direction', 'metric.name', 'reproduction.replicates', 'someFutureKey'])
      expect(changesScoring([{ field, from: 1, to: 2 }]), field).toBe(true);
    expect(changesScoring([])).toBe(false);
  });
});

describe('mergePatch (RFC 7396)', () => {
  it('merges objects, replaces arrays and scalars, and null removes a member', () => {
    expect(mergePatch({ a: 1, w: { x: 1, y: 2 }, l: [1, 2], s: 5 }, { w: { y: 3 }, l: [9], s: null, n: 'new' })).toEqual({ a: 1, w: { x: 1, y: 3 }, l: [9], n: 'new' });
    expect(mergePatch({ a: 1 }, 'x')).toBe('x');
  });
});
