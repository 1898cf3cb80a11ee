import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import type { TestApp } from '../helpers/app.js';
import { call, listenTestApp, metricValue, reanchoringProject, scrape, sleep, until } from '../helpers/http.js';

/**
 * Issue 17 (amplification): long polls over real sockets. Abandoned waits must end (their loops
 * stop reading the database), a quiet wait costs no database round trip, and one caller cannot
 * hold more than its bound of waits open. Evidence comes from the server's own counters
 * (/metrics: statements sent, long-poll re-checks, waits open), not from timing.
 */
describe.each(ENGINES)('long polls on %s', (engine) => {
  let t: TestApp & { url: string };
  const WAITS = 30;
  beforeAll(async () => {
    // No maintenance sweep during the test: every statement counted comes from the requests.
    t = await listenTestApp(engine, { ECV_QUEUE_MAINTENANCE_S: '3600', ECV_LONG_POLLS_PER_TOKEN: String(WAITS) });
    await reanchoringProject(t.url, 'lp');
  });
  afterAll(async () => t?.close());

  const gateWait = (signal?: AbortSignal, wait = 3600) => call(`${t.url}/v1/projects/lp/gate`, 'POST', { experiment: 'step', threshold: 0.999, wait }, {}, signal);
  const decisions = async () => (await call(`${t.url}/v1/projects/lp/gate-decisions?limit=1000`, 'GET')).body.items.length as number;
  const active = async (kind: string) => metricValue(await scrape(t.url), 'ecv_long_polls_active', { kind });
  const queries = async () => metricValue(await scrape(t.url), 'ecv_db_queries_total');

  it('ends waits whose clients went away, refuses waits over the per-caller bound, and then reads nothing', async () => {
    const before = await decisions();
    const aborts = Array.from({ length: WAITS }, () => new AbortController());
    const pending = aborts.map((ac) => gateWait(ac.signal).catch((e: Error) => e));
    await until(async () => (await active('gate')) === WAITS, 15_000, 'every wait open');

    // One more wait from the same caller: 429 problem+json with Retry-After; a call without wait still answers.
    const over = await gateWait(undefined, 5);
    expect(over.status).toBe(429);
    expect(over.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(over.body).toMatchObject({ code: 'rate_limited', status: 429 });
    expect((await gateWait(undefined, 0)).body.decision).toBe('reanchor');

    await sleep(300);
    for (const ac of aborts) ac.abort();
    for (const r of await Promise.all(pending)) expect(r).toBeInstanceOf(Error);

    // Each abandoned wait leaves its loop and records its call (SPEC §5: every call recorded).
    await until(async () => (await decisions()) >= before + 1 + WAITS, 15_000, 'abandoned waits recorded');
    await until(async () => (await active('gate')) === 0, 15_000, 'waits closed');
    const s = await scrape(t.url);
    expect(metricValue(s, 'ecv_long_polls_abandoned_total')).toBeGreaterThanOrEqual(WAITS);
    expect(metricValue(s, 'ecv_long_polls_rejected_total')).toBeGreaterThanOrEqual(1);

    // Nothing runs on their behalf any more: two scrapes 2.5 s apart differ only by the scrape's
    // own statement (the job gauges' query).
    const q0 = await queries();
    await sleep(2500);
    const q1 = await queries();
    expect(q1 - q0).toBeLessThanOrEqual(2);
    expect(metricValue(await scrape(t.url), 'ecv_long_poll_checks_total', { kind: 'gate' })).toBe(0);
  });

  it('a quiet wait costs no database round trip; a completion wakes it', async () => {
    const ac = new AbortController();
    const waiting = gateWait(ac.signal, 60).catch((e: Error) => e);
    await until(async () => (await active('gate')) === 1, 15_000, 'wait open');
    await until(async () => metricValue(await scrape(t.url), 'ecv_long_polls_sleeping') === 1, 15_000, 'wait asleep');
    const q0 = await queries();
    await sleep(2500);
    const q1 = await queries();
    expect(q1 - q0).toBeLessThanOrEqual(2);

    // A runner finishes the queued reproduction: the wait wakes and re-reads (once per completion).
    const leased = await call(`${t.url}/v1/runners/lease`, 'POST', { runner: 'r1', maxJobs: 1 });
    expect(leased.body.jobs).toHaveLength(1);
    const job = leased.body.jobs[0];
    const done = await call(`${t.url}/v1/jobs/${job.id}/complete`, 'POST', { runner: 'r1', seed: job.seed, value: 0.99 });
    expect(done.status).toBe(200);
    await until(async () => metricValue(await scrape(t.url), 'ecv_long_poll_checks_total', { kind: 'gate' }) >= 1, 10_000, 'the wait re-checked');
    expect(metricValue(await scrape(t.url), 'ecv_long_poll_wakes_total')).toBeGreaterThanOrEqual(1);
    ac.abort();
    await waiting;
    await until(async () => (await active('gate')) === 0, 15_000, 'wait closed');
  });

  it('ends waits whose clients left before the server read them (a burst abandoned at once)', async () => {
    const aborts = Array.from({ length: 150 }, () => new AbortController());
    const pending = aborts.map((ac) => gateWait(ac.signal).catch((e: Error) => e));
    await sleep(30);
    for (const ac of aborts) ac.abort();
    await Promise.all(pending);
    // The server still works through requests whose sockets are gone: none may stay waiting.
    await until(async () => {
      const s = await scrape(t.url);
      return metricValue(s, 'ecv_long_polls_active', { kind: 'gate' }) === 0 && metricValue(s, 'ecv_long_polls_sleeping') === 0;
    }, 20_000, 'no wait left open');
    await sleep(1000);
    const s = await scrape(t.url);
    expect(metricValue(s, 'ecv_long_polls_active', { kind: 'gate' })).toBe(0);
    expect(metricValue(s, 'ecv_long_polls_sleeping')).toBe(0);
    // fetch may leave a connection it aborted mid-request open (the server would wait for its
    // headers, up to headersTimeout, before closing); drop it so that the app closes promptly
    // (last test of this app: this also drops fetch's keep-alive connections).
    t.app.server.closeAllConnections();
  });
});

describe.each(ENGINES)('runner lease waits on %s', (engine) => {
  let t: TestApp & { url: string };
  beforeAll(async () => {
    // A one-second sweep makes lease waits re-check every second: abandoned ones must stop.
    t = await listenTestApp(engine, { ECV_QUEUE_MAINTENANCE_S: '1' });
  });
  afterAll(async () => t?.close());

  it('stop re-checking once their clients go away (the response closes, Node 20)', async () => {
    const checks = async () => metricValue(await scrape(t.url), 'ecv_long_poll_checks_total', { kind: 'lease' });
    const aborts = Array.from({ length: 10 }, () => new AbortController());
    const pending = aborts.map((ac) => call(`${t.url}/v1/runners/lease`, 'POST', { runner: 'r', wait: 300, projects: ['none-such'] }, {}, ac.signal).catch((e: Error) => e));
    await until(async () => metricValue(await scrape(t.url), 'ecv_long_polls_active', { kind: 'lease' }) === 10, 15_000, 'leases open');
    await until(async () => (await checks()) >= 10, 15_000, 'lease waits re-checking');
    for (const ac of aborts) ac.abort();
    await Promise.all(pending);
    await until(async () => metricValue(await scrape(t.url), 'ecv_long_polls_active', { kind: 'lease' }) === 0, 15_000, 'leases closed');
    await sleep(1200); // a re-check already past its wait may finish
    const c0 = await checks();
    await sleep(3000);
    expect(await checks()).toBe(c0);
  });
});
