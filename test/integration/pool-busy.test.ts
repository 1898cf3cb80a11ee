import { afterAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type DbHandle } from '../../src/db/connection.js';
import { ENGINES, createPgDatabase } from '../helpers/db.js';

/**
 * Issue 17: with every pooled connection busy the database is healthy, and the answer must say
 * so (503, "pool … busy", Retry-After) rather than "the database is unavailable", which stays the
 * answer when the database cannot be reached.
 */
describe.skipIf(!ENGINES.includes('postgres'))('a busy pool versus a database that is down', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const f of cleanup.reverse()) await f().catch(() => undefined);
  });

  async function serve(handle: DbHandle): Promise<string> {
    const app: FastifyInstance = await buildApp({ db: handle, config: loadConfig({ ECV_AUTH: 'off' }) }, { queue: false, swaggerUi: false });
    cleanup.push(() => app.close());
    return app.listen({ port: 0, host: '127.0.0.1' });
  }

  it('answers 503 "pool busy" with Retry-After while every connection is held, and serves again after', async () => {
    const pgdb = await createPgDatabase();
    cleanup.push(() => pgdb.drop());
    const handle = await openDatabase({ databaseUrl: pgdb.url, poolSize: 2, poolTimeoutMs: 300 });
    cleanup.push(() => handle.close());
    const url = await serve(handle);
    expect((await fetch(`${url}/v1/projects`)).status).toBe(200);

    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let holding = 0;
    const holders = [0, 1].map(() =>
      handle.db.connection().execute(async () => {
        holding++;
        await held;
      }),
    );
    while (holding < 2) await new Promise((r) => setTimeout(r, 10));

    const res = await fetch(`${url}/v1/projects`);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = await res.json();
    expect(body.detail).toMatch(/busy/);
    expect(body.detail).not.toMatch(/unavailable/);
    expect(handle.poolStats!()).toMatchObject({ max: 2, total: 2, idle: 0 });

    release();
    await Promise.all(holders);
    expect((await fetch(`${url}/v1/projects`)).status).toBe(200);
  });

  it('still answers "the database is unavailable" when it cannot be reached', async () => {
    const handle = await openDatabase({ databaseUrl: 'postgres://root@127.0.0.1:1/none', poolSize: 2, poolTimeoutMs: 300 });
    cleanup.push(() => handle.close());
    const url = await serve(handle);
    const res = await fetch(`${url}/v1/projects`);
    expect(res.status).toBe(503);
    expect((await res.json()).detail).toMatch(/database is unavailable/);
  });
});
