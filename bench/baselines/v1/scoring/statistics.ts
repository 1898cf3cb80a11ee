/*
 * Baseline only: ECV's first gate design (v1), copied verbatim from our own code at git commit
 * 3b67ef4 (src/domain/scoring/statistics.ts) so the obey-mode bench can run the previous design as a policy
 * in process after the service moved to gate v2. Not used by the service; do not edit except
 * to keep it compiling.
 */
/**
 * Statistics S: the two-group empirical-Bayes model over standardized improvements z
 * (SPEC §3). With probability π a proposal is real, μ ~ N(0, τ²) in SE units; else μ = 0.
 *
 * With ν ≥ 30 (or ν = ∞) the noise is normal:
 *   null z ~ N(0, 1), alternative z ~ N(0, 1 + τ²),
 *   P(μ > 0, real | z) ∝ π·φ(z; 0, 1+τ²)·Φ(z·τ/√(1+τ²)).
 * With ν < 30, σ̂ itself is uncertain (σ̂²/σ² ~ χ²_ν/ν) and z = w·σ/σ̂ with w the normal
 * z above. Dividing by the same √(χ²_ν/ν) gives, exactly:
 *   null z ~ t_ν, alternative z ~ s·t_ν with s = √(1+τ²),
 *   P(μ > 0, real | z) ∝ π·(1/s)·t_ν(y)·T_{ν+1}(τ·y·√((ν+1)/(ν+y²))), y = z/s
 * (the skew-t of Azzalini & Capitanio, 2003, with shape τ). All in log space.
 */
import {
  clampZ,
  logNormCdf,
  logNormPdf,
  logSumExp,
  logTCdf,
  logTPdf,
  tLogPdfFor,
} from './distributions.js';

/** Below this many degrees of freedom the Student-t replaces the normal. */
export const T_NU_LIMIT = 30;
/** Fewer proposals than this: π, τ take their defaults. */
export const MIN_PROPOSALS_FOR_FIT = 30;
export const DEFAULT_PI = 0.2;
export const DEFAULT_TAU = 2;
export const PI_MIN = 0.001;
export const PI_MAX = 0.999;
export const TAU_MIN = 0.1;
export const TAU_MAX = 50;
/** Grid points per axis before the golden-section refinement. */
export const FIT_GRID = 25;

/**
 * Degrees of freedom the model uses: ∞ (normal) at ν ≥ 30; a non-positive or NaN ν
 * (only possible with hand-made stats) is treated as 1, the heaviest tail we allow.
 */
export function effectiveNu(nu: number): number {
  if (!(nu > 0)) return 1;
  return nu >= T_NU_LIMIT ? Infinity : nu;
}

/** log density of z with no effect. */
export function logNullDensity(z: number, nu: number): number {
  return nu === Infinity ? logNormPdf(z) : logTPdf(z, nu);
}

/** log density of z under the real-effect component (scale √(1+τ²)). */
export function logAltDensity(z: number, tau: number, nu: number): number {
  const s = Math.sqrt(1 + tau * tau);
  return nu === Infinity ? logNormPdf(z, s) : logTPdf(z, nu, s);
}

/** (z, scale) ↦ log density of z, normal or Student-t, with constants hoisted. */
function logDensityFor(nu: number): (z: number, scale?: number) => number {
  return nu === Infinity ? logNormPdf : tLogPdfFor(nu);
}

/** log P(μ > 0 | z, real). */
export function logPositiveGivenReal(z: number, tau: number, nu: number): number {
  const s = Math.sqrt(1 + tau * tau);
  const y = clampZ(z) / s;
  if (nu === Infinity) return logNormCdf(y * tau);
  return logTCdf(tau * y * Math.sqrt((nu + 1) / (nu + y * y)), nu + 1);
}

export interface Posterior {
  /** S = P(μ > 0 | z). */
  s: number;
  /** P(real | z), the posterior weight of the real-effect component. */
  pReal: number;
  /** log marginal density of z. */
  logMarginal: number;
}

const clamp01 = (x: number): number => (x > 1 ? 1 : x > 0 ? x : 0);

/** Posterior of one standardized improvement z; `nu` is the raw ν (see effectiveNu). */
export function posterior(z: number, pi: number, tau: number, nu: number): Posterior {
  const n = effectiveNu(nu);
  const logA = Math.log(pi) + logAltDensity(z, tau, n);
  const logN = Math.log1p(-pi) + logNullDensity(z, n);
  const logD = logSumExp(logA, logN);
  const logPos = logA + logPositiveGivenReal(z, tau, n);
  return {
    s: clamp01(Math.exp(logPos - logD)),
    pReal: clamp01(Math.exp(logA - logD)),
    logMarginal: logD,
  };
}

/** Σ log(π·f_alt(z_i) + (1−π)·f_null(z_i)) over the proposals. */
export function logMarginalLikelihood(
  zs: readonly number[],
  pi: number,
  tau: number,
  nu: number,
): number {
  const n = effectiveNu(nu);
  const lp = Math.log(pi);
  const lq = Math.log1p(-pi);
  let ll = 0;
  for (const z of zs) ll += logSumExp(lp + logAltDensity(z, tau, n), lq + logNullDensity(z, n));
  return ll;
}

export interface PiTauFit {
  pi: number;
  tau: number;
  logLik: number;
}

const GOLDEN = (Math.sqrt(5) - 1) / 2;

/** Golden-section maximization of f on [lo, hi]; returns the best point seen. */
function goldenMax(f: (x: number) => number, lo: number, hi: number): [number, number] {
  let a = lo;
  let b = hi;
  let c = b - GOLDEN * (b - a);
  let d = a + GOLDEN * (b - a);
  let fc = f(c);
  let fd = f(d);
  while (b - a > 1e-7) {
    if (fc >= fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - GOLDEN * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + GOLDEN * (b - a);
      fd = f(d);
    }
  }
  return fc >= fd ? [c, fc] : [d, fd];
}

/**
 * The π in [PI_MIN, PI_MAX] maximizing Σ log(π·e^{a_i} + (1−π)·e^{b_i}) for fixed τ,
 * given the log-ratios d_i = a_i − b_i. The log-likelihood is concave in π, so its
 * derivative Σ (e^{d_i} − 1)/(π·e^{d_i} + 1 − π) is decreasing: safeguarded Newton steps
 * inside a shrinking bracket find its root (each term written so that no e^{d} overflows).
 */
function bestPi(d: readonly number[]): number {
  const grad = (pi: number): [number, number] => {
    let g = 0;
    let h = 0;
    for (const di of d) {
      const t =
        di > 0
          ? (1 - Math.exp(-di)) / (pi + (1 - pi) * Math.exp(-di))
          : Math.expm1(di) / (pi * Math.exp(di) + 1 - pi);
      g += t;
      h -= t * t;
    }
    return [g, h];
  };
  let lo = PI_MIN;
  let hi = PI_MAX;
  if (grad(lo)[0] <= 0) return lo;
  if (grad(hi)[0] >= 0) return hi;
  let pi = 0.5;
  for (let i = 0; i < 100 && hi - lo > 1e-12; i++) {
    const [g, h] = grad(pi);
    if (Math.abs(g) < 1e-10 * d.length) break;
    if (g > 0) lo = pi;
    else hi = pi;
    const newton = h < 0 ? pi - g / h : NaN;
    pi = newton > lo && newton < hi ? newton : (lo + hi) / 2;
  }
  return pi;
}

/**
 * π, τ by maximum marginal likelihood over the proposals' z. The likelihood is profiled
 * over π (exact for each τ, see bestPi); the profile is searched on a 25-point grid of
 * log τ in [0.1, 50], then refined by golden section within one grid step of the best.
 * Deterministic; never worse than the best grid point.
 */
export function fitPiTau(zs: readonly number[], nu: number): PiTauFit {
  const density = logDensityFor(effectiveNu(nu));
  const nulls = zs.map((z) => density(z));
  const profile = (v: number): { pi: number; ll: number } => {
    const s = Math.sqrt(1 + Math.exp(2 * v));
    const alts = zs.map((z) => density(z, s));
    const pi = bestPi(alts.map((a, i) => a - nulls[i]));
    const lp = Math.log(pi);
    const lq = Math.log1p(-pi);
    let ll = 0;
    for (let i = 0; i < alts.length; i++) ll += logSumExp(lp + alts[i], lq + nulls[i]);
    return { pi, ll };
  };
  const v0 = Math.log(TAU_MIN);
  const v1 = Math.log(TAU_MAX);
  const dv = (v1 - v0) / (FIT_GRID - 1);
  let best = { v: v0, pi: DEFAULT_PI, ll: -Infinity };
  for (let j = 0; j < FIT_GRID; j++) {
    const v = v0 + j * dv;
    const p = profile(v);
    if (p.ll > best.ll) best = { v, ...p };
  }
  const [v, ll] = goldenMax(
    (x) => profile(x).ll,
    Math.max(v0, best.v - dv),
    Math.min(v1, best.v + dv),
  );
  if (ll > best.ll) best = { v, ...profile(v) };
  return {
    pi: Math.min(PI_MAX, Math.max(PI_MIN, best.pi)),
    tau: Math.min(TAU_MAX, Math.max(TAU_MIN, Math.exp(best.v))),
    logLik: best.ll,
  };
}
