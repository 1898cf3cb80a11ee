/**
 * Regimes of the obey-mode bench (SPEC §14): the accuracy bench's three (effects ≈ noise, ≫ noise,
 * < noise; val_bpb-like, minimized) and a digits-like one (accuracy, maximized): real gains that
 * shrink as the head improves, mostly large regressions, some catastrophic (a diverged run).
 * Effects are in "better" units (positive = improvement whatever the direction).
 */
import { keyedRng } from '../sim/prng.js';
import type { Proposal } from '../sim/proposals.js';
import { REGIMES, type Regime } from '../sim/regimes.js';

export interface ObeyRegime extends Regime {
  direction: 'minimize' | 'maximize';
  metric: string;
  /**
   * Diminishing returns: a real gain is scaled by max(gainFloor, 1 − g/headroomSigma), g the head's
   * true gain so far (σ units, ≥ 0). Absent: gains do not depend on the head.
   */
  headroomSigma?: number;
  gainFloor?: number;
  /** Share of harmful proposals that are catastrophic, and their size: −catastrophicScale·(1 + U)·σ. */
  pCatastrophic?: number;
  catastrophicScale?: number;
}

/**
 * Digits-like, after examples/digits-loop (docs/validation.md): σ ≈ 0.7 accuracy points, an untuned
 * 87% baseline with ~9 points (13σ) to gain, random hyperparameter edits mostly large regressions,
 * a few diverging (accuracy collapses by 20–40 points).
 */
export const DIGITS: ObeyRegime = {
  id: 'digits',
  label: 'digits-like (diminishing gains, mostly large regressions)',
  direction: 'maximize',
  metric: 'val_accuracy',
  sigma: 0.007,
  pReal: 0.15,
  realScale: 4,
  pHarmful: 0.65,
  harmScale: 6,
  pCrash: 0.02,
  level0: 0.87,
  headroomSigma: 13,
  gainFloor: 0.1,
  pCatastrophic: 0.15,
  catastrophicScale: 30,
};

export const OBEY_REGIMES: ObeyRegime[] = [
  ...REGIMES.map((r) => ({ ...r, direction: 'minimize' as const, metric: 'val_bpb' })),
  DIGITS,
];

/** s = +1 when larger is better. */
export const signOf = (r: ObeyRegime): 1 | -1 => (r.direction === 'maximize' ? 1 : -1);

/**
 * The true effect of proposal `index` of loop `loopSeed` when built on a head whose true gain is
 * `headGainSigma`: the stream's draw, shrunk by the headroom left (real gains) or replaced by a
 * catastrophic one (a keyed draw of its own, so the other regimes' streams are unchanged).
 */
export function effectOf(
  regime: ObeyRegime,
  p: Proposal,
  loopSeed: number,
  index: number,
  headGainSigma: number,
): number {
  if (p.kind === 'real' && regime.headroomSigma !== undefined) {
    const left = 1 - Math.max(0, headGainSigma) / regime.headroomSigma;
    return p.effect * Math.max(regime.gainFloor ?? 0, Math.min(1, left));
  }
  if (p.kind === 'harmful' && regime.pCatastrophic) {
    const rng = keyedRng('catastrophic', regime.id, loopSeed, index);
    if (rng.chance(regime.pCatastrophic))
      return -(regime.catastrophicScale ?? 30) * (1 + rng.next()) * regime.sigma;
  }
  return p.effect;
}
