import { afterEach, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import { buildTestApp, projectBody, type TestApp } from '../helpers/app.js';
import { lockDecision } from '../../src/db/jobs.repository.js';
import { shareProjectKey } from '../../src/db/projects.repository.js';

describe.each(ENGINES)('re-anchoring scheduler and runner API on %s', (engine) => {
  // Each test gets its own app on its own database: a long lease for the happy path (no expiry
  // under a loaded CI machine), a 2 s one where leases are meant to expire.
  let t: TestApp;
  const start = async (leaseS: number) => {
    t = await buildTestApp(engine, { ECV_LEASE_S: String(leaseS), ECV_LEASE_RETRIES: '1', ECV_QUEUE_MAINTENANCE_S: '1' });
  };
  afterEach(async () => t?.close());

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

  /** σ known from the prior (sigma0 = 0.01, nu0 = 50), the base measured 4 times; the step is 2σ better: S is in between. */
  async function setup(name: string) {
    await post('/v1/projects', projectBody(name, { sigma0: 0.01, nu0: 50, reproduction: { command: 'python train.py', timeBudgetS: 60 } }));
    await post(`/v1/projects/${name}/experiments`, [
      { key: 'base', status: 'keep', value: 1.0, replicates: [1.005, 0.995, 1.0] },
      { key: 'step', status: 'keep', value: 0.98, premises: ['base'] },
    ]);
  }
  const readGate = (p: string, k: string) => get(`/v1/projects/${p}/experiments/${k}/gate`);

  it('queues one reproduction at a time, takes the next step as each lands, and stores completions once', async () => {
    await start(120);
    await setup('sch');
    const g1 = (await post('/v1/projects/sch/gate', { experiment: 'step' })).json();
    expect(g1.decision).toBe('reanchor');
    expect(g1.reanchor.jobs).toHaveLength(1);
    expect(g1.reanchor).toMatchObject({ used: 1, budget: 8 });
    expect(g1.bar).toBeCloseTo(g1.level === null ? NaN : (await get('/v1/projects/sch/bar')).bar, 12);
    const g2 = (await post('/v1/projects/sch/gate', { experiment: 'step' })).json();
    expect(g2.reanchor.jobs.map((j: { id: string }) => j.id)).toEqual(g1.reanchor.jobs.map((j: { id: string }) => j.id));

    const leased = (await post('/v1/runners/lease', { runner: 'r1', maxJobs: 5 })).json().jobs;
    expect(leased).toHaveLength(1);
    expect(leased[0]).toMatchObject({ project: 'sch', experiment: g1.reanchor.candidate, command: 'python train.py', metricPattern: '^val_bpb:\\s*(\\S+)', timeBudgetS: 60 });
    expect((await post('/v1/runners/lease', { runner: 'r2', maxJobs: 5 })).json().jobs).toEqual([]);
    expect((await post(`/v1/jobs/${leased[0].id}/heartbeat`, { runner: 'r1' })).statusCode).toBe(200);
    expect((await post(`/v1/jobs/${leased[0].id}/complete`, { runner: 'r2', seed: leased[0].seed, value: 0.98 })).statusCode).toBe(409);

    // Runs that confirm the step: each completion queues the next job itself, until a decision.
    const done: { id: string; experiment: string; seed: number }[] = [];
    let job = leased[0];
    for (let i = 0; i < 8 && job; i++) {
      const value = job.experiment === 'step' ? 0.98 : 1.0;
      const r = await post(`/v1/jobs/${job.id}/complete`, { runner: 'r1', seed: job.seed, value, durationS: 30 });
      expect(r.statusCode).toBe(200);
      expect(r.json()).toEqual({ duplicate: false, experiment: job.experiment, value, ok: true });
      done.push(job);
      job = (await post('/v1/runners/lease', { runner: 'r1', maxJobs: 5 })).json().jobs[0];
    }
    const final = await readGate('sch', 'step');
    expect(final.decision).toBe('accept');
    expect(final.reanchor.used).toBe(done.length);
    expect(new Set(done.map((j) => `${j.experiment}:${j.seed}`)).size).toBe(done.length);
    const dup = await post(`/v1/jobs/${done[0].id}/complete`, { runner: 'r1', seed: done[0].seed, value: 0.5 });
    expect(dup.json()).toEqual({ duplicate: true, experiment: done[0].experiment, value: done[0].experiment === 'step' ? 0.98 : 1.0, ok: true });
    const x = await get(`/v1/projects/sch/experiments/${done[0].experiment}`);
    expect(x.reproductions.map((r: { value: number }) => r.value)).not.toContain(0.5);
    // Decided: no more jobs; the loop's gate call records the accept and the bar moves to it.
    expect((await post('/v1/runners/lease', { runner: 'r1', maxJobs: 5 })).json().jobs).toEqual([]);
    const accepted = (await post('/v1/projects/sch/gate', { experiment: 'step' })).json();
    expect(accepted).toMatchObject({ decision: 'accept', head: 'step' });
    const bar = await get('/v1/projects/sch/bar');
    expect(bar.head).toBe('step');
    expect(bar.bar).toBeCloseTo(bar.level.mean - 1.5 * bar.sigma, 12);
    await expectCountsMatch('sch');
  });

  it('re-queues an expired lease and, past the retries, records a failed reproduction and goes on', async () => {
    await start(2);
    await setup('exp');
    const g = (await post('/v1/projects/exp/gate', { experiment: 'step' })).json();
    expect(g.reanchor.jobs).toHaveLength(1);
    const first = (await post('/v1/runners/lease', { runner: 'dies', maxJobs: 1 })).json().jobs;
    expect(first).toHaveLength(1);
    // The first runner vanishes: after its lease (2 s) the job is leased again (retry 1 of 1)…
    const again = (await post('/v1/runners/lease', { runner: 'dies-too', maxJobs: 1, wait: 20 })).json().jobs;
    expect(again.map((j: { id: string }) => j.id)).toEqual([first[0].id]);
    // …and that runner vanishes too: past the retries it becomes a failed reproduction.
    const late = await post(`/v1/jobs/${first[0].id}/complete`, { runner: 'dies', seed: first[0].seed, value: 0.9 });
    expect(late.statusCode).toBe(409);
    const deadline = Date.now() + 30_000;
    let reps: { ok: boolean; value: number | null }[] = [];
    while (Date.now() < deadline) {
      reps = (await get(`/v1/projects/exp/experiments/${first[0].experiment}`)).reproductions;
      if (reps.length === 1) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(reps).toEqual([expect.objectContaining({ ok: false, value: null })]);
    // A failed run says nothing about the level: the decision queues its next reproduction.
    const next = await readGate('exp', 'step');
    expect(next.decision).toBe('reanchor');
    expect(next.reanchor.used).toBe(2);
    expect(next.reanchor.jobs.filter((j: { state: string }) => j.state === 'queued')).toHaveLength(1);
    await expectCountsMatch('exp');
  });

  it('schedules a burst of first gates of one project, each seed once', async () => {
    await start(120);
    await post('/v1/projects', projectBody('burst', { sigma0: 0.01, nu0: 50, reproduction: { command: 'python train.py', timeBudgetS: 60 } }));
    const rows = [{ key: 'base', status: 'keep', value: 1.0, replicates: [1.005, 0.995, 1.0] }, ...Array.from({ length: 12 }, (_, i) => ({ key: `k${i}`, status: 'keep', value: i % 3 === 0 ? 0.975 : 1.06, premises: ['base'] }))];
    expect((await post('/v1/projects/burst/experiments', rows)).statusCode).toBe(201);
    const answers = await Promise.all(rows.slice(1).map((r) => post('/v1/projects/burst/gate', { experiment: r.key })));
    expect(answers.map((a) => a.statusCode)).toEqual(answers.map(() => 200));
    const decisions = answers.map((a) => a.json().decision);
    // A loop's proposals on one head: a few gains (2.5σ) among large regressions (6σ worse).
    expect(decisions, JSON.stringify(decisions)).toEqual(rows.slice(1).map((_, i) => (i % 3 === 0 ? 'reanchor' : 'reject')));
    for (const a of answers) expect(a.json().reanchor.jobs).toHaveLength(a.json().decision === 'reanchor' ? 1 : 0);
    const jobs = answers.flatMap((a) => a.json().reanchor.jobs as { experiment: string; seed: number }[]);
    expect(new Set(jobs.map((j) => `${j.experiment}:${j.seed}`)).size).toBe(jobs.length);
  });

  // PGlite is one connection (transactions run one at a time): the lock granularity shows on PostgreSQL.
  it.runIf(engine === 'postgres')('schedules one decision while another decision of the same project is in flight', async () => {
    await start(120);
    await post('/v1/projects', projectBody('par', { sigma0: 0.01, nu0: 50, reproduction: { command: 'python train.py', timeBudgetS: 60 } }));
    const rows = [
      { key: 'base', status: 'keep', value: 1.0, replicates: [1.005, 0.995, 1.0] },
      { key: 'a', status: 'keep', value: 0.975, premises: ['base'] },
      { key: 'b', status: 'keep', value: 0.975, premises: ['base'] },
    ];
    expect((await post('/v1/projects/par/experiments', rows)).statusCode).toBe(201);
    const db = t.app.deps.db.db;
    const ids = new Map((await db.selectFrom('experiments').select(['id', 'key']).execute()).map((r) => [r.key, r.id]));
    const projectId = (await db.selectFrom('projects').select('id').where('name', '=', 'par').executeTakeFirstOrThrow()).id;
    // What a scheduling gate of 'a' holds until it commits.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = db.transaction().execute(async (trx) => {
      await shareProjectKey(trx, projectId);
      await lockDecision(trx, ids.get('a')!);
      locked();
      await held;
    });
    await isLocked;
    try {
      const other = (await post('/v1/projects/par/gate', { experiment: 'b' })).json();
      expect(other.decision).toBe('reanchor');
      expect(other.reanchor.jobs).toHaveLength(1);
      // The same decision waits for the lock.
      let settled = false;
      const same = post('/v1/projects/par/gate', { experiment: 'a' }).then((r) => ((settled = true), r));
      await new Promise((r) => setTimeout(r, 500));
      expect(settled).toBe(false);
      release();
      await holder;
      const a = (await same).json();
      expect(a.decision).toBe('reanchor');
      expect(a.reanchor.jobs).toHaveLength(1);
    } finally {
      release();
      await holder;
    }
  });
});
