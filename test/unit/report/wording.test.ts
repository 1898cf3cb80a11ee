import { describe, expect, it } from 'vitest';
import { gatedBy, renderHtml, renderMarkdown, reproductionOutcome, type ReproductionRow } from '../../../src/domain/report/index.js';
import { model, node } from './helpers.js';

const run = (value: number | null, premiseLevel: number | null, extra: Partial<ReproductionRow> = {}): ReproductionRow => ({
  experiment: 'a',
  seed: 1,
  value,
  ok: value !== null,
  runner: 'r1',
  durationS: 60,
  error: value === null ? 'timeout' : null,
  createdAt: '2025-03-08T12:00:00.000Z',
  premiseLevel,
  ...extra,
});

describe('reproduction outcome (issue 21: a run that failed its test is not "✓ reproduced")', () => {
  it('passes only a run that beat its premise level, in the metric direction', () => {
    expect(reproductionOutcome(run(0.98, 0.99), 'minimize')).toBe('reproduced');
    expect(reproductionOutcome(run(0.995, 0.99), 'minimize')).toBe('not_better');
    expect(reproductionOutcome(run(0.99, 0.99), 'minimize')).toBe('not_better');
    expect(reproductionOutcome(run(0.995, 0.99), 'maximize')).toBe('reproduced');
    expect(reproductionOutcome(run(null, 0.99), 'minimize')).toBe('failed');
    expect(reproductionOutcome(run(0.99, null), 'minimize')).toBe('ran');
  });

  it('labels the reproductions table accordingly', () => {
    const nodes = [node('r', 0), node('a', 1, { premises: ['r'] })];
    const reps = [run(0.995, 0.99, { seed: 1 }), run(0.98, 0.99, { seed: 2 }), run(null, 0.99, { seed: 3 }), run(1, null, { experiment: 'r', seed: 4 })];
    const html = renderHtml(model(nodes, {}, { recentReproductions: reps, reproductionTotals: { runs: 4, failed: 1, experiments: 2, durationS: 240 } }));
    const table = html.slice(html.indexOf('<section id="reproductions">'));
    expect(table.match(/✓ reproduced/g)).toHaveLength(1);
    expect(table).toContain('✗ not better</span> <span class="dim">(premise level 0.99)');
    expect(table.match(/✗ failed/g)).toHaveLength(1);
    expect(table).toContain('ran (no premise to beat)');
  });

  it('counts runs that beat the premise in the main-chain tally, apart from runs that ran', () => {
    const nodes = [node('r', 0), node('a', 1, { premises: ['r'] })];
    const stats = new Map([['a', { key: 'a', runs: 3, failed: 1, mean: 0.99, min: 0.98, max: 1, beat: 1 }]]);
    const html = renderHtml(model(nodes, {}, { reproductionStats: stats }));
    expect(html).toContain('2/3 ran, 1 beat premise');
  });
});

describe('why a main-chain step is gated (issue 21)', () => {
  const weak = { key: 'w', confidence: 0.31 };
  const nodes = [
    node('r', 0),
    node('w', 1, { premises: ['r'], confidence: 0.31, compounded: 0.31, weakest: weak }),
    node('x', 2, { premises: ['w'], compounded: 0.28, weakest: weak }),
    node('p', 3, { premises: ['x'], hardGate: 'protected_path', compounded: 0 }),
    node('y', 4, { premises: ['p'], inheritedGate: 'p', inheritedGateCode: 'protected_path', compounded: 0.2 }),
  ];

  it('names the hard gate (own or the premise that carries it), else the weakest link and its C', () => {
    const m = model(nodes);
    const by = Object.fromEntries(m.mainChain.steps.map((s) => [s.key, s.gatedBy]));
    expect(by.r).toBeNull();
    expect(by.x).toEqual({ kind: 'weakest_link', key: 'w', confidence: 0.31 });
    expect(by.p).toEqual({ kind: 'hard_gate', key: 'p', code: 'protected_path' });
    expect(by.y).toEqual({ kind: 'hard_gate', key: 'p', code: 'protected_path' });
    expect(gatedBy(node('z', 9, { compounded: 0.1 }), 0.6)).toEqual({ kind: 'below_threshold' });
  });

  it('says it in the HTML table and the Markdown summary', () => {
    const m = model(nodes);
    const html = renderHtml(m);
    expect(html).toContain('<span class="why">weakest link <code>w</code>, C 0.310</span>');
    expect(html).toContain('<span class="why">hard gate <code>protected_path</code></span>');
    expect(html).toContain('<span class="why">premise <code>p</code> hard-gated (<code>protected_path</code>)</span>');
    const md = renderMarkdown(m);
    expect(md).toContain('| gated by |');
    expect(md).toMatch(/\| 2 \| `x` .*\| weakest link `w`, C 0\.310 \|/);
    expect(md).toMatch(/\| 4 \| `y` .*\| premise `p` hard-gated \(`protected_path`\) \|/);
  });
});
