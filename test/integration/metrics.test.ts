import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ENGINES, createTestDb, type TestDb } from '../helpers/db.js';
import { call, metricValue, parseExposition, reanchoringProject, type Sample } from '../helpers/http.js';

const ADMIN = 'ecv_admin_secret_for_the_metrics_test_00000';

/** Issue 17 / SPEC §11: a real server scraped after real requests; the exposition parsed. */
describe.each(ENGINES)('/metrics on %s', (engine) => {
  let db: TestDb;
  let app: FastifyInstance;
  let url: string;
  let reader = '';
  const admin = { authorization: `Bearer ${ADMIN}` };

  beforeAll(async () => {
    db = await createTestDb(engine);
    app = await buildApp({ db: db.handle, config: loadConfig({ ECV_AUTH: 'on', ECV_ADMIN_TOKEN: ADMIN, ECV_QUEUE_MAINTENANCE_S: '3600' }) }, { swaggerUi: false });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    reader = (await call(`${url}/v1/tokens`, 'POST', { role: 'reader', projects: ['*'], label: 'prometheus' }, admin)).body.token;
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const scrapeAs = async (headers: Record<string, string>): Promise<Sample[]> => {
    const res = await fetch(`${url}/metrics`, { headers });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseExposition(await res.text());
  };

  it('needs a token (any reader), and counts requests, gate decisions, ingest rows, jobs and reproductions', async () => {
    const anon = await fetch(`${url}/metrics`);
    expect(anon.status).toBe(401);
    expect(anon.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const before = await scrapeAs({ authorization: `Bearer ${reader}` });
    const listed = (s: Sample[]) => metricValue(s, 'ecv_http_requests_total', { method: 'GET', route: '/v1/projects', status: '200' });

    await reanchoringProject(url, 'mx', admin);
    for (let i = 0; i < 3; i++) expect((await call(`${url}/v1/projects`, 'GET', undefined, admin)).status).toBe(200);
    expect((await call(`${url}/v1/projects/mx/nothing/here`, 'GET', undefined, admin)).status).toBe(404);
    const tsv = await fetch(`${url}/v1/projects/mx/results`, { method: 'POST', headers: { ...admin, 'content-type': 'text/tab-separated-values' }, body: 'commit\tval_bpb\tstatus\tdescription\nabc1234\t0.98\tkeep\tmore\n' });
    expect(tsv.status).toBeLessThan(300);
    const [job] = (await call(`${url}/v1/runners/lease`, 'POST', { runner: 'r', maxJobs: 1 }, admin)).body.jobs;
    expect((await call(`${url}/v1/jobs/${job.id}/complete`, 'POST', { runner: 'r', seed: job.seed, value: 0.99 }, admin)).status).toBe(200);

    const s = await scrapeAs({ authorization: `Bearer ${reader}` });
    expect(listed(s) - listed(before)).toBe(3);
    expect(metricValue(s, 'ecv_http_request_duration_seconds_count', { method: 'GET', route: '/v1/projects', status: '200' })).toBe(listed(s));
    expect(metricValue(s, 'ecv_http_request_duration_seconds_bucket', { route: '/v1/projects', le: '+Inf', status: '200' })).toBe(listed(s));
    // Unmatched URLs share one label value: a scan cannot blow up the series count.
    expect(metricValue(s, 'ecv_http_requests_total', { route: 'unmatched', status: '404' })).toBe(1);
    expect(s.some((x) => x.labels.route?.includes('nothing'))).toBe(false);
    expect(metricValue(s, 'ecv_gate_decisions_total', { decision: 'reanchor' })).toBeGreaterThanOrEqual(1);
    expect(metricValue(s, 'ecv_ingest_rows_total', { path: 'json', outcome: 'created' })).toBe(2);
    expect(metricValue(s, 'ecv_ingest_rows_total', { path: 'tsv' })).toBeGreaterThanOrEqual(1);
    expect(metricValue(s, 'ecv_reproductions_total', { outcome: 'ok' })).toBe(1);
    expect(metricValue(s, 'ecv_jobs', { state: 'completed' })).toBe(1);
    expect(metricValue(s, 'ecv_jobs', { state: 'queued' })).toBe(metricValue(s, 'ecv_queue_depth'));
    expect(metricValue(s, 'ecv_queue_oldest_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(metricValue(s, 'ecv_db_queries_total')).toBeGreaterThan(metricValue(before, 'ecv_db_queries_total'));
    // Default process metrics (prom-client).
    expect(metricValue(s, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(s.some((x) => x.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
    if (engine === 'postgres') expect(metricValue(s, 'ecv_db_pool_connections', { state: 'max' })).toBe(db.handle.poolStats!().max);
    // No project names in labels (a scrape token must not learn other projects).
    expect(s.some((x) => Object.values(x.labels).includes('mx'))).toBe(false);
  });
});

describe('/metrics with ECV_METRICS_PUBLIC=1', () => {
  it('answers without a token', async () => {
    const db = await createTestDb('pglite');
    const app = await buildApp({ db: db.handle, config: loadConfig({ ECV_AUTH: 'on', ECV_ADMIN_TOKEN: ADMIN, ECV_METRICS_PUBLIC: '1' }) }, { swaggerUi: false, queue: false });
    try {
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      const res = await fetch(`${url}/metrics`);
      expect(res.status).toBe(200);
      expect(parseExposition(await res.text()).some((x) => x.name === 'ecv_http_requests_total' || x.name === 'process_resident_memory_bytes')).toBe(true);
      expect((await fetch(`${url}/v1/projects`)).status).toBe(401);
    } finally {
      await app.close();
      await db.drop();
    }
  });
});
