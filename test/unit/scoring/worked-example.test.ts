/**
 * Recomputes the worked example of docs/scoring.md from its own JSON block and checks every
 * number in its three check tables (stats, scores, d4 step by step) to the precision printed.
 * If the code or the doc changes without the other, this test fails.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  computeProjectStats,
  scoreExperiment,
  type ObservedExperiment,
} from '../../../src/domain/scoring/index.js';
import { effectScore } from '../../../src/domain/scoring/effect.js';
import { estimateNoise } from '../../../src/domain/scoring/noise.js';
import { compareWithReference, standardError } from '../../../src/domain/scoring/observed.js';
import { posterior } from '../../../src/domain/scoring/statistics.js';
import type { ProjectConfig, Score } from '../../../src/domain/types.js';

const doc = readFileSync(new URL('../../../docs/scoring.md', import.meta.url), 'utf8');

/** Rows of the table that follows `<!-- check:name -->`, as arrays of trimmed cells. */
function table(name: string): string[][] {
  const start = doc.indexOf(`<!-- check:${name} -->`);
  expect(start, `docs/scoring.md has no check:${name} table`).toBeGreaterThanOrEqual(0);
  const lines = doc.slice(start).split('\n').slice(1);
  while (lines.length > 0 && lines[0].trim() === '') lines.shift(); // prettier adds a blank line
  const rows: string[][] = [];
  for (const line of lines) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, line.trimEnd().endsWith('|') ? line.trimEnd().length - 1 : undefined)
        .split(/(?<!\\)\|/)
        .map((c) => c.replace(/\\\|/g, '|').trim()),
    );
  }
  return rows.filter((r) => !r.every((c) => /^:?-+:?$/.test(c)));
}

/** Check one printed cell against the computed value, to half a unit of its last digit. */
function check(label: string, printed: string, actual: unknown): void {
  const what = `${label}: doc says ${printed}, code gives ${String(actual)}`;
  if (printed === '—') return void expect(actual, what).toBeNull();
  if (printed === 'yes' || printed === 'no')
    return void expect(actual, what).toBe(printed === 'yes');
  const str = /^`(.*)`$/.exec(printed);
  if (str) return void expect(actual, what).toBe(str[1]);
  const num = /^(-?\d+)(?:\.(\d+))?(?:e(-?\d+))?$/.exec(printed);
  expect(num, `${label}: cannot read "${printed}"`).not.toBeNull();
  const decimals = num![2]?.length ?? 0;
  const exponent = Number(num![3] ?? 0);
  const tolerance = 0.5 * 10 ** (exponent - decimals) * (1 + 1e-9);
  expect(typeof actual, what).toBe('number');
  expect(Math.abs((actual as number) - Number(printed)), what).toBeLessThanOrEqual(tolerance);
}

function parseExample(): { project: ProjectConfig; experiments: ObservedExperiment[] } {
  const m = /```json worked-example\n([\s\S]*?)```/.exec(doc);
  expect(m, 'docs/scoring.md has no worked-example JSON block').not.toBeNull();
  return JSON.parse(m![1]);
}

describe('docs/scoring.md worked example', () => {
  const { project, experiments } = parseExample();
  const stats = computeProjectStats({ project, experiments });
  const noise = estimateNoise(project, experiments);
  const byKey = new Map(experiments.map((e) => [e.key, e]));
  const premiseOf = (e: ObservedExperiment) =>
    e.premiseKey ? (byKey.get(e.premiseKey) ?? null) : null;
  const scores = new Map<string, Score>(
    experiments.map((e) => [
      e.key,
      scoreExperiment({ project, experiment: e, premise: premiseOf(e), stats }),
    ]),
  );

  /** Run every row of a label/formula/value table against `values`; all labels must appear. */
  function checkRows(name: string, values: Record<string, unknown>): void {
    const rows = table(name).slice(1); // drop the header
    const seen = rows.map((r) => r[0]);
    expect(seen.sort()).toEqual(Object.keys(values).sort());
    for (const r of rows) check(`${name} ${r[0]}`, r[r.length - 1], values[r[0]]);
  }

  it('states the project statistics', () => {
    checkRows('stats', {
      SS: noise.pooledSs,
      df: noise.pooledDf,
      σ̂: stats.sigma,
      ν: stats.nu,
      proposals: stats.nProposals,
      π: stats.pi,
      τ: stats.tau,
      α0: stats.alpha0,
      β0: stats.beta0,
    });
  });

  it('states every score', () => {
    const [header, ...rows] = table('scores');
    const column: Record<string, (s: Score) => unknown> = {
      key: () => undefined,
      n_X: (s) => s.nX,
      n_P: (s) => s.nP,
      δ: (s) => s.delta,
      z: (s) => s.z,
      R: (s) => s.components.reproduction,
      S: (s) => s.components.statistics,
      E: (s) => s.components.effect,
      Q: (s) => s.components.code,
      C: (s) => s.value,
      'hard gate': (s) => s.hardGate,
      anchor: (s) => s.anchorEligible,
    };
    expect([...header].sort()).toEqual(Object.keys(column).sort());
    expect(rows.map((r) => r[0]).sort()).toEqual([...scores.keys()].sort());
    for (const r of rows) {
      const s = scores.get(r[0])!;
      header.forEach((h, i) => {
        if (h !== 'key') check(`${r[0]}.${h}`, r[i], column[h](s));
      });
    }
  });

  it('works d4 through step by step', () => {
    const d4 = byKey.get('d4')!;
    const s = scores.get('d4')!;
    const c = compareWithReference(d4, premiseOf(d4), project.metric.direction);
    const se = standardError(stats.sigma!, c.nX, c.nP);
    const post = posterior(s.z!, stats.pi, stats.tau, stats.nu);
    const eff = effectScore({
      delta: s.delta!,
      sigma: stats.sigma!,
      pReal: post.pReal,
      tau: stats.tau,
      minEffect: project.minEffect,
    });
    checkRows('d4', {
      x̄: c.xbar,
      p̄: c.pbar,
      δ: s.delta,
      SE: se,
      z: s.z,
      'P(real | z)': post.pReal,
      S: s.components.statistics,
      δ̃: eff.shrunk,
      E: s.components.effect,
      k: s.reproductions.successes,
      m: s.reproductions.finished,
      R: s.components.reproduction,
      Q: s.components.code,
      C: s.value,
      anchor: s.anchorEligible,
    });
  });
});
