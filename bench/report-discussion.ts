import type { AccuracyResult } from './accuracy.js';
import { f, pct } from './lib/markdown.js';
import { ecvOf } from './report-accuracy.js';

const byMethod = (a: AccuracyResult, regime: string, prefix: string) =>
  a.results.find((r) => r.regime === regime)?.methods.find((m) => m.method.startsWith(prefix));

/** What the numbers say about the targets, computed from this run. */
export function discussion(a: AccuracyResult): string {
  const k = ecvOf(a, 'karpathy', 'sigma');
  const k2 = ecvOf(a, 'karpathy', 'nosigma');
  const flat = byMethod(a, 'karpathy', 'flat');
  const blind = byMethod(a, 'karpathy', 'direction-blind');
  const noisy = ecvOf(a, 'noisy', 'sigma');
  if (!k || !k2 || !flat || !k.paths) return '';
  const p = k.paths;
  const fd = p.directComponents.false;
  const rd = p.directComponents.real;
  const directFalse = Math.round(p.direct * p.directFalse);
  const midBins = k.calibration?.keeps.bins.filter((b) => b.lo >= 0.49 && b.hi <= 0.71) ?? [];
  const midN = midBins.reduce((t, b) => t + b.n, 0);
  const mid = midN ? midBins.reduce((t, b) => t + b.observed * b.n, 0) / midN : null;
  const reFalse = Math.round(p.reanchored * p.reanchoredFalse);
  const out: string[] = [];
  out.push(`- **AUROC.** C separates real from false keeps with AUROC ${f(k.auroc)} (\`karpathy\`, sigma0 set; ${f(k2.auroc)} without) once
  the loop's reproductions are in — but those reproductions were ordered by the gate itself, so the final C of a
  re-anchored keep carries three more runs. At the first gate, from the keep's one run alone, AUROC is ${f(k.aurocFirst)}
  (${f(k2.aurocFirst)}): one run at effects ≈ noise cannot tell much more, which is why re-anchoring exists. Over all proposals,
  discards included, C and S rank real improvements at ${f(k.aurocAll)}; the direction-blind score ranks them at
  ${f(blind?.aurocAll)}, worse than chance, because it scores big regressions as big effects.`);
  out.push(`- **Contamination ${pct(k.contamination, 1)} (target ≤ 5%: missed)**, against ${pct(flat.contamination, 1)} for flat keep/discard: ECV leaves
  ${f(k.falseInChain, 1)} false premises on a loop's final chain where flat leaves ${f(flat.falseInChain, 1)}, for about the same true gain
  (${f(k.gainSigma, 1)}σ vs ${f(flat.gainSigma, 1)}σ). The false accepts come mostly from one path: ${directFalse} of the ${p.direct} keeps accepted at
  their first gate, with no reproduction of their own, were false, against ${reFalse} of the ${p.reanchored} accepted after
  re-anchoring (${pct(p.reanchoredFalse)}).${
    fd
      ? ` At that first gate the false ones had mean R ${f(fd.reproduction)}, S ${f(fd.statistics)}, E ${f(fd.effect)}, C ${f(fd.c)}, K ${f(fd.k)}${
          rd
            ? ` (the real ones R ${f(rd.reproduction)}, S ${f(rd.statistics)}, E ${f(rd.effect)}, C ${f(rd.c)}, K ${f(rd.k)})`
            : ''
        }. The gate accepts on K ≥ 0.6, and C = 0.40·R + 0.25·S + 0.20·E + 0.15·Q: with R at the project's
  reproduction prior mean (fitted from earlier re-anchors, most of which succeeded; above 0.5 for an experiment
  never reproduced), Q = 1 and E ≈ 0.7 for any clear observed gain, a keep clears the threshold with S around ${f(fd.statistics, 1)},
  i.e. with a posterior probability of being real not far above one half${
    mid
      ? ` — and keeps with S in 0.5–0.7 were real ${pct(mid)} of the time (calibration table)`
      : ''
  }. Anchoring needs S ≥ 0.9; accepting does not. Reaching ≤ 5% takes a gate policy
  change — e.g. no first accept without a reproduction, a minimum S, or R's prior not lifting unreproduced
  experiments — which is a product decision for the scoring owners, not something tuned here.`
      : ''
  }`);
  out.push(`- **≥ 1σ improvements accepted: ${pct(k.keptReal1s)}** of the keeps with a true effect ≥ σ (${pct(k2.keptReal1s)} without sigma0; target ≥ 80%);
  ${pct(k.keptReal)} of all truly improving keeps. Counting every ≥ 1σ proposal, including those the noisy keep-if-better
  rule discarded on its own, ${pct(k.endToEnd1s)} end up accepted (flat: ${pct(flat.endToEnd1s)}).`);
  out.push(`- **Reproductions per experiment: ${f(k.reproductionsPerExperiment)} (target ≤ 0.5: ${k.reproductionsPerExperiment <= 0.5 ? 'met' : 'missed'}).** An ECV-gated loop keeps more
  often than a flat one (${f(p.keepsPerExperiment)} keeps per experiment vs ${f(flat.keeps / flat.experiments)}): a rejected keep does not raise the bar,
  so later proposals beat the old premise more easily. Most keeps start below the threshold and get a round of 3
  reproductions (${f(p.roundsPerKeep)} rounds per keep), so ${f(p.keepsPerExperiment)} × ${f(p.roundsPerKeep)} × 3 ≈ ${f(p.keepsPerExperiment * p.roundsPerKeep * 3)} per experiment.`);
  out.push(`- **sigma0.** With sigma0 = σ (nu0 = 20) the t model has ν ≥ 20 from the start; without it σ̂ starts from the MAD
  fallback with ν = 2, where S cannot exceed 0.544 (docs/scoring.md §2.3) until reproductions add pooled degrees of
  freedom. Every re-anchoring round adds them (a loop runs one round for most keeps), and here the two setups end up
  alike: contamination ${pct(k.contamination, 1)} vs ${pct(k2.contamination, 1)}, ≥ 1σ accepted ${pct(k.keptReal1s)} vs ${pct(k2.keptReal1s)}, AUROC at the first gate
  ${f(k.aurocFirst)} vs ${f(k2.aurocFirst)}. Setting sigma0 does not matter much for a loop of this length.`);
  if (k.calibration) {
    const gaps = k.calibration.keeps.bins
      .filter((b) => b.n >= 15)
      .map((b) => ({ b, gap: b.meanPredicted - b.observed }));
    const worst = gaps.sort((x, y) => Math.abs(y.gap) - Math.abs(x.gap))[0];
    out.push(`- **Calibration of S**: ECE ${f(k.calibration.all.ece, 3)} over all proposals, ${f(k.calibration.keeps.ece, 3)} over keeps (\`karpathy\`, sigma0 set;
  ${f(k2.calibration?.all.ece, 3)} and ${f(k2.calibration?.keeps.ece, 3)} without). The extremes are right (S < 0.1: almost never real; S > 0.9: almost always);${
    worst
      ? ` in the middle S runs high — worst among keeps in ${f(worst.b.lo, 1)}–${f(worst.b.hi, 1)}: mean S ${f(worst.b.meanPredicted)}, real ${f(worst.b.observed)} —`
      : ''
  } which is where the gate's first-accept decisions fall. The simulator's proposals are not the model's (a
  point mass at no effect and one-sided harmful effects, not N(0, τ²)); the premise's recorded value is a
  selected one (docs/scoring.md §7).`);
  }
  if (noisy) {
    out.push(`- **\`noisy\`** (effects smaller than the noise): nothing separates real from false keeps well from a few runs;
  ECV's contamination is ${pct(noisy.contamination, 1)} (flat ${pct(byMethod(a, 'noisy', 'flat')?.contamination, 1)}); the 2σ rule stays clean only by accepting almost nothing.`);
  }
  return out.join('\n');
}

/** Section 1 of docs/benchmarks.md. */
