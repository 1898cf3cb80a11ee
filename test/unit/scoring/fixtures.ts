/** Builders shared by the scoring unit tests. */
import { rng as seededUniform } from '../../helpers/prng.js';
import type { ObservedExperiment } from '../../../src/domain/scoring/index.js';
import type { ProjectConfig, ProjectStats } from '../../../src/domain/types.js';

export function makeProject(over: Partial<ProjectConfig> = {}): ProjectConfig {
  return {
    name: 'p',
    metric: { name: 'val_bpb', direction: 'minimize' },
    threshold: 0.6,
    weights: { reproduction: 0.4, statistics: 0.25, effect: 0.2, code: 0.15 },
    nu0: 2,
    minEffect: 0,
    anchorMin: 0.95,
    protectedPaths: ['prepare.py', 'eval/**'],
    reproduction: { command: 'run {commit} {seed}', replicates: 3, rounds: 1, timeBudgetS: 600 },
    ...over,
  };
}

export function makeExperiment(
  key: string,
  over: Partial<ObservedExperiment> = {},
): ObservedExperiment {
  return {
    key,
    status: 'keep',
    value: null,
    replicates: [],
    baseline: null,
    premiseKey: null,
    reproductions: [],
    ...over,
  };
}

export function makeStats(over: Partial<ProjectStats> = {}): ProjectStats {
  return {
    version: 7,
    sigma: 0.004,
    nu: 100,
    sigmaSource: 'prior',
    pi: 0.2,
    tau: 2,
    fitted: false,
    nProposals: 0,
    alpha0: 19,
    beta0: 1,
    ...over,
  };
}

/** The seeded PRNG (test/helpers/prng.ts) and a Box–Muller normal draw on it. */
export function rng(seed: number): { uniform: () => number; normal: () => number } {
  const uniform = seededUniform(seed);
  const normal = (): number => {
    const u = uniform() || 1e-12;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
  return { uniform, normal };
}

/** Every number anywhere in a value (to assert that no NaN or ∞ escapes). */
export function allNumbers(v: unknown, out: number[] = []): number[] {
  if (typeof v === 'number') out.push(v);
  else if (Array.isArray(v)) for (const x of v) allNumbers(x, out);
  else if (v !== null && typeof v === 'object')
    for (const x of Object.values(v)) allNumbers(x, out);
  return out;
}
