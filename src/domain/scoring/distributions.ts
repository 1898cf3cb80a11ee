/**
 * Log-space densities and distribution functions for the scoring model.
 *
 * Written here rather than taken from jstat: jStat.erfc loses all relative accuracy
 * beyond x ≈ 5 (it returns 0 at x = 8), so log Φ(z) for the z ≈ −50 … −1e6 that real
 * logs produce would be −∞. Everything below stays finite for |x| ≤ 1e100 and has
 * relative accuracy of about 1e-14 (checked against mpmath in the unit tests). jStat's
 * gammaln and Student-t CDF are less accurate here (measured: lnΓ up to 7e-14 relative vs
 * 1e-15; T₁(−3e4) and T₅(−1e4) off by 4e-9 relative, and no log-space tail), so
 * jstat is used only where it is right: the χ² quantiles of confidence.ts.
 */

const LOG_2PI = Math.log(2 * Math.PI);
const LOG_HALF = Math.log(0.5);

/** Inputs larger than this in magnitude are clamped; nothing changes beyond it. */
export const MAX_ABS_Z = 1e100;

/** Clamp to ±MAX_ABS_Z (keeps x² finite); NaN stays NaN for the caller to reject. */
export function clampZ(x: number): number {
  return Math.max(-MAX_ABS_Z, Math.min(MAX_ABS_Z, x));
}

/** log(e^a + e^b) without overflow or 0/0 (−∞ when both are −∞). */
export function logSumExp(a: number, b: number): number {
  const m = Math.max(a, b);
  if (m === -Infinity) return -Infinity;
  return m + Math.log1p(Math.exp(Math.min(a, b) - m));
}

// Lanczos approximation (g = 7, n = 9); relative error < 1e-14 for x > 0.
const LANCZOS = [
  0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
];

/** log Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const y = x - 1;
  let a = LANCZOS[0];
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (y + i);
  return 0.5 * LOG_2PI + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** log B(a, b). */
export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

// Chebyshev coefficients of erfc (Numerical Recipes 3rd ed., §6.2.2); ~1e-16 relative.
const ERFC_COF = [
  -1.3026537197817094, 0.6419697923564902, 0.019476473204185836, -9.561514786808631e-3,
  -9.46595344482036e-4, 3.66839497852761e-4, 4.2523324806907e-5, -2.0278578112534e-5,
  -1.624290004647e-6, 1.30365583558e-6, 1.5626441722e-8, -8.5238095915e-8, 6.529054439e-9,
  5.059343495e-9, -9.91364156e-10, -2.27365122e-10, 9.6467911e-11, 2.394038e-12, -6.886027e-12,
  8.94487e-13, 3.13092e-13, -1.12708e-13, 3.81e-16, 7.106e-15, -1.523e-15, -9.4e-17, 1.21e-16,
  -2.8e-17,
];

/** log erfc(x) for x ≥ 0, exact in log space (no underflow for large x). */
function logErfcNonNeg(x: number): number {
  const t = 2 / (2 + x);
  const ty = 4 * t - 2;
  let d = 0;
  let dd = 0;
  for (let j = ERFC_COF.length - 1; j > 0; j--) {
    const tmp = d;
    d = ty * d - dd + ERFC_COF[j];
    dd = tmp;
  }
  return Math.log(t) - x * x + 0.5 * (ERFC_COF[0] + ty * d) - dd;
}

/** log Φ(x), standard normal CDF, accurate in both tails. */
export function logNormCdf(x: number): number {
  if (x === 0) return LOG_HALF; // exact (the Chebyshev fit is 1 ulp off at 0)
  const u = clampZ(x) / Math.SQRT2;
  // Φ(x) = ½·erfc(−x/√2); for x > 0 use Φ = 1 − ½·erfc(x/√2) with log1p.
  if (u <= 0) return LOG_HALF + logErfcNonNeg(-u);
  return Math.log1p(-0.5 * Math.exp(logErfcNonNeg(u)));
}

/** Φ(x), standard normal CDF. */
export function normCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === 0) return 0.5;
  const u = clampZ(x) / Math.SQRT2;
  const half = 0.5 * Math.exp(logErfcNonNeg(Math.abs(u)));
  return u <= 0 ? half : 1 - half;
}

/** log φ(x; 0, scale²): normal density with standard deviation `scale`. */
export function logNormPdf(x: number, scale = 1): number {
  const y = clampZ(x) / scale;
  return -0.5 * y * y - Math.log(scale) - 0.5 * LOG_2PI;
}

/** log(1 + x²/ν), finite for |x| ≤ MAX_ABS_Z. */
function log1pSqOver(x: number, nu: number): number {
  const y = clampZ(x);
  return Math.log1p((y * y) / nu);
}

/** log of the Student-t density with ν > 0 degrees of freedom, scaled by `scale`. */
export function logTPdf(x: number, nu: number, scale = 1): number {
  return tLogPdfFor(nu)(x, scale);
}

/** logTPdf with its ν-dependent constant computed once (hot loops of the π, τ fit). */
export function tLogPdfFor(nu: number): (x: number, scale?: number) => number {
  const c = logGamma((nu + 1) / 2) - logGamma(nu / 2) - 0.5 * Math.log(nu * Math.PI);
  const h = (nu + 1) / 2;
  return (x, scale = 1) => c - h * log1pSqOver(clampZ(x) / scale, nu) - Math.log(scale);
}

const BETACF_MAXIT = 1000;
const BETACF_EPS = 1e-16;
const FPMIN = 1e-300;

/** Continued fraction of the incomplete beta (modified Lentz, Numerical Recipes §6.4). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < FPMIN) d = FPMIN;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= BETACF_MAXIT; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = 1 + aa / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = 1 + aa / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < BETACF_EPS) break;
  }
  return h;
}

/**
 * log I_x(a, b), the regularized incomplete beta, given x, y = 1 − x and their logs
 * (passed separately so that neither loses precision when the other is tiny).
 */
function logIncBeta(
  a: number,
  b: number,
  x: number,
  y: number,
  lx: number,
  ly: number,
  swapped = false,
): number {
  if (x <= 0) return -Infinity;
  if (y <= 0) return 0;
  // The continued fraction converges fast for x < (a+1)/(a+b+2); use the symmetry
  // otherwise (at most once: at the boundary both sides would qualify).
  if (swapped || x < (a + 1) / (a + b + 2)) {
    const front = a * lx + b * ly - logBeta(a, b) - Math.log(a);
    return front + Math.log(betaContinuedFraction(a, b, x));
  }
  // I_x(a, b) = 1 − I_y(b, a)
  return Math.log1p(-Math.exp(logIncBeta(b, a, y, x, ly, lx, true)));
}

/** log T_ν(x), Student-t CDF with ν > 0 degrees of freedom, accurate in both tails. */
export function logTCdf(x: number, nu: number): number {
  const t = clampZ(x);
  if (t === 0) return LOG_HALF;
  const t2 = t * t;
  // T_ν(t) = ½·I_{ν/(ν+t²)}(ν/2, ½) for t < 0.
  const lden = Math.log(nu + t2);
  const lx = Math.log(nu) - lden;
  const ly = Math.log(t2) - lden;
  const lowerTail = LOG_HALF + logIncBeta(nu / 2, 0.5, nu / (nu + t2), t2 / (nu + t2), lx, ly);
  return t < 0 ? lowerTail : Math.log1p(-Math.exp(lowerTail));
}
