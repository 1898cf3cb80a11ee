/**
 * The effect prior g of SPEC §3 (adaptive shrinkage, after Stephens' "ashr"): a point mass at
 * no effect plus half-normals on each side on a grid of scales σ_k = σ̂·2^(j/2), j = −4 … 10
 * (0.25σ̂ … 32σ̂). Effects are in "better" units (positive = better, whatever the direction).
 *
 * For one observation d ~ N(μ, V) the marginal of each component and the posterior of μ are
 * closed forms: the null gives N(d; 0, V); a half-normal HN±(τ) gives
 * 2·N(d; 0, τ² + V)·Φ(±μ̂/ŝ), μ̂ = d·τ²/(τ² + V), ŝ² = τ²V/(τ² + V), and μ | d, k is N(μ̂, ŝ²)
 * truncated to the component's side. Everything is computed in log space (real logs hold
 * |d|/√V beyond 50).
 *
 * Invariants: weights are finite, ≥ 0 and sum to 1; every probability returned is in [0, 1].
 */
import type { AshPriorWeights } from '../types.js';
import { logNormCdf, logNormPdf, normCdf } from './distributions.js';

/** Exponents j of the grid σ_k = σ̂·2^(j/2). */
export const GRID_J = Array.from({ length: 15 }, (_, i) => i - 4);
/** Scales of the grid relative to σ̂: 0.25 … 32. */
export const GRID_SCALES = GRID_J.map((j) => 2 ** (j / 2));
/** Default g0 (SPEC §3): 40% null, 15% gains on 0.5–4σ̂, 45% losses on 0.5–8σ̂. */
export const G0_NULL = 0.4;
export const G0_GAINS = 0.15;
export const G0_LOSSES = 0.45;
/** Strength of the Dirichlet pseudo-counts drawn from g0. */
export const PSEUDO_COUNT = 20;

/**
 * The prior's weights. `gains[k]` and `losses[k]` belong to GRID_SCALES[k]·σ̂; σ̂ itself is the
 * project's noise at the time of scoring (the prior is stored relative to it).
 */
export type AshPrior = AshPriorWeights;

const LOG2 = Math.LN2;

/** The default g0 of SPEC §3. */
export function defaultPrior(): AshPrior {
  const inGains = GRID_J.map((j) => j >= -2 && j <= 4);
  const inLosses = GRID_J.map((j) => j >= -2 && j <= 6);
  const nG = inGains.filter(Boolean).length;
  const nL = inLosses.filter(Boolean).length;
  return {
    null: G0_NULL,
    gains: inGains.map((b) => (b ? G0_GAINS / nG : 0)),
    losses: inLosses.map((b) => (b ? G0_LOSSES / nL : 0)),
  };
}

/** One mixture component of μ's posterior: weight (log, unnormalised) and its side. */
interface Part {
  logW: number;
  /** 0: point mass at 0; +1: N(mu, s²) truncated to (0, ∞); −1: truncated to (−∞, 0). */
  side: 0 | 1 | -1;
  mu: number;
  s: number;
}

/** Posterior of μ given one observation d ~ N(μ, V) under g: a mixture of truncated normals. */
export interface EffectPosterior {
  parts: { w: number; side: 0 | 1 | -1; mu: number; s: number }[];
  /** log of the marginal density p(d) under g. */
  logMarginal: number;
}

/** log of the marginal densities of d under each component, in the order null, gains, losses. */
export function componentLogMarginals(d: number, V: number, sigma: number): number[] {
  const out = [logNormPdf(d, Math.sqrt(V))];
  for (const side of [1, -1] as const) {
    for (const rel of GRID_SCALES) {
      const t2 = (rel * sigma) ** 2;
      const tot = t2 + V;
      const muHat = (d * t2) / tot;
      const sHat = Math.sqrt((t2 * V) / tot);
      out.push(LOG2 + logNormPdf(d, Math.sqrt(tot)) + logNormCdf((side * muHat) / sHat));
    }
  }
  return out;
}

/** Flattens the prior into component weights in the order of componentLogMarginals. */
export function priorWeights(g: AshPrior): number[] {
  return [g.null, ...g.gains, ...g.losses];
}

function fromWeights(w: number[]): AshPrior {
  const K = GRID_SCALES.length;
  return { null: w[0], gains: w.slice(1, 1 + K), losses: w.slice(1 + K, 1 + 2 * K) };
}

/** The posterior of μ given d ~ N(μ, V) (V > 0) under g, with σ̂ = sigma setting the scales. */
export function effectPosterior(g: AshPrior, d: number, V: number, sigma: number): EffectPosterior {
  const w = priorWeights(g);
  const lm = componentLogMarginals(d, V, sigma);
  const parts: Part[] = [];
  for (let k = 0; k < w.length; k++) {
    if (!(w[k] > 0)) continue;
    const logW = Math.log(w[k]) + lm[k];
    if (k === 0) {
      parts.push({ logW, side: 0, mu: 0, s: 0 });
      continue;
    }
    const K = GRID_SCALES.length;
    const side = k <= K ? 1 : -1;
    const rel = GRID_SCALES[(k - 1) % K];
    const t2 = (rel * sigma) ** 2;
    const tot = t2 + V;
    parts.push({ logW, side, mu: (d * t2) / tot, s: Math.sqrt((t2 * V) / tot) });
  }
  // Loops, not closures: this runs per σ node per experiment (esbuild's keepNames wraps closures).
  let max = -Infinity;
  for (const p of parts) if (p.logW > max) max = p.logW;
  let sum = 0;
  for (const p of parts) sum += Math.exp(p.logW - max);
  const logMarginal = max + Math.log(sum);
  const out: EffectPosterior['parts'] = new Array(parts.length);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    out[i] = { w: Math.exp(p.logW - logMarginal), side: p.side, mu: p.mu, s: p.s };
  }
  return { parts: out, logMarginal };
}

/**
 * Mean and variance of N(mu, s²) truncated to (0, ∞) (side +1) or (−∞, 0) (side −1).
 * For x = side·mu/s < −30 the inverse Mills ratio cancels catastrophically; there the
 * asymptotic series of the truncated moments are used (a = −x: mean ≈ s(1/a − 2/a³ + 10/a⁵),
 * var ≈ s²(1/a² − 6/a⁴ + 50/a⁶)), relative error ~1e-8 at a = 30.
 */
export function truncatedMoments(side: 1 | -1, mu: number, s: number): { mean: number; variance: number } {
  const x = (side * mu) / s;
  let m: number;
  let v: number;
  if (x < -30) {
    const a = -x;
    m = s * (1 / a - 2 / a ** 3 + 10 / a ** 5);
    v = s * s * (1 / (a * a) - 6 / a ** 4 + 50 / a ** 6);
  } else {
    const lambda = Math.exp(logNormPdf(x) - logNormCdf(x));
    m = side * mu + s * lambda;
    v = s * s * Math.max(0, 1 - lambda * (lambda + x));
  }
  return { mean: side * m, variance: v };
}

/** Posterior mean and variance of μ. */
export function posteriorMoments(p: EffectPosterior): { mean: number; variance: number } {
  let m1 = 0;
  let m2 = 0;
  for (const part of p.parts) {
    if (part.side === 0) continue;
    const t = truncatedMoments(part.side, part.mu, part.s);
    m1 += part.w * t.mean;
    m2 += part.w * (t.variance + t.mean * t.mean);
  }
  return { mean: m1, variance: Math.max(0, m2 - m1 * m1) };
}

/** P(μ > c | d) for any threshold c (minEffect; c ≥ 0 in practice). */
export function probAbove(p: EffectPosterior, c: number): number {
  let total = 0;
  for (const part of p.parts) {
    if (part.side === 0) {
      if (0 > c) total += part.w;
      continue;
    }
    const { mu, s } = part;
    if (part.side === 1) {
      // P(T > c | T > 0) = Φ((mu − max(c,0))/s)/Φ(mu/s)
      const lo = Math.max(c, 0);
      total += part.w * Math.exp(logNormCdf((mu - lo) / s) - logNormCdf(mu / s));
    } else if (c < 0) {
      // P(c < T < 0 | T < 0) = (Φ(−mu/s) − Φ((c − mu)/s))/Φ(−mu/s)
      const den = logNormCdf(-mu / s);
      const upper = 1;
      const lower = Math.exp(logNormCdf((c - mu) / s) - den);
      total += part.w * Math.max(0, upper - lower);
    }
  }
  return Math.min(1, Math.max(0, total));
}

/**
 * E[Φ(μ/σ)] under the posterior: the probability that a fresh run beats the premise's level.
 * Each truncated-normal part is integrated by 16-point Gauss–Legendre over its quantiles
 * (exact for the point mass: ½).
 */
export function expectedBeat(p: EffectPosterior, sigma: number): number {
  let total = 0;
  for (const part of p.parts) {
    if (part.side === 0) {
      total += part.w * 0.5;
      continue;
    }
    if (part.w < 1e-12) continue; // changes nothing at the precision of R
    total += part.w * truncatedExpectPhi(part.side, part.mu, part.s, sigma);
  }
  return Math.min(1, Math.max(0, total));
}

// Gauss–Legendre nodes and weights on [−1, 1], n = 16 (Abramowitz & Stegun 25.4.30).
const GL_X = [
  0.0950125098376374, 0.2816035507792589, 0.4580167776572274, 0.6178762444026438,
  0.7554044083550030, 0.8656312023878318, 0.9445750230732326, 0.9894009349916499,
];
const GL_W = [
  0.1894506104550685, 0.1826034150449236, 0.1691565193950025, 0.1495959888165767,
  0.1246289712555339, 0.0951585116824928, 0.0622535239386479, 0.0271524594117541,
];

/**
 * E[Φ(T/σ)] for T ~ N(mu, s²) truncated to side. Substituting T = mu + s·z and integrating
 * z over the truncated standard normal by the change of variables u = Φ(z) (uniform on
 * [Φ(a), 1] with a = −mu/s for side +1).
 */
function truncatedExpectPhi(side: 1 | -1, mu: number, s: number, sigma: number, shift = 0): number {
  // Work with T' = side·T ~ N(side·mu, s²) on (0, ∞); Φ(T/σ) = Φ(side·T'/σ).
  const m = side * mu;
  const a = -m / s;
  if (a < -7) {
    // The truncation removes < 1.3e-12 of the mass: T' is N(m, s²) to that precision, and
    // E[Φ((side·T' + shift)/σ)] = Φ((side·m + shift)/√(σ² + s²)) in closed form.
    return normCdf((side * m + shift) / Math.sqrt(sigma * sigma + s * s));
  }
  if (a > 30) {
    // T' ≈ exponential with mean s/a, far below σ in practice: Φ at the mean is exact to O((s/a)²/σ²).
    const t = s / a;
    return normCdf((side * t + shift) / sigma);
  }
  // Quantile substitution on the upper tail: q(u) = −Φ⁻¹(u·Φ(−a)) for u ∈ (0, 1) gives z ≥ a.
  const tail = Math.exp(logNormCdf(-a));
  let sum = 0;
  // Both halves of each node pair (−x, then +x): 32 points, no allocation in this hot loop.
  for (let j = 0; j < 2 * GL_X.length; j++) {
    const i = j >> 1;
    const u = 0.5 * (1 + (j & 1 ? GL_X[i] : -GL_X[i]));
    const t = m + s * -acklam(u * tail);
    sum += 0.5 * GL_W[i] * normCdf((side * t + shift) / sigma);
  }
  return sum;
}

/**
 * P(μ + Δ > 0) with Δ ~ N(a, c²) independent of μ's posterior: the cumulative anchor test of a
 * commit whose premise is not the anchor (Δ = L_P − L_A). With c = 0 and a = 0 it is P(μ > 0).
 */
export function probSumAbove(p: EffectPosterior, a: number, c: number): number {
  if (!(c > 0)) return probAbove(p, -a);
  let total = 0;
  for (const part of p.parts) {
    if (part.side === 0) {
      total += part.w * normCdf(a / c);
      continue;
    }
    if (part.w < 1e-12) continue;
    total += part.w * truncatedExpectPhi(part.side, part.mu, part.s, c, a);
  }
  return Math.min(1, Math.max(0, total));
}

const ACKLAM = [
  [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239],
  [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572],
  [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783],
  [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416],
];

/** Acklam's rational approximation of Φ⁻¹(p), relative error < 1.2e-9: enough for quadrature nodes. */
function acklam(p: number): number {
  if (!(p > 0)) return -Infinity;
  if (!(p < 1)) return Infinity;
  const [a, b, c, dd] = ACKLAM;
  let x: number;
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((dd[0] * q + dd[1]) * q + dd[2]) * q + dd[3]) * q + 1);
  } else if (p <= 1 - 0.02425) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((dd[0] * q + dd[1]) * q + dd[2]) * q + dd[3]) * q + 1);
  }
  return x;
}

/** Φ⁻¹(p) for p in (0, 1): Acklam's rational approximation refined by one Halley step. */
export function normInv(p: number): number {
  if (!(p > 0)) return -Infinity;
  if (!(p < 1)) return Infinity;
  const x = acklam(p);
  // One Halley step (normCdf is accurate in the lower tail, where p is tiny).
  const e = normCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

/** One proposal as the prior fit sees it: d ~ N(μ, V) in better units. */
export interface FitPoint {
  d: number;
  V: number;
}

/**
 * Fits the prior's weights by EM, maximising the marginal likelihood of the proposals plus
 * Dirichlet pseudo-counts PSEUDO_COUNT·g0 (a MAP estimate): w_k = (Σ_i r_ik + a_k)/(N + Σ a_k).
 * Components outside g0's support start at a small weight and may grow from data.
 * Deterministic; `start` warm-starts the iteration (the previous fit).
 */
export function fitPrior(points: readonly FitPoint[], sigma: number, start?: AshPrior, iterations = 200): { prior: AshPrior; logLik: number } {
  const g0 = priorWeights(defaultPrior());
  const alpha = g0.map((w) => PSEUDO_COUNT * w);
  const K = g0.length;
  let w = (start ? priorWeights(start) : g0).map((x) => 0.95 * x + 0.05 / K);
  const usable = points.filter((p) => Number.isFinite(p.d) && p.V > 0 && Number.isFinite(p.V));
  const N = usable.length;
  // log marginals once: N × K
  const L = usable.map((p) => componentLogMarginals(p.d, p.V, sigma));
  const alphaSum = alpha.reduce((a, b) => a + b, 0);
  // Likelihoods scaled by each row's largest, computed once: the iterations only multiply.
  const P = new Float64Array(N * K);
  const rowMax = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const row = L[i];
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, row[k]);
    rowMax[i] = max;
    for (let k = 0; k < K; k++) P[i * K + k] = Math.exp(row[k] - max);
  }
  let logLik = -Infinity;
  const resp = new Float64Array(K);
  for (let it = 0; it < iterations; it++) {
    resp.fill(0);
    let ll = 0;
    for (let i = 0; i < N; i++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += w[k] * P[i * K + k];
      ll += rowMax[i] + Math.log(sum);
      for (let k = 0; k < K; k++) resp[k] += (w[k] * P[i * K + k]) / sum;
    }
    const next = Array.from(resp, (r, k) => (r + alpha[k]) / (N + alphaSum));
    const change = next.reduce((acc, x, k) => Math.max(acc, Math.abs(x - w[k])), 0);
    w = next;
    logLik = ll;
    if (change < 1e-6) break;
  }
  const total = w.reduce((a, b) => a + b, 0);
  return { prior: fromWeights(w.map((x) => x / total)), logLik };
}

/** Mean and variance of μ under the prior g itself (a proposal with no runs). */
export function priorMoments(g: AshPrior, sigma: number): { mean: number; variance: number } {
  // HN(τ): mean τ√(2/π), second moment τ².
  let m1 = 0;
  let m2 = 0;
  GRID_SCALES.forEach((rel, k) => {
    const tau = rel * sigma;
    const mean = tau * Math.sqrt(2 / Math.PI);
    m1 += g.gains[k] * mean - g.losses[k] * mean;
    m2 += (g.gains[k] + g.losses[k]) * tau * tau;
  });
  return { mean: m1, variance: Math.max(0, m2 - m1 * m1) };
}
