import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ENGINES, createTestDb, type TestDb } from '../helpers/db.js';
import { call, reanchoringProject } from '../helpers/http.js';
import { projectBody } from '../helpers/app.js';

const ADMIN = 'ecv_admin_secret_for_the_completion_test_00';

/**
 * Issue 17: only the lease holder may complete a job, replays included. A runner token of another
 * project gets 403, another runner (or token) of the same project 409 — also a dead runner that
 * reports after another runner finished the job (docs/operations.md). A replay by the holder is
 * answered `duplicate: true`, naming the experiment by its key.
 */
describe.each(ENGINES)('job completion on %s', (engine) => {
  let db: TestDb;
  let app: FastifyInstance;
  let url: string;
  const tokens: Record<string, string> = {};
  const as = (who: string) => ({ authorization: `Bearer ${who === 'admin' ? ADMIN : tokens[who]}` });
  const post = (who: string, path: string, body: unknown) => call(`${url}${path}`, 'POST', body, as(who));

  beforeAll(async () => {
    db = await createTestDb(engine);
    const config = loadConfig({ ECV_AUTH: 'on', ECV_ADMIN_TOKEN: ADMIN, ECV_LEASE_S: '2', ECV_LEASE_RETRIES: '2', ECV_QUEUE_MAINTENANCE_S: '1' });
    app = await buildApp({ db: db.handle, config }, { swaggerUi: false });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    await reanchoringProject(url, 'own', as('admin'));
    expect((await post('admin', '/v1/projects', projectBody('other'))).status).toBe(201);
    for (const [name, project] of [['a', 'own'], ['b', 'own'], ['o', 'other']]) {
      const r = await post('admin', '/v1/tokens', { role: 'runner', projects: [project], label: `runner ${name}` });
      expect(r.status).toBe(201);
      tokens[name] = r.body.token;
    }
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('answers the holder’s replay as a duplicate by key, and refuses everyone else’s', async () => {
    const [job] = (await post('a', '/v1/runners/lease', { runner: 'ra', maxJobs: 1 })).body.jobs;
    const report = { runner: 'ra', seed: job.seed, value: 0.99 };
    const first = await post('a', `/v1/jobs/${job.id}/complete`, report);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ duplicate: false, experiment: job.experiment, value: 0.99, ok: true });

    const replay = await post('a', `/v1/jobs/${job.id}/complete`, report);
    expect(replay.status).toBe(200);
    // The whole answer: the experiment by its key (never its internal id), the stored value.
    expect(replay.body).toEqual({ duplicate: true, experiment: job.experiment, value: 0.99, ok: true });
    expect(['base', 'step']).toContain(replay.body.experiment);

    const foreign = await post('o', `/v1/jobs/${job.id}/complete`, { ...report, runner: 'ro' });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const sameRunnerName = await post('o', `/v1/jobs/${job.id}/complete`, report);
    expect(sameRunnerName.status).toBe(403);

    const otherToken = await post('b', `/v1/jobs/${job.id}/complete`, report);
    expect(otherToken.status).toBe(409);
    expect(otherToken.body).toMatchObject({ code: 'conflict' });
    const otherRunner = await post('a', `/v1/jobs/${job.id}/complete`, { ...report, runner: 'ra-2', value: 0.5 });
    expect(otherRunner.status).toBe(409);
    expect(otherRunner.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('answers 409 to a dead runner reporting after another runner finished the job', async () => {
    const [job] = (await post('a', '/v1/runners/lease', { runner: 'dead', maxJobs: 1 })).body.jobs;
    expect(job).toBeDefined();
    // The lease (2 s) expires; another runner leases the same job and finishes it.
    const again = (await post('b', '/v1/runners/lease', { runner: 'rb', maxJobs: 1, wait: 30 })).body.jobs;
    expect(again.map((j: { id: string }) => j.id)).toEqual([job.id]);
    expect((await post('b', `/v1/jobs/${job.id}/complete`, { runner: 'rb', seed: job.seed, value: 0.98 })).status).toBe(200);
    const late = await post('a', `/v1/jobs/${job.id}/complete`, { runner: 'dead', seed: job.seed, value: 0.5 });
    expect(late.status).toBe(409);
    expect(late.body.detail).toMatch(/already completed by runner 'rb'/);
    const stored = await call(`${url}/v1/projects/own/experiments/${job.experiment}`, 'GET', undefined, as('admin'));
    expect(stored.body.reproductions.map((r: { value: number | null }) => r.value)).not.toContain(0.5);
  });
});
