import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { TokenBucketLimiter } from '../../src/http/plugins/rate-limit.js';
import { loadConfig } from '../../src/config.js';

const ADMIN = 'rate-limit-admin-token-xyz';
const bearer = (secret?: string) => (secret ? { authorization: `Bearer ${secret}` } : {});

describe('token bucket', () => {
  it('bursts up to the limit, refills continuously and says how long to wait', () => {
    let now = 0;
    const l = new TokenBucketLimiter(60, () => now);
    for (let i = 0; i < 60; i++) expect(l.take('a')).toBe(0);
    expect(l.take('a')).toBe(1);
    expect(l.take('b')).toBe(0);
    now += 500;
    expect(l.take('a')).toBe(1);
    now += 500;
    expect(l.take('a')).toBe(0);
    expect(l.take('a')).toBe(1);

    const slow = new TokenBucketLimiter(2, () => now);
    slow.take('k');
    slow.take('k');
    expect(slow.take('k')).toBe(30);
  });

  it('forgets idle callers', () => {
    let now = 0;
    const l = new TokenBucketLimiter(10, () => now);
    l.take('a');
    l.take('b');
    now += 3_000;
    l.take('b');
    l.sweep();
    expect(l.size).toBe(2);
    now += 60_000;
    l.sweep();
    expect(l.size).toBe(0);
  });
});

describe.each(ENGINES)('rate limits on %s', (engine) => {
  let t: TestApp;
  let loop: string;
  beforeAll(async () => {
    t = await buildTestApp(engine, { ECV_AUTH: 'on', ECV_ADMIN_TOKEN: ADMIN, ECV_RATE_LIMIT: '5' });
    const r = await t.app.inject({
      method: 'POST',
      url: '/v1/tokens',
      headers: bearer(ADMIN),
      payload: { role: 'loop', projects: ['*'] },
    });
    loop = r.json().token;
  });
  afterAll(async () => t?.close());

  const get = (secret?: string, remoteAddress = '10.0.0.1') =>
    t.app.inject({ method: 'GET', url: '/v1/projects', headers: bearer(secret), remoteAddress });

  it('limits each token on its own with 429 rate_limited and Retry-After', async () => {
    for (let i = 0; i < 5; i++) expect((await get(loop)).statusCode).toBe(200);
    const limited = await get(loop);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toContain('application/problem+json');
    expect(limited.json()).toMatchObject({ code: 'rate_limited', status: 429 });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(12);
    // Same token from another address: still limited (the bucket is the token's).
    expect((await get(loop, '10.9.9.9')).statusCode).toBe(429);
    // Admin (used once above) has its own bucket.
    expect((await get(ADMIN)).statusCode).toBe(200);
    // Public routes are never limited (health probes).
    for (let i = 0; i < 10; i++)
      expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('limits requests without a valid token per IP (guessing tokens gets 429)', async () => {
    for (let i = 0; i < 5; i++)
      expect((await get(`ecv_guess${i}`, '10.0.0.2')).statusCode).toBe(401);
    expect((await get('ecv_guess', '10.0.0.2')).statusCode).toBe(429);
    expect((await get(undefined, '10.0.0.2')).statusCode).toBe(429);
    expect((await get(undefined, '10.0.0.3')).statusCode).toBe(401);
  });
});

describe('rate limits with auth off', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp('pglite', { ECV_RATE_LIMIT: '3' });
  });
  afterAll(async () => t?.close());

  it('spares loopback (embedded use, in-process CLI) and limits other addresses per IP', async () => {
    for (let i = 0; i < 10; i++)
      expect((await t.app.inject({ method: 'GET', url: '/v1/projects' })).statusCode).toBe(200);
    const remote = () =>
      t.app.inject({ method: 'GET', url: '/v1/projects', remoteAddress: '192.0.2.7' });
    for (let i = 0; i < 3; i++) expect((await remote()).statusCode).toBe(200);
    expect((await remote()).statusCode).toBe(429);
  });
});

describe('client addresses behind proxies', () => {
  const apps: TestApp[] = [];
  afterAll(async () => Promise.all(apps.map((a) => a.close())));
  const fromProxy = (t: TestApp, forwarded: string) =>
    t.app.inject({ method: 'GET', url: '/v1/projects', remoteAddress: '10.1.1.1', headers: { 'x-forwarded-for': forwarded } });

  it('ignores X-Forwarded-For by default: a client cannot pick a fresh IP per request', async () => {
    const t = await buildTestApp('pglite', { ECV_RATE_LIMIT: '3' });
    apps.push(t);
    for (let i = 0; i < 3; i++) expect((await fromProxy(t, `198.51.100.${i}`)).statusCode).toBe(200);
    expect((await fromProxy(t, '198.51.100.99')).statusCode).toBe(429);
  });

  it('believes the header from a trusted proxy (ECV_TRUST_PROXY) and limits each client behind it', async () => {
    const t = await buildTestApp('pglite', { ECV_RATE_LIMIT: '3', ECV_TRUST_PROXY: '10.0.0.0/8' });
    apps.push(t);
    for (let i = 0; i < 3; i++) expect((await fromProxy(t, '198.51.100.1')).statusCode).toBe(200);
    expect((await fromProxy(t, '198.51.100.1')).statusCode).toBe(429);
    expect((await fromProxy(t, '198.51.100.2')).statusCode).toBe(200);
  });

  it('refuses a malformed ECV_TRUST_PROXY at start', () => {
    expect(() => loadConfig({ ECV_TRUST_PROXY: 'everyone' })).toThrow(/ECV_TRUST_PROXY/);
    expect(loadConfig({ ECV_TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({}).trustProxy).toBe(false);
  });
});
