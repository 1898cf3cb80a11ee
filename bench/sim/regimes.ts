/**
 * Simulated autoresearch loops (SPEC §14): the settings of each noise regime. Effects are in
 * "better" units (positive = improvement, whatever the metric direction), σ is the seed-to-seed
 * standard deviation of one run. Documented in docs/benchmarks.md; not tuned to hit targets.
 */
export interface Regime {
  id: string;
  label: string;
  /** Seed noise: standard deviation of one run, metric units. */
  sigma: number;
  /** P(a proposal truly improves the metric). */
  pReal: number;
  /** Real improvements are |N(0, (realScale·σ)²)|. */
  realScale: number;
  /** P(a proposal truly hurts). The rest (1 − pReal − pHarmful) do nothing at all. */
  pHarmful: number;
  /** Harmful effects are −|N(0, (harmScale·σ)²)|. */
  harmScale: number;
  /** P(a run crashes). */
  pCrash: number;
  /** Starting level of the metric (val_bpb-like, minimized). */
  level0: number;
}

/**
 * `karpathy` is calibrated on karpathy/autoresearch exp/H100/mar8 (the real log): a seed change
 * moved val_bpb by 0.0007 (a difference of two runs, so σ ≈ 0.0007/√2 ≈ 0.0005), 17 of 22 keeps
 * improved by less than 0.001 (2σ), about 18% of proposals were kept and most discards were worse
 * by 1–8σ. The others vary the ratio of effect size to noise around it.
 */
export const REGIMES: Regime[] = [
  {
    id: 'karpathy',
    label: 'Karpathy-like (effects ≈ noise)',
    sigma: 0.0005,
    pReal: 0.2,
    realScale: 2,
    pHarmful: 0.5,
    harmScale: 2,
    pCrash: 0.01,
    level0: 0.998,
  },
  {
    id: 'clean',
    label: 'clean (effects ≫ noise)',
    sigma: 0.0005,
    pReal: 0.2,
    realScale: 5,
    pHarmful: 0.5,
    harmScale: 5,
    pCrash: 0.01,
    level0: 0.998,
  },
  {
    id: 'noisy',
    label: 'noisy (effects < noise)',
    sigma: 0.0005,
    pReal: 0.15,
    realScale: 1,
    pHarmful: 0.5,
    harmScale: 1,
    pCrash: 0.01,
    level0: 0.998,
  },
];
