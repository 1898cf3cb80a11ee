/**
 * The runner's side of the runner API (SPEC §6): lease, heartbeat, complete, with the
 * transient failures of a service behind a load balancer or restarting (connection refused,
 * 502/503/504, 429) retried with jittered exponential backoff and Retry-After honoured.
 */
import type { CompleteIn } from '../../schemas/complete.js';
import type { JobSpec } from '../services/runner.service.js';

/** HTTP statuses worth retrying: the service (or what fronts it) is briefly unavailable. */
export function isTransientStatus(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504;
}

/**
 * Delay before retry number `attempt` (0-based): base·2^attempt capped at maxMs, with ±50%
 * jitter so that runners restarted together do not retry in step; never below Retry-After.
 */
export function backoffMs(
  attempt: number,
  opts: { baseMs?: number; maxMs?: number; retryAfterS?: number; random?: () => number } = {},
): number {
  const base = opts.baseMs ?? 500;
  const max = opts.maxMs ?? 30_000;
  const raw = Math.min(max, base * 2 ** Math.min(attempt, 30));
  const jittered = raw * (0.5 + (opts.random ?? Math.random)());
  const floor =
    opts.retryAfterS !== undefined && Number.isFinite(opts.retryAfterS)
      ? Math.min(opts.retryAfterS * 1000, 60_000)
      : 0;
  return Math.round(Math.max(jittered, floor));
}

/** An answer that is neither success nor transient (401, 403, 400, …): retrying will not help. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The service could not be reached or stayed unavailable past the retry deadline. */
export class UnavailableError extends Error {
  override name = 'UnavailableError';
}

interface Answer {
  status: number;
  body: unknown;
  retryAfterS?: number;
}

export interface ApiOptions {
  url: string;
  token?: string;
  /** Called before each retry. */
  onRetry?: (what: string, attempt: number, delayMs: number, why: string) => void;
}

/** What this runner sends (schemas/complete.ts): always its timing and log tail, and a value or an error. */
export type CompleteBody = Required<Pick<CompleteIn, 'runner' | 'seed' | 'durationS' | 'logTail'>> & ({ value: number } | { error: string });

export type CompleteOutcome = { kind: 'stored' | 'duplicate' } | { kind: 'lost'; detail: string };

const abortable = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((res) => {
    if (signal?.aborted) return res();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      res();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export class RunnerApi {
  private readonly base: string;
  constructor(private readonly opts: ApiOptions) {
    this.base = opts.url.replace(/\/+$/, '');
  }

  /** One HTTP exchange; network failures become UnavailableError, aborts propagate. */
  private async send(
    path: string,
    body: unknown,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<Answer> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      'content-type': 'application/json',
    };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    const timeout = AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (e) {
      if (signal?.aborted) throw e;
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new UnavailableError(
        `cannot reach ${this.base}: ${cause?.code ?? cause?.message ?? (e as Error).message}`,
      );
    }
    const text = await res.text().catch(() => '');
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON (a proxy's error page): keep the text
    }
    const ra = Number(res.headers.get('retry-after'));
    return {
      status: res.status,
      body: parsed,
      ...(Number.isFinite(ra) && ra > 0 ? { retryAfterS: ra } : {}),
    };
  }

  /**
   * Sends until a non-transient answer, retrying transient failures with backoff until
   * `deadlineMs` (absolute) passes or `signal` aborts (then the last failure is thrown).
   */
  private async call(
    what: string,
    path: string,
    body: unknown,
    o: { timeoutMs: number; deadlineMs: number; signal?: AbortSignal },
  ): Promise<Answer> {
    for (let attempt = 0; ; attempt++) {
      let why: string;
      let retryAfterS: number | undefined;
      try {
        const a = await this.send(path, body, o.timeoutMs, o.signal);
        if (!isTransientStatus(a.status)) return a;
        why = `HTTP ${a.status}`;
        retryAfterS = a.retryAfterS;
      } catch (e) {
        if (o.signal?.aborted) throw e;
        why =
          (e as Error).name === 'TimeoutError'
            ? `no answer within ${o.timeoutMs} ms`
            : (e as Error).message;
      }
      const delay = backoffMs(attempt, { retryAfterS });
      if (Date.now() + delay > o.deadlineMs)
        throw new UnavailableError(`${what}: ${why} (gave up retrying)`);
      this.opts.onRetry?.(what, attempt + 1, delay, why);
      await abortable(delay, o.signal);
      if (o.signal?.aborted) throw new UnavailableError(`${what}: ${why} (stopped)`);
    }
  }

  private static problem(what: string, a: Answer): ApiError {
    const p = (a.body ?? {}) as { code?: string; detail?: string; title?: string };
    return new ApiError(
      a.status,
      p.code,
      `${what}: HTTP ${a.status}${p.code ? ` ${p.code}` : ''}: ${p.detail ?? p.title ?? String(a.body).slice(0, 200)}`,
    );
  }

  /** Leases up to `maxJobs` jobs, long-polling up to `wait` s; one attempt (the caller loops). */
  async lease(
    input: { runner: string; labels: Record<string, string>; maxJobs: number; wait: number; projects?: string[] },
    signal?: AbortSignal,
  ): Promise<JobSpec[]> {
    const a = await this.call('lease', '/v1/runners/lease', input, {
      timeoutMs: (input.wait + 30) * 1000,
      deadlineMs: 0,
      signal,
    });
    if (a.status !== 200) throw RunnerApi.problem('lease', a);
    return ((a.body as { jobs?: JobSpec[] }).jobs ?? []) as JobSpec[];
  }

  /** 'ok', 'lost' (409/404: the lease is gone), or throws when the service cannot be reached. */
  async heartbeat(id: string, runner: string, timeoutMs: number): Promise<'ok' | 'lost'> {
    const a = await this.call(
      'heartbeat',
      `/v1/jobs/${id}/heartbeat`,
      { runner },
      { timeoutMs, deadlineMs: 0 },
    );
    if (a.status === 200) return 'ok';
    if (a.status === 409 || a.status === 404) return 'lost';
    throw RunnerApi.problem('heartbeat', a);
  }

  /** Reports a job's outcome, retrying transient failures until `deadlineMs` or `signal`. */
  async complete(
    id: string,
    body: CompleteBody,
    o: { deadlineMs: number; signal?: AbortSignal },
  ): Promise<CompleteOutcome> {
    const a = await this.call('complete', `/v1/jobs/${id}/complete`, body, {
      timeoutMs: 60_000,
      ...o,
    });
    if (a.status === 200)
      return { kind: (a.body as { duplicate?: boolean }).duplicate ? 'duplicate' : 'stored' };
    if (a.status === 409 || a.status === 404)
      return { kind: 'lost', detail: RunnerApi.problem('complete', a).message };
    throw RunnerApi.problem('complete', a);
  }
}
