import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../src/domain/errors.js';
import { stableHash } from '../../../src/services/hash.js';
import { keyedBatch, keysNamed, planUpsert, premiseEdges } from '../../../src/services/upsert-plan.js';

const row = (key: string, value: number, premises: string[] = []) => ({ key, status: 'keep' as const, value, premises });
const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof DomainError ? { code: e.code, pointers: (e.errors ?? []).map((x) => x.pointer) } : String(e);
  }
  return null;
};

describe('the pure steps of storing a batch', () => {
  it('keys the batch: the same row twice counts once; other content under one key is a conflict; reserved keys are invalid', () => {
    expect([...keyedBatch([row('a', 1), row('a', 1), row('b', 2, ['a'])]).keys()]).toEqual(['a', 'b']);
    expect(codeOf(() => keyedBatch([row('a', 1), row('b', 2), row('a', 3)]))).toEqual({ code: 'conflict', pointers: ['/2/key'] });
    expect(codeOf(() => keyedBatch([row('a', 1, ['constructor']), row('__proto__', 2)]))).toEqual({ code: 'validation_failed', pointers: ['/0/premises/0', '/1/key'] });
  });

  it('classifies each row against what is stored and checks the premises of what it writes', () => {
    const batch = keyedBatch([row('a', 1), row('b', 2, ['a']), row('c', 3, ['b'])]);
    expect(keysNamed(batch).sort()).toEqual(['a', 'b', 'c']);
    const stored = new Map([
      ['a', { id: 1, contentHash: stableHash(row('a', 1)), version: 1, absent: true }],
      ['b', { id: 2, contentHash: 'old', version: 3, absent: false }],
    ]);
    const plan = planUpsert(batch, stored as never, 'tsv');
    expect(plan.fresh.map((r) => r.input.key)).toEqual(['c']);
    expect(plan.changed.map((r) => [r.input.key, r.id, r.version])).toEqual([['b', 2, 4]]);
    expect(plan.restored).toEqual([1]);
    expect(plan.items).toEqual([
      { key: 'a', created: false },
      { key: 'b', created: false, version: 4 },
      { key: 'c', created: true, version: 1 },
    ]);
    // b's premise a is absent in the store but in the batch: fine; c's premise b is in the batch.
    expect(premiseEdges(plan, batch, stored as never)).toEqual([
      { from: 'b', to: 'c' },
      { from: 'a', to: 'b' },
    ]);
    const lone = keyedBatch([row('x', 1, ['a']), row('y', 1, ['nope'])]);
    expect(codeOf(() => premiseEdges(planUpsert(lone, stored as never, 'tsv'), lone, stored as never))).toEqual({
      code: 'unknown_premise',
      pointers: ['/0/premises/0', '/1/premises/0'],
    });
  });
});
