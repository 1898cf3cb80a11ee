import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeProjectStats, type ObservedExperiment } from '../../../src/domain/scoring/index.js';
import { scoreProject, subtreeFrontier } from '../../../src/domain/scoring/score-project.js';
import type { ProjectStats, Score } from '../../../src/domain/types.js';
import { makeExperiment, makeProject } from './fixtures.js';

/**
 * A write that leaves the statistics as they are changes the scores of the subtree under the
 * premise of each written commit, and nothing else (SPEC §4: recompute only what is affected).
 * Oracle: scoring the whole project after the write. The subtree, scored alone from the stored
 * scores of before the write (subtreeFrontier), must equal it exactly on the subtree, and every
 * score outside the subtree must equal its score before the write.
 */

const project = makeProject({ sigma0: 0.01, nu0: 20, metric: { name: 'acc', direction: 'maximize' } });

type NodeSpec = { premise: number | null; status: 'keep' | 'discard' | 'crash'; value: number; baseline: boolean; reps: number[] };

const node = (n: number) =>
  fc.record({
    premise: fc.option(fc.nat({ max: Math.max(0, n - 1) }), { freq: 6 }),
    status: fc.constantFrom<'keep' | 'discard' | 'crash'>('keep', 'keep', 'discard', 'crash'),
    value: fc.double({ min: -0.05, max: 0.05, noNaN: true }),
    baseline: fc.boolean(),
    reps: fc.array(fc.double({ min: -0.05, max: 0.05, noNaN: true }), { maxLength: 2 }),
  });

function build(specs: NodeSpec[]): ObservedExperiment[] {
  return specs.map((s, i) => {
    const premise = s.premise !== null && i > 0 ? Math.min(s.premise, i - 1) : null;
    return makeExperiment(`k${i}`, {
      status: s.status,
      value: s.status === 'crash' ? null : 0.8 + s.value,
      premiseKey: premise === null ? null : `k${premise}`,
      baseline: premise !== null && s.baseline ? 0.8 : null,
      reproductions: s.reps.map((v, j) => ({ seed: j + 1, value: 0.8 + v, runner: 'r', durationS: 1 })),
    });
  });
}

/** The first-premise subtree of the entries (the entries included). */
function subtreeOf(experiments: ObservedExperiment[], entries: Set<string>): Set<string> {
  const out = new Set(entries);
  for (let grew = true; grew; ) {
    grew = false;
    for (const e of experiments)
      if (!out.has(e.key) && e.premiseKey !== null && out.has(e.premiseKey)) {
        out.add(e.key);
        grew = true;
      }
  }
  return out;
}

function check(before: ObservedExperiment[], after: ObservedExperiment[], written: string[], stats: ProjectStats) {
  const stored = scoreProject({ project, experiments: before, stats });
  const full = scoreProject({ project, experiments: after, stats });
  const byKey = new Map(after.map((e) => [e.key, e]));
  const entries = new Set(written.map((k) => byKey.get(k)!.premiseKey ?? k));
  const sub = subtreeOf(after, entries);
  const top = [...entries].filter((k) => {
    const p = byKey.get(k)!.premiseKey;
    return p === null || !sub.has(p);
  });
  const frontier = subtreeFrontier(
    top.map((k) => ({ key: k, premiseKey: byKey.get(k)!.premiseKey, score: stored.get(k) ?? null })),
    (k) => (byKey.has(k) ? (stored.get(k) ?? null) : undefined),
  );
  expect(frontier).not.toBeNull();
  const part = scoreProject({ project, experiments: after.filter((e) => sub.has(e.key)), stats, frontier: frontier! });
  for (const k of sub) expect(part.get(k), k).toEqual(full.get(k));
  for (const e of before) if (!sub.has(e.key)) expect(full.get(e.key) as Score, e.key).toEqual(stored.get(e.key));
}

describe('scoring a subtree alone (incremental rescoring)', () => {
  it('new commits: the subtree under their premises equals the whole-project scores, the rest is unchanged', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 30 }).chain((n) => fc.tuple(fc.array(node(n), { minLength: n, maxLength: n }), fc.array(node(n + 3), { minLength: 1, maxLength: 3 }))),
        ([base, added]) => {
          const before = build(base);
          const after = build([...base, ...added]);
          const stats = computeProjectStats({ project, experiments: before });
          check(before, after, after.slice(base.length).map((e) => e.key), stats);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('new reproductions of stored commits: the same', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 30 }).chain((n) =>
          fc.tuple(fc.array(node(n), { minLength: n, maxLength: n }), fc.uniqueArray(fc.nat({ max: n - 1 }), { minLength: 1, maxLength: 3 }), fc.double({ min: -0.05, max: 0.05, noNaN: true })),
        ),
        ([base, targets, v]) => {
          const before = build(base);
          const after = before.map((e, i) =>
            targets.includes(i) ? { ...e, reproductions: [...e.reproductions, { seed: 99, value: 0.8 + v, runner: 'r', durationS: 1 }] } : e,
          );
          const stats = computeProjectStats({ project, experiments: before });
          check(before, after, targets.map((i) => `k${i}`), stats);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('asks for a whole-project rescore when a stored score lacks the facts (stored by an older version)', () => {
    const exps = build([
      { premise: null, status: 'keep', value: 0, baseline: false, reps: [0.001] },
      { premise: 0, status: 'keep', value: 0.01, baseline: false, reps: [] },
    ]);
    const stats = computeProjectStats({ project, experiments: exps });
    const stored = scoreProject({ project, experiments: exps, stats });
    const old = structuredClone(stored.get('k0')!);
    delete old.chain!.gatedBelowAnchor;
    const entry = [{ key: 'k1', premiseKey: 'k0', score: stored.get('k1')! }];
    expect(subtreeFrontier(entry, (k) => (k === 'k0' ? old : stored.get(k)))).toBeNull();
    expect(subtreeFrontier(entry, (k) => stored.get(k))).not.toBeNull();
  });
});
