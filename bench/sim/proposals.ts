import { keyedRng } from './prng.js';
import type { Regime } from './regimes.js';

/** One proposal of a loop: its true effect and the noise of its one run. */
export interface Proposal {
  /** True effect on the metric, better-units (positive = improvement), metric units. */
  effect: number;
  kind: 'real' | 'null' | 'harmful';
  crash: boolean;
  /** Standard-normal noise of the run (value = true level + σ·noise). */
  noise: number;
}

/**
 * The proposal stream of one loop, index 0 being the baseline run. Every method (ECV and the
 * baselines) runs its loop over the same stream: common random numbers, so differences between
 * methods are differences of the decision rule, not of luck.
 */
export function proposalStream(regime: Regime, loopSeed: number, n: number): Proposal[] {
  const rng = keyedRng('proposals', regime.id, loopSeed);
  const out: Proposal[] = [];
  for (let i = 0; i < n; i++) {
    const u = rng.next();
    const scale = rng.normal();
    const noise = rng.normal();
    const crash = i > 0 && rng.chance(regime.pCrash);
    if (i === 0) out.push({ effect: 0, kind: 'null', crash: false, noise });
    else if (u < regime.pReal)
      out.push({
        effect: Math.abs(scale) * regime.realScale * regime.sigma,
        kind: 'real',
        crash,
        noise,
      });
    else if (u < regime.pReal + regime.pHarmful)
      out.push({
        effect: -Math.abs(scale) * regime.harmScale * regime.sigma,
        kind: 'harmful',
        crash,
        noise,
      });
    else out.push({ effect: 0, kind: 'null', crash, noise });
  }
  return out;
}

/** Deterministic run noise of a reproduction of `key` with `seed` in loop `loopSeed`. */
export function reproductionNoise(
  regimeId: string,
  loopSeed: number,
  key: string,
  seed: number,
): number {
  return keyedRng('repro', regimeId, loopSeed, key, seed).normal();
}
