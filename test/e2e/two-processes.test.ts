import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgDatabase, ENGINES } from '../helpers/db.js';
import { startService, type Service } from '../helpers/service.js';
import { call, metricValue, reanchoringProject, scrape, sleep, until } from '../helpers/http.js';

/**
 * Issue 17's probes with two real service processes on one PostgreSQL database:
 * - a gate waiting in one process wakes when a runner completes the job through the other
 *   (LISTEN/NOTIFY), without re-reading the database while nothing changes (the quiet re-check
 *   interval is 30 s, so a wake within 10 s is the notification);
 * - 200 concurrent edge writes to one project over both processes: writes to one project
 *   serialise on its row lock, and queue in-process before taking a connection, so each one is
 *   answered 2xx, none 503 (they used to empty the pool).
 */
describe.skipIf(!ENGINES.includes('postgres'))('two service processes on PostgreSQL (issue 17)', () => {
  let db: Awaited<ReturnType<typeof createPgDatabase>>;
  const services: Service[] = [];
  beforeAll(async () => {
    db = await createPgDatabase();
    const env = { DATABASE_URL: db.url, ECV_QUEUE_MAINTENANCE_S: '3600' };
    services.push(...(await Promise.all([startService(env), startService(env)])));
  }, 240_000);
  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await db?.drop();
  });

  it('wakes on the other process’s completion (NOTIFY) and costs nothing while quiet', { timeout: 120_000 }, async () => {
    const [a, b] = services.map((s) => s.url);
    await reanchoringProject(a, 'xp');
    const checks = async () => metricValue(await scrape(a), 'ecv_long_poll_checks_total', { kind: 'gate' });
    const ac = new AbortController();
    const waiting = call(`${a}/v1/projects/xp/gate`, 'POST', { experiment: 'step', threshold: 0.999, wait: 120 }, {}, ac.signal).catch((e: Error) => e);
    await until(async () => metricValue(await scrape(a), 'ecv_long_polls_sleeping') === 1, 15_000, 'wait asleep');
    const q0 = metricValue(await scrape(a), 'ecv_db_queries_total');
    await sleep(2500);
    expect(metricValue(await scrape(a), 'ecv_db_queries_total') - q0).toBeLessThanOrEqual(2);
    expect(await checks()).toBe(0);

    const leased = await call(`${b}/v1/runners/lease`, 'POST', { runner: 'rb', maxJobs: 1 });
    expect(leased.body.jobs).toHaveLength(1);
    const job = leased.body.jobs[0];
    expect((await call(`${b}/v1/jobs/${job.id}/complete`, 'POST', { runner: 'rb', seed: job.seed, value: 0.99 })).status).toBe(200);
    await until(async () => (await checks()) >= 1, 10_000, 'the wait in the other process woke');
    expect(metricValue(await scrape(a), 'ecv_long_poll_wakes_total')).toBeGreaterThanOrEqual(1);
    ac.abort();
    await waiting;
  });

  it('stores every edge and answers no 503', { timeout: 240_000 }, async () => {
    const [a, b] = services.map((s) => s.url);
    const N = 200;
    expect((await call(`${a}/v1/projects`, 'POST', { name: 'burst', metric: { name: 'loss', direction: 'minimize' } })).status).toBe(201);
    const rows = Array.from({ length: N + 1 }, (_, i) => ({ key: `e${i}`, status: 'keep', value: 1 - i / 10_000 }));
    expect((await call(`${a}/v1/projects/burst/experiments`, 'POST', rows)).status).toBe(201);
    const t0 = Date.now();
    const answers = await Promise.all(
      Array.from({ length: N }, (_, i) => call(`${i % 2 ? a : b}/v1/projects/burst/edges`, 'POST', { edges: [{ from: 'e0', to: `e${i + 1}` }] })),
    );
    const statuses = answers.map((r) => r.status);
    const bad = answers.filter((r) => r.status >= 300).map((r) => `${r.status} ${r.body?.detail}`);
    console.log(`200 edge writes in ${Date.now() - t0} ms; not 2xx: ${bad.length} ${bad.slice(0, 3).join(' | ')}`);
    expect(statuses.filter((s) => s === 503)).toEqual([]);
    expect(bad).toEqual([]);
    const graph = await call(`${a}/v1/projects/burst/graph`, 'GET');
    expect(graph.body.edges.filter((e: { from: string }) => e.from === 'e0')).toHaveLength(N);
  });
});
