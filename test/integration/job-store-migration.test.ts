import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type DbHandle } from '../../src/db/connection.js';
import { migrate, readMigrations } from '../../src/db/migrator.js';
import { normalizeProject } from '../../src/domain/project.js';
import { ADMIN_URL, ENGINES } from '../helpers/db.js';
import { projectBody } from '../helpers/app.js';

/** An empty database (no migration applied) on the engine; `drop` removes it. */
async function emptyDb(engine: (typeof ENGINES)[number]): Promise<{ handle: DbHandle; drop(): Promise<void> }> {
  if (engine === 'pglite') {
    const handle = await openDatabase({ dataDir: 'memory://' });
    return { handle, drop: () => handle.close() };
  }
  const name = `ecv_m_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = async (text: string) => {
    const c = new pg.Client({ connectionString: ADMIN_URL });
    await c.connect();
    await c.query(text).finally(() => c.end());
  };
  await admin(`CREATE DATABASE ${name}`);
  const handle = await openDatabase({ databaseUrl: ADMIN_URL.replace(/\/[^/]*$/, `/${name}`), poolSize: 3 });
  return {
    handle,
    async drop() {
      await handle.close().catch(() => undefined);
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/**
 * sql/0008 (issue 18.1) on a database written by the pg-boss version: jobs waiting or leased
 * there are served from the one job store afterwards, and pending reviews are queued again.
 */
describe.each(ENGINES)('job store migration on %s', (engine) => {
  let db: { handle: DbHandle; drop(): Promise<void> } | undefined;
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    await db?.drop();
  });

  it('keeps queued jobs queued, puts a leased one back after its lease, and re-queues pending reviews', async () => {
    db = await emptyDb(engine);
    const h = db.handle;
    await migrate(h, readMigrations().filter((m) => m.version < '0008'));
    // Rows as the previous version left them (columns of 0001–0006 only).
    const cfg = normalizeProject({ ...projectBody('old'), reproduction: { command: './train.sh {seed}', timeBudgetS: 60 } } as never);
    const p = (await h.executeSql(`INSERT INTO projects (name, config) VALUES ('old', $1::jsonb) RETURNING id`, [JSON.stringify(cfg)])).rows[0] as { id: number };
    const exp = async (key: string, seq: number, review: string | null) =>
      ((await h.executeSql(`INSERT INTO experiments (project_id, key, seq, status, content_hash, review) VALUES ($1, $2, $3, 'keep', $2, $4::jsonb) RETURNING id`, [p.id, key, seq, review])).rows[0] as { id: number }).id;
    const a = await exp('aaa1111', 0, null);
    const b = await exp('bbb2222', 1, JSON.stringify({ status: 'pending', model: 'm' }));
    const queued = randomUUID();
    const leased = randomUUID();
    const job = (id: string, experimentId: number, state: string, priority: number) =>
      h.executeSql(`INSERT INTO jobs (id, project_id, experiment_id, seed, priority, state, runner, attempts, time_budget_s, gated_experiment_id, purpose) VALUES ($1, $2, $3, 1, $4, $5, $6, $7, 60, $3, 'anchor')`, [id, p.id, experimentId, priority, state, state === 'active' ? 'gone' : null, state === 'active' ? 1 : 0]);
    await job(queued, a, 'queued', 5);
    await job(leased, b, 'active', 1);

    await migrate(h);
    const reviews = (await h.executeSql(`SELECT experiment_id, state FROM review_jobs`)).rows;
    expect(reviews).toEqual([{ experiment_id: b, state: 'queued' }]);

    const config = loadConfig({ ECV_AUTH: 'off', ECV_LEASE_S: '2', ECV_LEASE_RETRIES: '2', ECV_QUEUE_MAINTENANCE_S: '1' });
    app = await buildApp({ db: h, config }, { swaggerUi: false });
    const lease = async (wait: number) => (await app!.inject({ method: 'POST', url: '/v1/runners/lease', payload: { runner: 'new', maxJobs: 5, wait } })).json().jobs as { id: string; experiment: string; seed: number; command: string }[];
    const first = await lease(0);
    expect(first).toEqual([expect.objectContaining({ id: queued, experiment: 'aaa1111', seed: 1, command: './train.sh {seed}' })]);
    // The job the old version had leased comes back once its lease has expired (the sweep).
    const again = await lease(20);
    expect(again.map((j) => j.id)).toEqual([leased]);
    const row = (await h.executeSql(`SELECT state, runner, attempts FROM jobs WHERE id = $1`, [leased])).rows[0];
    expect(row).toEqual({ state: 'active', runner: 'new', attempts: 2 });
  }, 60_000);
});
