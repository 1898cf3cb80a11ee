import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyInstance {
    /** Per-caller request budget; the auth plugin charges it (per token, or per IP). */
    rateLimit: TokenBucketLimiter;
  }
}

// Bound on tracked callers: past it the oldest buckets are forgotten (they restart full),
// so a flood of new keys cannot grow memory without limit.
const MAX_KEYS = 100_000;

/**
 * Token buckets, in memory, per process: each key may burst `perMinute` requests and refills
 * continuously at `perMinute` per minute. Several service processes each keep their own
 * buckets, so the effective limit behind a load balancer is per process (documented).
 */
export class TokenBucketLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** Refill rate in tokens per millisecond. */
  private readonly rate: number;

  constructor(
    readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.rate = perMinute / 60_000;
  }

  /** Takes one request from `key`'s bucket: 0 when allowed, else whole seconds until one is free. */
  take(key: string): number {
    const t = this.now();
    const b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= MAX_KEYS) this.evict();
      this.buckets.set(key, { tokens: this.perMinute - 1, at: t });
      return 0;
    }
    b.tokens = Math.min(this.perMinute, b.tokens + (t - b.at) * this.rate);
    b.at = t;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.rate / 1000));
  }

  /** Forgets buckets that have refilled completely (idle callers); they would restart full anyway. */
  sweep(): void {
    const t = this.now();
    for (const [k, b] of this.buckets)
      if (b.tokens + (t - b.at) * this.rate >= this.perMinute) this.buckets.delete(k);
  }

  get size(): number {
    return this.buckets.size;
  }

  private evict(): void {
    this.sweep();
    // Still full: drop the oldest tenth (Map iterates in insertion order).
    let n = this.buckets.size >= MAX_KEYS ? Math.ceil(MAX_KEYS / 10) : 0;
    for (const k of this.buckets.keys()) {
      if (n-- <= 0) break;
      this.buckets.delete(k);
    }
  }
}

/** Decorates `app.rateLimit` (config.rateLimitPerMinute) and sweeps idle buckets each minute. */
export default fp(
  async function rateLimitPlugin(app: FastifyInstance) {
    const limiter = new TokenBucketLimiter(app.deps.config.rateLimitPerMinute);
    app.decorate('rateLimit', limiter);
    const timer = setInterval(() => limiter.sweep(), 60_000);
    timer.unref();
    app.addHook('onClose', async () => clearInterval(timer));
  },
  { name: 'rate-limit' },
);
