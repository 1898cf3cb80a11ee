import { describe, expect, it } from 'vitest';
import {
  countReproductions,
  fitBetaPrior,
  reproductionScore,
  successRuleFor,
} from '../../../src/domain/scoring/reproduction.js';
import { compareWithReference } from '../../../src/domain/scoring/observed.js';
import { makeExperiment as ex } from './fixtures.js';

describe('reproduction R', () => {
  it('is the Beta-Binomial posterior mean (α0 + k)/(α0 + β0 + m)', () => {
    expect(reproductionScore(2, 3, 1, 1)).toBeCloseTo(0.6, 15); // (1+2)/(1+1+3)
    expect(reproductionScore(3, 3, 2.1, 0.9)).toBeCloseTo(0.85, 15); // (2.1+3)/(2.1+0.9+3)
    expect(reproductionScore(0, 0, 1, 1)).toBe(0.5); // no reproductions: the prior mean
    expect(reproductionScore(0, 0, 3, 1)).toBe(0.75);
  });

  it('judges improvements against p̄ by direction; a failed run is a failure', () => {
    const x = ex('x', {
      value: 0.98,
      premiseKey: 'p',
      reproductions: [
        { seed: 1, value: 0.985 }, // better than p̄ = 0.99 (minimize)
        { seed: 2, value: 0.995 }, // worse
        { seed: 3, value: 0.99 }, // equal: not an improvement
        { seed: 4, value: null, error: 'timeout' },
      ],
    });
    const p = ex('p', { value: 0.99 });
    const c = compareWithReference(x, p, 'minimize');
    expect(countReproductions(x.reproductions, successRuleFor(x, c, 0.004, 'minimize'))).toEqual({
      finished: 4,
      successes: 1,
    });
    const cMax = compareWithReference(x, p, 'maximize');
    expect(countReproductions(x.reproductions, successRuleFor(x, cMax, 0.004, 'maximize'))).toEqual(
      { finished: 4, successes: 1 },
    );
  });

  it('judges a root by its level: within 2σ̂ of the claimed value', () => {
    const root = ex('r', {
      value: 1.0,
      reproductions: [
        { seed: 1, value: 1.0079 },
        { seed: 2, value: 0.9921 },
        { seed: 3, value: 1.0081 },
        { seed: 4, value: null },
      ],
    });
    const c = compareWithReference(root, null, 'minimize');
    expect(c.isRoot).toBe(true);
    expect(
      countReproductions(root.reproductions, successRuleFor(root, c, 0.004, 'minimize')).successes,
    ).toBe(2);
    // without σ̂, any reproduction that produced a value counts
    expect(
      countReproductions(root.reproductions, successRuleFor(root, c, null, 'minimize')).successes,
    ).toBe(3);
  });

  it('fits Beta(α0, β0) by the method of moments from ≥ 10 reproduced experiments', () => {
    // numpy: rates = [1, 2/3, 1/3, 1, 0, 2/3, 1, 1, 1/3, 2/3, 1, 2/3]
    //   mu = np.mean(rates); v = np.var(rates, ddof=1); k = mu·(1 − mu)/v − 1 = 0.9243002544529264
    //   α0 = mu·k = 0.641875176703421, β0 = (1 − mu)·k = 0.2824250777495054
    const rates = [1, 2 / 3, 1 / 3, 1, 0, 2 / 3, 1, 1, 1 / 3, 2 / 3, 1, 2 / 3];
    const f = fitBetaPrior(rates, 3);
    expect(f.fitted).toBe(true);
    expect(f.alpha0).toBeCloseTo(0.641875176703421, 13);
    expect(f.beta0).toBeCloseTo(0.2824250777495054, 13);
  });

  it('defaults to Beta(1, 1) and bounds a degenerate fit', () => {
    expect(fitBetaPrior([1, 1, 0], 3)).toEqual({ alpha0: 1, beta0: 1, fitted: false });
    // all rates equal: variance 0 ⇒ strength at the cap max(2, replicates) = 3, mean clamped to 0.95
    const f = fitBetaPrior(Array(12).fill(1), 3);
    expect(f.alpha0 + f.beta0).toBeCloseTo(3, 12);
    expect(f.alpha0 / (f.alpha0 + f.beta0)).toBeCloseTo(0.95, 12);
    // 0 of 3 under that prior: (2.85 + 0)/(3 + 3) = 0.475, not ≈ 1
    expect(reproductionScore(0, 3, f.alpha0, f.beta0)).toBeCloseTo(0.475, 12);
  });
});
