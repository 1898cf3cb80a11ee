import { describe, expect, it } from 'vitest';
import {
  logGamma,
  logNormCdf,
  logTCdf,
  logTPdf,
  normCdf,
} from '../../../src/domain/scoring/distributions.js';

const close = (actual: number, expected: number, rel = 1e-12): void => {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(
    rel * Math.max(1e-300, Math.abs(expected)),
  );
};

// Reference values: mpmath at 40 digits.
//   import mpmath as m; m.mp.dps = 40
//   log Φ(x):  m.log(m.ncdf(x))
//   log T_ν(x): x<0: m.log(m.betainc(ν/2, 1/2, 0, ν/(ν+x²), regularized=True)/2), x>0: log(1 − that)
//   log t_ν(x): m.loggamma((ν+1)/2) − m.loggamma(ν/2) − m.log(ν·π)/2 − (ν+1)/2·m.log(1 + x²/ν)
//   log Γ(x):  m.loggamma(x)
describe('log-space distributions', () => {
  it('log Φ matches mpmath in both tails, out to x = −1e6', () => {
    const cases: Array<[number, number]> = [
      [-1e6, -500000000014.7344],
      [-50, -1254.83136113942],
      [-38, -726.5572160188201],
      [-10, -53.23128515051247],
      [-5, -15.06499839398873],
      [-1, -1.841021645009264],
      [0, -0.6931471805599453],
      [0.3, -0.4814101615884812],
      [2, -0.02301290932896349],
      [5, -2.866516129637636e-7],
      [10, -7.619853024160527e-24],
    ];
    for (const [x, ref] of cases) close(logNormCdf(x), ref, 1e-13);
    expect(Math.abs(logNormCdf(40))).toBe(0);
    // Φ(−37) ≈ 5.7e-300 (mpmath); 1 + erf(x) loses it entirely
    close(normCdf(-37), Math.exp(logNormCdf(-37)), 1e-12);
    expect(normCdf(-37)).toBeGreaterThan(5e-300);
    close(normCdf(-5), Math.exp(-15.06499839398873), 1e-13);
  });

  it('log T_ν matches mpmath, including |x| = 1e6', () => {
    const cases: Array<[number, number, number]> = [
      [-1e6, 3, -41.34880823485182],
      [-50, 2.5, -10.11045082776566],
      [-5, 5, -6.188765907812509],
      [-1, 1, -1.386294361119891],
      [0.5, 29, -0.371678424070009],
      [3, 7, -0.01002110705440056],
      [1e6, 3, -1.102657790839615e-18],
      [-278, 31, -123.8794758272439],
      [1e-5, 4, -0.6931396805880703],
    ];
    for (const [x, nu, ref] of cases) close(logTCdf(x, nu), ref, 1e-12);
  });

  it('log t_ν density and log Γ match mpmath', () => {
    close(logTPdf(1e6, 3), -54.06570650415039, 1e-13);
    close(logTPdf(-2, 2), -2.687639203842083, 1e-13);
    close(logTPdf(50, 29), -67.95180876712071, 1e-13);
    close(logGamma(0.1), 2.252712651734206, 1e-13);
    close(logGamma(3.7), 1.428072326665388, 1e-13);
    close(logGamma(1e6), 12815504.56914761, 1e-14);
  });

  it('stays finite far beyond any real z', () => {
    for (const x of [-1e300, -1e100, 1e100, 1e300]) {
      expect(Number.isFinite(logNormCdf(x)) || logNormCdf(x) === 0).toBe(true);
      expect(Number.isFinite(logTCdf(x, 4))).toBe(true);
      expect(Number.isFinite(logTPdf(x, 4))).toBe(true);
    }
  });
});
