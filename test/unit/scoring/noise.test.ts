import { describe, expect, it } from 'vitest';
import {
  estimateNoise,
  madSigma,
  rawImprovements,
  sigmaFloor,
  sigmaIsKnown,
} from '../../../src/domain/scoring/noise.js';
import { observations } from '../../../src/domain/scoring/index.js';
import { makeExperiment as ex, makeProject } from './fixtures.js';

const close = (a: number | null, b: number, tol = 1e-12): void => {
  expect(a).not.toBeNull();
  expect(Math.abs((a as number) - b)).toBeLessThanOrEqual(tol);
};

// Three commits with ≥ 2 observations: a1 {1.0, 0.996}, d4 {0.982, 0.985, 0.979} (value +
// reproductions, the failed run contributes nothing), g7 {2.0, 2.01, 1.99, 2.02}.
const grouped = [
  ex('a1', { value: 1.0, replicates: [0.996] }),
  ex('b2', { value: 0.99, premiseKey: 'a1', baseline: 1.0 }),
  ex('d4', {
    value: 0.982,
    premiseKey: 'b2',
    reproductions: [
      { seed: 1, value: 0.985 },
      { seed: 2, value: 0.979 },
      { seed: 3, value: null },
    ],
  }),
  ex('g7', { value: 2.0, replicates: [2.01, 1.99, 2.02], premiseKey: 'd4' }),
];

describe('observations', () => {
  it('are the value, the replicates and every reproduction that produced a value', () => {
    expect(observations(grouped[2])).toEqual([0.982, 0.985, 0.979]);
    expect(
      observations(
        ex('x', {
          value: null,
          replicates: [NaN, 1],
          reproductions: [{ seed: 1, value: Infinity }],
        }),
      ),
    ).toEqual([1]);
  });
});

describe('noise σ̂', () => {
  // numpy: groups = [[1.0, .996], [.982, .985, .979], [2, 2.01, 1.99, 2.02]]
  //   ss = Σ (len(g)−1)·np.var(g, ddof=1); df = Σ (len(g)−1) = 6
  //   with prior: math.sqrt((2·0.004**2 + ss)/(2 + df)) = 0.008351646544245025, ν = 8
  //   pooled only: math.sqrt(ss/df) = 0.009363047936792082, ν = 6
  it('pools within-commit variance with the scaled-inverse-χ² prior', () => {
    const n = estimateNoise(makeProject({ sigma0: 0.004, nu0: 2 }), grouped);
    close(n.sigma, 0.008351646544245025);
    expect(n.nu).toBe(8);
    expect(n.source).toBe('pooled+prior');
    expect(n.groups).toBe(3);
  });

  it('uses the pooled groups alone without sigma0 (ν = Σ(n_g − 1))', () => {
    const n = estimateNoise(makeProject(), grouped);
    close(n.sigma, 0.009363047936792082);
    expect(n.nu).toBe(6);
    expect(n.source).toBe('pooled');
  });

  it('uses the prior alone when no commit has two observations', () => {
    const n = estimateNoise(makeProject({ sigma0: 0.004, nu0: 5 }), [ex('a', { value: 1 })]);
    expect(n).toMatchObject({ sigma: 0.004, nu: 5, source: 'prior' });
  });

  it('falls back to 1.4826·MAD/√2 of the raw improvements, ν = 2', () => {
    // Raw improvements (minimize, δ = premise value − value), plus a crash that is ignored:
    //   deltas = [0.01, -0.004, 0.002, 0.0005, -0.012, 0.006, 0.0]
    //   med = statistics.median(deltas); mad = statistics.median([abs(d − med) for d in deltas])
    //   1.4826·mad/math.sqrt(2) = 0.004717604312042289
    const deltas = [0.01, -0.004, 0.002, 0.0005, -0.012, 0.006, 0.0];
    const exps = [ex('r', { value: 1.0 })];
    deltas.forEach((d, i) =>
      exps.push(
        i === 3
          ? ex(`x${i}`, { value: 1.0 - d, baseline: 1.0 }) // baseline only, no premise
          : ex(`x${i}`, { value: 1.0 - d, premiseKey: 'r', baseline: 1.0 }),
      ),
    );
    exps.push(ex('c', { status: 'crash', premiseKey: 'r', baseline: 1.0 }));
    const raw = rawImprovements(exps, 'minimize');
    expect(raw).toHaveLength(7);
    const n = estimateNoise(makeProject({ nu0: 2 }), exps);
    close(n.sigma, 0.004717604312042289, 1e-15);
    expect(n.nu).toBe(2);
    expect(n.source).toBe('mad');
    close(madSigma(deltas), 0.004717604312042289, 1e-15);
  });

  it('never reads unknown rows: not their groups, their improvements or their scale (issue 20)', () => {
    // A foreign line stored as `unknown` with replicates and a wild value must change nothing.
    const wild = ex('_', { status: 'unknown', value: 50, replicates: [10, 90], premiseKey: 'a1' });
    const withWild = estimateNoise(makeProject(), [...grouped, wild]);
    expect(withWild).toEqual(estimateNoise(makeProject(), grouped));
    expect(rawImprovements([...grouped, wild], 'minimize')).toEqual(
      rawImprovements(grouped, 'minimize'),
    );
  });

  it('is null with nothing to estimate it from', () => {
    const n = estimateNoise(makeProject(), [
      ex('r', { value: 1 }),
      ex('x', { value: 0.9, premiseKey: 'r' }),
    ]);
    expect(n).toMatchObject({ sigma: null, source: 'none' });
    expect(madSigma([0.1, 0.2])).toBeNull();
  });

  it('ignores a prior with sigma0 ≤ 0 or nu0 = 0 (it carries no information)', () => {
    expect(estimateNoise(makeProject({ sigma0: 0.004, nu0: 0 }), grouped).source).toBe('pooled');
    expect(estimateNoise(makeProject({ sigma0: 0 }), grouped).source).toBe('pooled');
  });

  it('raises σ̂ = 0 (identical observations) to a floor and says so', () => {
    const n = estimateNoise(makeProject(), [ex('a', { value: 2.5, replicates: [2.5, 2.5] })]);
    expect(n.floored).toBe(true);
    expect(n.sigma).toBe(sigmaFloor(2.5));
    expect(n.sigma).toBeCloseTo(2.5e-6, 18);
    expect(sigmaFloor(0)).toBe(1e-12);
  });
});

describe('sigmaIsKnown', () => {
  it('counts σ̂ as measured from a prior, or from at least two pooled degrees of freedom', () => {
    expect(sigmaIsKnown('prior', 0)).toBe(true);
    expect(sigmaIsKnown('pooled+prior', 1)).toBe(true);
    expect(sigmaIsKnown('pooled', 2)).toBe(true);
    // One repeat of the baseline is not a measurement of σ: the bootstrap runs it once more.
    expect(sigmaIsKnown('pooled', 1)).toBe(false);
    expect(sigmaIsKnown('mad', 2)).toBe(false);
    expect(sigmaIsKnown('none', 0)).toBe(false);
    expect(sigmaIsKnown(undefined, undefined)).toBe(false);
  });
});
