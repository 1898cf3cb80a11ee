/**
 * Recomputes the worked example of docs/scoring.md (§6) from its own JSON block and checks every
 * number of its check table to the precision printed, plus σ̂ and V by hand from the formulas.
 * If the code or the doc changes without the other, this test fails.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeProjectStats, scoreProject, type ObservedExperiment } from '../../../src/domain/scoring/index.js';
import { normalizeProject, type ProjectInput } from '../../../src/domain/project.js';

const doc = readFileSync(new URL('../../../docs/scoring.md', import.meta.url), 'utf8');

function table(name: string): Map<string, string> {
  const start = doc.indexOf(`<!-- check:${name} -->`);
  expect(start, `docs/scoring.md has no check:${name} table`).toBeGreaterThanOrEqual(0);
  const lines = doc.slice(start).split('\n').slice(1).filter((l, i, all) => l.trim() !== '' || all.slice(0, i).every((x) => x.trim() === ''));
  const rows = new Map<string, string>();
  for (const line of lines.filter((l) => l.trim() !== '')) {
    if (!line.startsWith('|')) break;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    if (cells[0] === 'quantity' || /^-+$/.test(cells[0])) continue;
    rows.set(cells[0], cells[1]);
  }
  return rows;
}

/** `got` equals the printed number to the digits printed (or the word). */
function expectPrinted(got: number | boolean, printed: string) {
  if (printed === 'true' || printed === 'false') return expect(String(got)).toBe(printed);
  const want = Number(printed);
  const digits = printed.replace(/e.*$/, '').replace('-', '').replace('.', '').replace(/^0+/, '').length;
  const tol = Math.abs(want) * 10 ** -(digits - 1) * 0.5 + 1e-300;
  expect(Math.abs((got as number) - want), `${got} vs ${printed}`).toBeLessThanOrEqual(tol);
}

describe('docs/scoring.md worked example', () => {
  const block = doc.match(/```json worked-example\n([\s\S]*?)```/);
  const input = JSON.parse(block![1]) as { project: ProjectInput; experiments: ObservedExperiment[] };
  const project = normalizeProject(input.project);
  const stats = computeProjectStats({ project, experiments: input.experiments });
  const scores = scoreProject({ project, experiments: input.experiments, stats });

  it('σ̂ and V follow from the formulas by hand', () => {
    const ss = 2 * 0.005 ** 2 + 2 * 0.0035 ** 2;
    expect(stats.sigma).toBeCloseTo(Math.sqrt((50 * 1e-4 + ss) / 54), 12);
    const s2 = stats.sigma! ** 2;
    expect(scores.get('x')!.V).toBeCloseTo(s2 / 4 + s2 / 2, 15);
    expect(scores.get('base')!.value).toBeCloseTo(0.4 * 0.95 + 0.25 + 0.2 + 0.15 * 0.5, 12);
  });

  it('matches every number of the check table', () => {
    const t = table('worked');
    const x = scores.get('x')!;
    const got: Record<string, number | boolean> = {
      sigma: stats.sigma!,
      nu: stats.nu,
      'base level sd': scores.get('base')!.level!.sd,
      'x d': x.delta!,
      'x V': x.V!,
      'x S': x.components.statistics,
      'x E': x.components.effect,
      'x R': x.components.reproduction,
      'x C': x.value,
      'x level mean': x.level!.mean,
      'x anchor': x.anchorEligible,
      'd1 S': scores.get('d1')!.components.statistics,
      'base C': scores.get('base')!.value,
    };
    expect([...t.keys()].sort()).toEqual(Object.keys(got).sort());
    for (const [k, v] of Object.entries(got)) expectPrinted(v, t.get(k)!);
  });
});
