import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ApiError,
  backoffMs,
  isTransientStatus,
  RunnerApi,
  UnavailableError,
} from '../../../src/runner/api.js';

describe('backoffMs', () => {
  it('grows exponentially with jitter, capped, and never below Retry-After', () => {
    expect(backoffMs(0, { random: () => 0.5 })).toBe(500);
    expect(backoffMs(3, { random: () => 0.5 })).toBe(4000);
    expect(backoffMs(50, { random: () => 1 })).toBe(45_000); // cap 30 s · 1.5
    expect(backoffMs(0, { random: () => 0 })).toBe(250);
    expect(backoffMs(0, { random: () => 0, retryAfterS: 5 })).toBe(5000);
  });
  it('treats only unavailability as transient', () => {
    expect([429, 502, 503, 504].every(isTransientStatus)).toBe(true);
    expect([200, 400, 401, 403, 404, 409, 500].some(isTransientStatus)).toBe(false);
  });
});

describe('RunnerApi against a flaky service', () => {
  let server: Server;
  let url: string;
  const answers: { status: number; body: unknown; headers?: Record<string, string> }[] = [];
  const seen: { url: string; body: unknown; auth?: string }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        seen.push({ url: req.url!, body: JSON.parse(text), auth: req.headers.authorization });
        const a = answers.shift() ?? { status: 500, body: {} };
        res.writeHead(a.status, { 'content-type': 'application/json', ...(a.headers ?? {}) });
        res.end(JSON.stringify(a.body));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it('retries complete through 503s (honouring Retry-After) and sends the token', async () => {
    seen.length = 0;
    answers.push(
      { status: 503, body: { code: 'unavailable' }, headers: { 'retry-after': '1' } },
      { status: 502, body: 'bad gateway' },
      { status: 200, body: { duplicate: false } },
    );
    const retries: string[] = [];
    const api = new RunnerApi({
      url: `${url}/`,
      token: 'tok',
      onRetry: (_w, _a, _d, why) => retries.push(why),
    });
    const started = Date.now();
    const out = await api.complete(
      'j1',
      { runner: 'r', seed: 1, durationS: 1, logTail: '', value: 0.9 },
      { deadlineMs: Date.now() + 30_000 },
    );
    expect(out).toEqual({ kind: 'stored' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(retries).toEqual(['HTTP 503', 'HTTP 502']);
    expect(seen.map((s) => s.url)).toEqual([
      '/v1/jobs/j1/complete',
      '/v1/jobs/j1/complete',
      '/v1/jobs/j1/complete',
    ]);
    expect(seen[0]).toMatchObject({
      auth: 'Bearer tok',
      body: { runner: 'r', seed: 1, value: 0.9 },
    });
  });

  it('reports duplicates, lost leases and hard errors apart', async () => {
    const api = new RunnerApi({ url });
    const body = { runner: 'r', seed: 1, durationS: 1, logTail: '', error: 'exit code 1' };
    answers.push({ status: 200, body: { duplicate: true } });
    expect(await api.complete('j', body, { deadlineMs: Date.now() + 1000 })).toEqual({
      kind: 'duplicate',
    });
    answers.push({ status: 409, body: { code: 'conflict', detail: 'not leased to r' } });
    expect(await api.complete('j', body, { deadlineMs: Date.now() + 1000 })).toMatchObject({
      kind: 'lost',
      detail: expect.stringContaining('not leased to r'),
    });
    answers.push({ status: 409, body: { code: 'conflict' } });
    expect(await api.heartbeat('j', 'r', 1000)).toBe('lost');
    answers.push({ status: 200, body: { leaseExpiresAt: 'x' } });
    expect(await api.heartbeat('j', 'r', 1000)).toBe('ok');
    answers.push({ status: 401, body: { code: 'unauthorized', detail: 'missing token' } });
    await expect(api.lease({ runner: 'r', labels: {}, maxJobs: 1, wait: 0 })).rejects.toThrow(
      ApiError,
    );
  });

  it('gives up on complete at its deadline while the service stays unavailable', async () => {
    const api = new RunnerApi({ url });
    answers.push(...Array.from({ length: 10 }, () => ({ status: 503, body: {} })));
    await expect(
      api.complete(
        'j',
        { runner: 'r', seed: 1, durationS: 0, logTail: '', value: 1 },
        { deadlineMs: Date.now() + 1500 },
      ),
    ).rejects.toThrow(UnavailableError);
    answers.length = 0;
  });

  it('turns connection refused into UnavailableError, and an abort ends a long-poll', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const api = new RunnerApi({ url: `http://127.0.0.1:${port}` });
    await expect(api.lease({ runner: 'r', labels: {}, maxJobs: 1, wait: 0 })).rejects.toThrow(
      /ECONNREFUSED/,
    );

    const hanging = createServer(() => undefined); // never answers
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const slow = new RunnerApi({
      url: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`,
    });
    await expect(
      slow.lease({ runner: 'r', labels: {}, maxJobs: 1, wait: 30 }, ac.signal),
    ).rejects.toThrow();
    hanging.closeAllConnections();
    await new Promise((r) => hanging.close(r));
  });
});
