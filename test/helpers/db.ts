import { inject } from 'vitest';
import pg from 'pg';
import { openDatabase, type DbHandle, type Engine } from '../../src/db/connection.js';
import { migrate } from '../../src/db/migrator.js';

export const ADMIN_URL = process.env.ECV_TEST_PG_URL ?? 'postgres://root@127.0.0.1:5432/postgres';

/** Engines the suite runs on (ECV_TEST_ENGINES narrows it, e.g. `pglite`). */
export const ENGINES = (process.env.ECV_TEST_ENGINES ?? 'pglite,postgres').split(',').filter(Boolean) as Engine[];

export interface TestDb {
  handle: DbHandle;
  /** PostgreSQL URL of the database (postgres engine only). */
  url?: string;
  drop(): Promise<void>;
}

async function adminQuery(text: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

/** A fresh PostgreSQL database cloned from the migrated template; dropped by `drop()`. */
export async function createPgDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const template = inject('pgTemplate');
  if (!template) throw new Error('postgres engine not enabled for this run');
  const name = `ecv_t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  for (let attempt = 0; ; attempt++) {
    try {
      await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${template}`);
      break;
    } catch (e) {
      // Concurrent clones of one template can collide briefly; retry.
      if (attempt >= 20) throw e;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 300));
    }
  }
  const url = ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  return { name, url, drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** An isolated, migrated database on the given engine. */
export async function createTestDb(engine: Engine): Promise<TestDb> {
  if (engine === 'pglite') {
    const handle = await openDatabase({ dataDir: 'memory://' });
    await migrate(handle);
    return { handle, drop: () => handle.close() };
  }
  const pgdb = await createPgDatabase();
  const handle = await openDatabase({ databaseUrl: pgdb.url, poolSize: 5 });
  return {
    handle,
    url: pgdb.url,
    async drop() {
      await handle.close().catch(() => undefined);
      await pgdb.drop();
    },
  };
}
