import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import { buildTestApp, projectBody, type TestApp } from '../helpers/app.js';
import { queueFor } from '../../src/queue/boss.js';

describe.each(ENGINES)('re-anchoring scheduler and runner API on %s', (engine) => {
  let t: TestApp;
  // A long lease for the happy path (no expiry under a loaded CI machine); a 2 s one for expiry.
  let slow: TestApp;
  let fast: TestApp;
  beforeAll(async () => {
    [slow, fast] = await Promise.all([
      buildTestApp(engine, { ECV_LEASE_S: '120', ECV_LEASE_RETRIES: '1', ECV_QUEUE_MAINTENANCE_S: '1' }),
      buildTestApp(engine, { ECV_LEASE_S: '2', ECV_LEASE_RETRIES: '1', ECV_QUEUE_MAINTENANCE_S: '1' }),
    ]);
    t = slow;
  });
  afterAll(async () => Promise.all([slow?.close(), fast?.close()]));

  const post = (url: string, payload: unknown) => t.app.inject({ method: 'POST', url, payload: payload as object });
  const get = async (url: string) => (await t.app.inject({ method: 'GET', url })).json();

  /** The project row's counters (what statistics refreshes are timed by) match the tables. */
  async function expectCountsMatch(name: string) {
    const db = t.app.deps.db.db;
    const p = await db.selectFrom('projects').select(['id', 'next_seq', 'reproduction_count']).where('name', '=', name).executeTakeFirstOrThrow();
    const count = async (table: 'experiments' | 'reproductions') =>
      Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('project_id', '=', p.id).executeTakeFirstOrThrow()).n);
    expect({ experiments: p.next_seq, reproductions: p.reproduction_count }).toEqual({ experiments: await count('experiments'), reproductions: await count('reproductions') });
  }

  async function setup(name: string) {
    await post('/v1/projects', projectBody(name, { reproduction: { command: 'python train.py', replicates: 3, timeBudgetS: 60 } }));
    await post(`/v1/projects/${name}/experiments`, [
      { key: 'base', status: 'keep', value: 1.0 },
      { key: 'step', status: 'keep', value: 0.99, premises: ['base'] },
    ]);
  }

  it('schedules one round per candidate, never the same seed twice, and stores completions once', async () => {
    await setup('sch');
    const g1 = (await post('/v1/projects/sch/gate', { experiment: 'step', threshold: 0.99 })).json();
    expect(g1.decision).toBe('reanchor');
    expect(g1.reanchor.jobs).toHaveLength(3);
    expect(new Set(g1.reanchor.jobs.map((j: { seed: number }) => j.seed)).size).toBe(3);
    const g2 = (await post('/v1/projects/sch/gate', { experiment: 'step', threshold: 0.99 })).json();
    expect(g2.reanchor.jobs.map((j: { id: string }) => j.id).sort()).toEqual(g1.reanchor.jobs.map((j: { id: string }) => j.id).sort());

    const leased = (await post('/v1/runners/lease', { runner: 'r1', maxJobs: 5 })).json().jobs;
    expect(leased).toHaveLength(3);
    expect(leased[0]).toMatchObject({ project: 'sch', experiment: g1.reanchor.candidate, command: 'python train.py', metricPattern: '^val_bpb:\\s*(\\S+)', timeBudgetS: 60 });
    expect((await post('/v1/runners/lease', { runner: 'r2', maxJobs: 5 })).json().jobs).toEqual([]);

    const hb = await post(`/v1/jobs/${leased[0].id}/heartbeat`, { runner: 'r1' });
    expect(hb.statusCode).toBe(200);
    const stranger = await post(`/v1/jobs/${leased[0].id}/complete`, { runner: 'r2', seed: leased[0].seed, value: 0.98 });
    expect(stranger.statusCode).toBe(409);

    for (const j of leased) {
      const r = await post(`/v1/jobs/${j.id}/complete`, { runner: 'r1', seed: j.seed, value: 0.99 - 0.001 * j.seed, durationS: 30 });
      expect(r.statusCode).toBe(200);
      expect(r.json().duplicate).toBe(false);
    }
    const dup = await post(`/v1/jobs/${leased[0].id}/complete`, { runner: 'r1', seed: leased[0].seed, value: 0.5 });
    expect(dup.json().duplicate).toBe(true);
    const x = await get(`/v1/projects/sch/experiments/${g1.reanchor.candidate}`);
    expect(x.reproductions).toHaveLength(3);
    expect(x.reproductions.map((r: { value: number }) => r.value)).not.toContain(0.5);
    expect(x.confidence.reproductions).toEqual({ finished: 3, successes: expect.any(Number) });
    // One round per experiment: 'step' is never scheduled again (read-only check schedules nothing).
    const g3 = await get('/v1/projects/sch/experiments/step/gate?threshold=0.999');
    if (g3.decision === 'reanchor') expect(g3.reanchor.candidate).not.toBe(g1.reanchor.candidate);
    else expect(g3.reasons.map((r: { code: string }) => r.code)).toContain('reanchor_exhausted');
    await expectCountsMatch('sch');
  });

  it('re-queues an expired lease and, past the retries, records a failed reproduction', async () => {
    t = fast;
    await setup('exp');
    const g = (await post('/v1/projects/exp/gate', { experiment: 'step', threshold: 0.99 })).json();
    expect(g.reanchor.jobs).toHaveLength(3);
    const first = (await post('/v1/runners/lease', { runner: 'dies', maxJobs: 1 })).json().jobs;
    expect(first).toHaveLength(1);
    const others = (await post('/v1/runners/lease', { runner: 'steady', maxJobs: 2 })).json().jobs;
    expect(others).toHaveLength(2);
    for (const j of others) await post(`/v1/jobs/${j.id}/complete`, { runner: 'steady', seed: j.seed, value: 0.99 });
    // The first runner vanishes: after its lease (2 s) the job is leased again (retry 1 of 1)…
    const again = (await post('/v1/runners/lease', { runner: 'dies-too', maxJobs: 1, wait: 20 })).json().jobs;
    expect(again.map((j: { id: string }) => j.id)).toEqual([first[0].id]);
    // …and that runner vanishes too: past the retries it becomes a failed reproduction.
    const late = await post(`/v1/jobs/${first[0].id}/complete`, { runner: 'dies', seed: first[0].seed, value: 0.9 });
    expect(late.statusCode).toBe(409);
    const deadline = Date.now() + 30_000;
    let reps: { ok: boolean; value: number | null }[] = [];
    while (Date.now() < deadline) {
      reps = (await get(`/v1/projects/exp/experiments/${g.reanchor.candidate}`)).reproductions;
      if (reps.length === 3) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(reps).toHaveLength(3);
    expect(reps.filter((r) => !r.ok)).toHaveLength(1);
    await expectCountsMatch('exp');
  });

  it('makes the queue with the project, so that a burst of first gates all schedule', async () => {
    await post('/v1/projects', projectBody('burst', { reproduction: { command: 'python train.py', replicates: 1, timeBudgetS: 60 } }));
    const id = (await t.app.deps.db.db.selectFrom('projects').select('id').where('name', '=', 'burst').executeTakeFirstOrThrow()).id;
    expect(await t.app.deps.queue!.getQueue(queueFor(id))).not.toBeNull();
    const rows = [{ key: 'base', status: 'keep', value: 1.0 }, ...Array.from({ length: 12 }, (_, i) => ({ key: `k${i}`, status: 'keep', value: 0.99, premises: ['base'] }))];
    expect((await post('/v1/projects/burst/experiments', rows)).statusCode).toBe(201);
    const answers = await Promise.all(rows.slice(1).map((r) => post('/v1/projects/burst/gate', { experiment: r.key, threshold: 0.99 })));
    expect(answers.map((a) => a.statusCode)).toEqual(answers.map(() => 200));
    expect(answers.every((a) => a.json().decision === 'reanchor')).toBe(true);
  });
});
