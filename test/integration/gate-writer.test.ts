import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { GateDecisionWriter } from '../../src/db/gate-writer.js';
import type { GateDecisionRow } from '../../src/db/gates.repository.js';
import { findProject } from '../../src/db/projects.repository.js';
import { DomainError } from '../../src/domain/errors.js';
import { ENGINES } from '../helpers/db.js';
import { buildTestApp, projectBody, type TestApp } from '../helpers/app.js';

/** Group commit of gate decisions (issue 19): every call recorded once, answered after its commit. */
describe.each(ENGINES)('gate decision writer on %s', (engine) => {
  let t: TestApp;
  let projectId: number;
  const env = { ECV_RATE_LIMIT: '1000000' };
  beforeAll(async () => {
    t = await buildTestApp(engine, env);
    await t.app.inject({ method: 'POST', url: '/v1/projects', payload: projectBody('gw', { sigma0: 0.01, nu0: 50 }) });
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/projects/gw/experiments',
      payload: [
        { key: 'g0', status: 'keep', value: 1.0, replicates: [1.005, 0.995, 1.0] },
        { key: 'big', status: 'keep', value: 0.94, premises: ['g0'] },
        ...[1, 2, 3, 4].map((i) => ({ key: `d${i}`, status: 'discard', value: 1.02 + i / 100, premises: ['g0'] })),
      ],
    });
    expect(res.statusCode, res.body).toBe(201);
    projectId = (await findProject(t.db.handle.db, 'gw'))!.id;
  });
  afterAll(async () => t?.close());

  const db = () => t.db.handle.db;
  const rowsOf = (marker: string) =>
    db().selectFrom('gate_decisions').selectAll().where('caller', '=', marker).orderBy('id').execute();
  const row = (marker: string, i: number, projectIdOf = projectId): GateDecisionRow => ({
    projectId: projectIdOf,
    experiment: `k${i}`,
    caller: marker,
    inputs: { experiment: `k${i}`, i },
    decision: 'accept',
    answer: { decision: 'accept', i },
  });

  it('records every one of many concurrent gate calls exactly once, with its inputs, visible when it is answered', async () => {
    const keys = ['big', 'g0', 'd1', 'd2', 'd3', 'd4'];
    const n = 120;
    // A distinct threshold per call tells the calls' rows apart (auth is off: every caller may set it).
    const threshold = (i: number) => Math.round((0.1 + i * 0.004) * 1000) / 1000;
    const before = t.app.deps.gateWriter!.stats.rows;
    const calls = Array.from({ length: n }, async (_, i) => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/projects/gw/gate',
        payload: { experiment: keys[i % keys.length], threshold: threshold(i) },
      });
      // Answered: the row must be committed already (read through another statement).
      const stored = await db()
        .selectFrom('gate_decisions')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('threshold', '=', threshold(i))
        .execute();
      return { i, res, stored };
    });
    const done = await Promise.all(calls);
    for (const { i, res, stored } of done) {
      expect(res.statusCode, res.body).toBe(200);
      expect(stored).toHaveLength(1);
      const answer = res.json() as Record<string, unknown> & { thresholdSource: string };
      const { thresholdSource, ...recorded } = answer;
      expect(stored[0]).toMatchObject({
        experiment_key: keys[i % keys.length],
        caller: 'anonymous',
        decision: answer.decision,
        threshold_source: thresholdSource,
      });
      expect(stored[0].inputs).toEqual({ experiment: keys[i % keys.length], threshold: threshold(i), thresholdSource });
      expect(stored[0].answer).toEqual(recorded);
    }
    const all = await db().selectFrom('gate_decisions').select(['threshold']).where('project_id', '=', projectId).execute();
    expect(all).toHaveLength(n);
    expect(new Set(all.map((r) => Number(r.threshold))).size).toBe(n);
    expect(t.app.deps.gateWriter!.stats.rows - before).toBe(n);
    // The answers span the paths: accept, reject (hard gate), with and without a premise.
    expect(new Set(done.map((d) => (d.res.json() as { decision: string }).decision))).toEqual(
      new Set(['accept', 'reject']),
    );
  });

  it('sends what arrived together as one INSERT, at most maxBatch rows each, in arrival order', async () => {
    const w = new GateDecisionWriter(db(), { maxBatch: 10 });
    await Promise.all(Array.from({ length: 25 }, (_, i) => w.record(row('batch', i))));
    expect(w.stats).toMatchObject({ batches: 3, rows: 25, largestBatch: 10, failedBatches: 0 });
    const stored = await rowsOf('batch');
    expect(stored.map((r) => r.experiment_key)).toEqual(Array.from({ length: 25 }, (_, i) => `k${i}`));
    expect(stored.map((r) => r.inputs.i)).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });

  it('close resolves only once every row handed over is committed', async () => {
    // Three INSERTs in flight at once: close waits for all of them.
    const w = new GateDecisionWriter(db(), { maxBatch: 7, maxInFlight: 3 });
    const settled: boolean[] = [];
    const calls = Array.from({ length: 30 }, (_, i) => w.record(row('close', i)).then(() => void (settled[i] = true)));
    await w.close();
    expect(settled.filter(Boolean)).toHaveLength(30);
    expect(w.pending).toBe(0);
    expect(await rowsOf('close')).toHaveLength(30);
    await Promise.all(calls);
  });

  it('app close drains the app writer before the caller closes the database', async () => {
    const other = await buildTestApp(engine, env);
    try {
      await other.app.inject({ method: 'POST', url: '/v1/projects', payload: projectBody('gw2') });
      const id = (await findProject(other.db.handle.db, 'gw2'))!.id;
      const writer = other.app.deps.gateWriter!;
      const calls = Array.from({ length: 40 }, (_, i) => writer.record(row('app-close', i, id)));
      await other.app.close();
      const stored = await other.db.handle.db.selectFrom('gate_decisions').select('id').where('caller', '=', 'app-close').execute();
      expect(stored).toHaveLength(40);
      await Promise.all(calls);
    } finally {
      await other.db.drop();
    }
  });

  it('a failing INSERT fails every call of its batch with a 503, stores none of it, and the writer goes on', async () => {
    const failures: number[] = [];
    const w = new GateDecisionWriter(db(), { onError: (_err, calls) => failures.push(calls) });
    // One row of the batch names no project (foreign key): the statement, and so the batch, fails.
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => w.record(row('fail', i, i === 5 ? 2_000_000_000 : projectId))),
    );
    expect(failures).toEqual([12]);
    for (const o of outcomes) {
      expect(o.status).toBe('rejected');
      const err = (o as PromiseRejectedResult).reason as unknown;
      expect(err instanceof DomainError && err.code).toBe('unavailable');
    }
    expect(await rowsOf('fail')).toHaveLength(0);
    await w.record(row('fail-after', 0));
    expect(await rowsOf('fail-after')).toHaveLength(1);
  });

  it('gate calls whose decisions cannot be recorded answer 503 problem+json, and recover', async () => {
    const count = async () =>
      (await db().selectFrom('gate_decisions').select('id').where('project_id', '=', projectId).execute()).length;
    const before = await count();
    // A real failure of the real INSERT: the table refuses every new row until the check is dropped.
    await sql`ALTER TABLE gate_decisions ADD CONSTRAINT test_refuse_writes CHECK (false) NOT VALID`.execute(db());
    try {
      const answers = await Promise.all(
        ['big', 'd1', 'g0', 'd2', 'big', 'd3'].map((k) =>
          t.app.inject({ method: 'POST', url: '/v1/projects/gw/gate', payload: { experiment: k } }),
        ),
      );
      for (const res of answers) {
        expect(res.statusCode, res.body).toBe(503);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.headers['retry-after']).toBe('1');
        expect(res.json()).toMatchObject({ status: 503, code: 'unavailable' });
      }
      expect(await count()).toBe(before);
    } finally {
      await sql`ALTER TABLE gate_decisions DROP CONSTRAINT test_refuse_writes`.execute(db());
    }
    const again = await t.app.inject({ method: 'POST', url: '/v1/projects/gw/gate', payload: { experiment: 'd1' } });
    expect(again.statusCode, again.body).toBe(200);
    expect(await count()).toBe(before + 1);
  });
});
