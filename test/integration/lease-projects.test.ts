import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import { buildTestApp, projectBody, type TestApp } from '../helpers/app.js';

describe.each(ENGINES)('a runner limited to projects (lease `projects`) on %s', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(engine, { ECV_LEASE_S: '120' });
  });
  afterAll(async () => t?.close());
  const post = (url: string, payload: unknown) => t.app.inject({ method: 'POST', url, payload: payload as object });

  it('leases only the named projects’ jobs, and nothing for a project without jobs', async () => {
    for (const p of ['lp-a', 'lp-b']) {
      await post('/v1/projects', projectBody(p, { reproduction: { command: 'python train.py', timeBudgetS: 60 } }));
      await post(`/v1/projects/${p}/experiments`, [
        { key: 'base', status: 'keep', value: 1.0 },
        { key: 'step', status: 'keep', value: 0.99, premises: ['base'] },
      ]);
      const g = (await post(`/v1/projects/${p}/gate`, { experiment: 'step', threshold: 0.999 })).json();
      expect(g.decision).toBe('reanchor');
      expect(g.reanchor.jobs.length).toBeGreaterThan(0);
    }
    expect((await post('/v1/runners/lease', { runner: 'r0', maxJobs: 10, projects: ['nope'] })).json().jobs).toEqual([]);
    const b = (await post('/v1/runners/lease', { runner: 'r1', maxJobs: 10, projects: ['lp-b'] })).json().jobs;
    expect(b.length).toBeGreaterThan(0);
    expect(new Set(b.map((j: { project: string }) => j.project))).toEqual(new Set(['lp-b']));
    const a = (await post('/v1/runners/lease', { runner: 'r2', maxJobs: 10 })).json().jobs;
    expect(new Set(a.map((j: { project: string }) => j.project))).toEqual(new Set(['lp-a']));
    const bad = await post('/v1/runners/lease', { runner: 'r3', projects: ['Not A Name'] });
    expect(bad.statusCode).toBe(400);
  });
});
