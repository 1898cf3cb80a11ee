import pg from 'pg';
import { openDatabase, type DbHandle, type Engine } from '../../src/db/connection.js';
import { migrate } from '../../src/db/migrator.js';

/** Server to create bench databases on (ECV_BENCH_PG_URL; the test suite's default otherwise). */
export const ADMIN_URL =
  process.env.ECV_BENCH_PG_URL ??
  process.env.ECV_TEST_PG_URL ??
  'postgres://root@127.0.0.1:5432/postgres';

export interface BenchDb {
  handle: DbHandle;
  engine: Engine;
  /** Database name and connection URL on PostgreSQL. */
  name?: string;
  url?: string;
  drop(): Promise<void>;
}

async function admin(text: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

/** Whether the PostgreSQL server answers. */
export async function postgresAvailable(): Promise<boolean> {
  try {
    await admin('SELECT 1');
    return true;
  } catch {
    return false;
  }
}

/**
 * A fresh, migrated database of its own: on PostgreSQL a new database (dropped by `drop()`),
 * on PGlite an in-memory instance. Never the test suite's template or anyone's data.
 */
export async function createBenchDb(
  engine: Engine,
  poolSize = 10,
  opts: { jit?: boolean } = {},
): Promise<BenchDb> {
  if (engine === 'pglite') {
    const handle = await openDatabase({ dataDir: 'memory://' });
    await migrate(handle);
    return { handle, engine, drop: () => handle.close() };
  }
  const name = `ecv_bench_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  await admin(`CREATE DATABASE ${name}`);
  // PostgreSQL's JIT compiles the cascade's recursive queries on every call (their estimated cost
  // is above jit_above_cost); see docs/benchmarks.md, Findings. Off unless asked for (`--jit`).
  if (!(opts.jit ?? process.env.ECV_BENCH_JIT === 'on'))
    await admin(`ALTER DATABASE ${name} SET jit = off`);
  const url = ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  const handle = await openDatabase({ databaseUrl: url, poolSize });
  await migrate(handle);
  return {
    handle,
    engine,
    name,
    url,
    async drop() {
      await handle.close().catch(() => undefined);
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/**
 * VACUUM ANALYZE after a bulk load: the state autovacuum reaches within a minute or so on a
 * server. Right after a load, visibility maps are empty and statistics missing, and per-write
 * counts scan the heap (docs/benchmarks.md, Findings). PostgreSQL only.
 */
export async function settle(db: BenchDb): Promise<number> {
  if (db.engine !== 'postgres') return 0;
  const t = Date.now();
  await db.handle.executeSql('VACUUM ANALYZE');
  return (Date.now() - t) / 1000;
}
