import { describe, expect, it } from 'vitest';
import { effectScore, REGRESSION_CAP } from '../../../src/domain/scoring/effect.js';
import { standardError } from '../../../src/domain/scoring/observed.js';
import { posterior } from '../../../src/domain/scoring/statistics.js';

// Reference (python, scipy.stats, normal model):
//   se = σ·sqrt(1/nX + 1/nP); z = δ/se; s = sqrt(1 + τ²)
//   a = π·norm.pdf(z, 0, s); n = (1 − π)·norm.pdf(z); pReal = a/(a + n)
//   shrunk = pReal·τ²/(1 + τ²)·δ − minEffect; E = norm.cdf(shrunk/(σ·sqrt(2)))
function e(
  delta: number,
  sigma: number,
  nX: number,
  nP: number,
  pi: number,
  tau: number,
  minEffect: number,
) {
  const z = delta / standardError(sigma, nX, nP);
  const p = posterior(z, pi, tau, Infinity);
  return { z, pReal: p.pReal, ...effectScore({ delta, sigma, pReal: p.pReal, tau, minEffect }) };
}

describe('effect E', () => {
  it('matches the reference for an improvement', () => {
    const r = e(0.01, 0.004, 1, 1, 0.2, 2, 0);
    expect(r.z).toBeCloseTo(1.7677669529663687, 13);
    expect(r.pReal).toBeCloseTo(0.2806957026546434, 13);
    expect(r.shrunk).toBeCloseTo(0.0022455656212371474, 15);
    expect(r.e).toBeCloseTo(0.6543028741916923, 13);
  });

  it('mirrors for a regression of the same size: E < 0.5', () => {
    expect(e(-0.01, 0.004, 1, 1, 0.2, 2, 0).e).toBeCloseTo(0.34569712580830775, 13);
  });

  it('subtracts minEffect after shrinking', () => {
    // δ = 0.03, σ = 0.004, nX = 2, nP = 3, π = 0.3, τ = 3, minEffect = 0.005
    const r = e(0.03, 0.004, 2, 3, 0.3, 3, 0.005);
    expect(r.shrunk).toBeCloseTo(0.021999999999987186, 13);
    expect(r.e).toBeCloseTo(0.9999496890389397, 12);
  });

  it('keeps a vanishing regression strictly below 0.5 and a huge one at 0', () => {
    expect(effectScore({ delta: -1e-20, sigma: 1, pReal: 0.2, tau: 2, minEffect: 0 }).e).toBe(
      REGRESSION_CAP,
    );
    expect(REGRESSION_CAP).toBeLessThan(0.5);
    expect(effectScore({ delta: -1e6, sigma: 1, pReal: 1, tau: 2, minEffect: 0 }).e).toBe(0);
    expect(effectScore({ delta: 0, sigma: 1, pReal: 0.2, tau: 2, minEffect: 0 }).e).toBe(0.5);
  });
});
