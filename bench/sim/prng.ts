/**
 * Seeded pseudo-random numbers for the simulator: every draw is reproducible from a seed.
 * mulberry32 (32-bit state) is fast and good enough for Monte Carlo at this scale; normals by
 * Box–Muller. Keyed streams (`keyedRng`) make a draw depend only on what it is about (loop,
 * experiment, reproduction seed), never on the order in which concurrent loops ran.
 */
import { rng } from '../../test/helpers/prng.js';

/** 32-bit FNV-1a of a string, for deriving seeds from names. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Rng {
  private readonly uniform: () => number;
  private spare: number | null = null;

  constructor(seed: number) {
    // Seed 0 starts from the golden ratio, as this generator always has (simulations stay as they were).
    this.uniform = rng(seed >>> 0 || 0x9e3779b9);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uniform();
  }

  /** Standard normal (Box–Muller, caching the second value). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** A generator whose draws depend only on the given parts (e.g. loop seed, key, run seed). */
export function keyedRng(...parts: (string | number)[]): Rng {
  return new Rng(hash32(parts.join('\u0000')));
}
