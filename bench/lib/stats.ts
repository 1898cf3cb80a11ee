/** Small statistics for the benchmark reports. */

/**
 * Area under the ROC curve: P(score of a random positive > score of a random negative), ties
 * counting one half (Mann–Whitney U over average ranks). NaN when a class is empty.
 */
export function auroc(scores: number[], positive: boolean[]): number {
  const idx = scores.map((s, i) => ({ s, p: positive[i] })).sort((a, b) => a.s - b.s);
  let rankSum = 0;
  let nPos = 0;
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j < idx.length && idx[j].s === idx[i].s) j++;
    const avg = (i + 1 + j) / 2; // average rank of the tie group (1-based)
    for (let k = i; k < j; k++)
      if (idx[k].p) {
        rankSum += avg;
        nPos++;
      }
    i = j;
  }
  const nNeg = idx.length - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

export interface ReliabilityBin {
  lo: number;
  hi: number;
  n: number;
  meanPredicted: number;
  observed: number;
}

/** Reliability table in equal-width bins of the predicted probability, and the expected calibration error. */
export function reliability(
  predicted: number[],
  outcome: boolean[],
  bins = 10,
): { bins: ReliabilityBin[]; ece: number } {
  const out: ReliabilityBin[] = Array.from({ length: bins }, (_, b) => ({
    lo: b / bins,
    hi: (b + 1) / bins,
    n: 0,
    meanPredicted: 0,
    observed: 0,
  }));
  predicted.forEach((p, i) => {
    const b = out[Math.min(bins - 1, Math.max(0, Math.floor(p * bins)))];
    b.n++;
    b.meanPredicted += p;
    b.observed += outcome[i] ? 1 : 0;
  });
  let ece = 0;
  for (const b of out) {
    if (b.n === 0) continue;
    b.meanPredicted /= b.n;
    b.observed /= b.n;
    ece += (b.n / predicted.length) * Math.abs(b.meanPredicted - b.observed);
  }
  return { bins: out, ece: predicted.length ? ece : NaN };
}

/** q-quantile (0..1) by linear interpolation. */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** Share of `xs` satisfying `f` (NaN for an empty list). */
export const share = <T>(xs: T[], f: (x: T) => boolean) =>
  xs.length ? xs.filter(f).length / xs.length : NaN;
