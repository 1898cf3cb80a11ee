import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { Mutex, pgliteDialect } from './pglite-dialect.js';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import { listenPostgres, type Listener } from './pg-listen.js';

export type Engine = 'pglite' | 'postgres';

/** An open database, on either engine, with what the migrator and tools need beside Kysely. */
export interface DbHandle {
  engine: Engine;
  db: Kysely<Database>;
  /** Runs a multi-statement script with no parameters, in one transaction. */
  runScript(text: string): Promise<void>;
  /** One statement, optionally parameterised, outside any transaction. */
  executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  /**
   * A hot, fixed statement under a name: on PostgreSQL prepared once per pooled connection, so
   * it is not planned again on every call (a join of several tables costs more to plan than to
   * run); on PGlite run as is. Counted in `stats.queries`. Same text for a name, always.
   */
  prepared(name: string, text: string, values: unknown[]): Promise<{ rows: unknown[] }>;
  /** Throws when the database cannot answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** The lock on the PGlite data directory this process holds (none for memory:// and PostgreSQL). */
  dataDirLock?: DataDirLock;
  /** Runs fn holding the engine's migration lock (advisory lock on PostgreSQL). */
  withMigrationLock<T>(fn: (exec: (text: string, values?: unknown[]) => Promise<{ rows: unknown[] }>) => Promise<T>): Promise<T>;
  /** Statements run through Kysely since the handle opened (metrics; tests of long polls). */
  readonly stats: { queries: number };
  /** Connections of the pool (PostgreSQL only). */
  poolStats?(): PoolStats;
  /**
   * Cross-process notifications (PostgreSQL LISTEN/NOTIFY; absent on PGlite, which one process
   * owns). `onMessage` gets each payload; `onState` whether the listening connection is up.
   */
  listen?(channel: string, onMessage: (payload: string) => void, onState: (up: boolean) => void): Promise<Listener>;
}

export interface PoolStats {
  max: number;
  total: number;
  idle: number;
  /** Requests waiting for a connection. */
  waiting: number;
}

export type { Listener };

export interface OpenOptions {
  databaseUrl?: string;
  /** PGlite data directory, or 'memory://' for an in-memory database. */
  dataDir?: string;
  poolSize?: number;
  /** How long a request waits for a free connection before it fails with "pool busy", ms. */
  poolTimeoutMs?: number;
  onPoolError?: (err: Error) => void;
}

const MIGRATION_LOCK_ID = 7_262_001;
export const DEFAULT_POOL_SIZE = 20;
export const DEFAULT_POOL_TIMEOUT_MS = 10_000;

// int8 (count(*), sums) as JS numbers: ECV's counts stay far below 2^53.
pg.types.setTypeParser(20, (v: string) => Number(v));

/** Opens PostgreSQL when a URL is given, else PGlite under dataDir. */
export async function openDatabase(opts: OpenOptions): Promise<DbHandle> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl, opts) : openPGlite(opts.dataDir ?? 'memory://');
}

async function openPostgres(url: string, opts: OpenOptions): Promise<DbHandle> {
  // JIT compiles the recursive cascade queries on every call (p50 20 ms vs 2.5 ms): off for ECV's sessions.
  const max = opts.poolSize ?? DEFAULT_POOL_SIZE;
  // connectionTimeoutMillis bounds both a checkout from a full pool ("timeout exceeded when
  // trying to connect": pool busy) and a new connection's handshake (database unreachable).
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: opts.poolTimeoutMs ?? DEFAULT_POOL_TIMEOUT_MS, options: '-c jit=off' });
  // A client losing its connection (database restart) must not crash the process. The pool
  // listens on idle clients only; a checked-out client between two queries of a transaction
  // emits 'error' with no listener (an uncaught exception), so every client gets one of its own.
  // The query in flight fails on its own (→ 503) and the pool discards the broken client.
  pool.on('error', (err) => opts.onPoolError?.(err));
  pool.on('connect', (client) => client.on('error', (err) => opts.onPoolError?.(err)));
  const stats = { queries: 0 };
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: () => void stats.queries++ });
  return {
    engine: 'postgres',
    db,
    stats,
    poolStats: () => ({ max, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    listen: (channel, onMessage, onState) => listenPostgres(url, channel, onMessage, onState, opts.onPoolError),
    async runScript(text) {
      const client = await pool.connect();
      try {
        await client.query(`BEGIN;\n${text}\n;COMMIT;`);
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
    },
    async executeSql(text, values) {
      const res = await pool.query(text, values as unknown[] | undefined);
      return { rows: res.rows };
    },
    async prepared(name, text, values) {
      stats.queries++;
      const res = await pool.query({ name, text, values });
      return { rows: res.rows };
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      await db.destroy();
    },
    async withMigrationLock(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_ID]);
        const out = await fn(async (text, values) => ({ rows: (await client.query(text, values as unknown[] | undefined)).rows }));
        await client.query('COMMIT');
        return out;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
    },
  };
}

async function openPGlite(dataDir: string): Promise<DbHandle> {
  let lock: DataDirLock | undefined;
  if (dataDir !== 'memory://') {
    mkdirSync(dataDir, { recursive: true });
    // One process owns a directory (SPEC §8): throws DataDirLockedError naming a live holder.
    lock = acquireDataDirLock(dataDir);
  }
  const client = new PGlite(dataDir);
  try {
    await client.waitReady;
  } catch (e) {
    lock?.release();
    throw e;
  }
  const mutex = new Mutex();
  const stats = { queries: 0 };
  const db = new Kysely<Database>({ dialect: pgliteDialect(client, mutex), log: () => void stats.queries++ });
  const exec = async (text: string, values?: unknown[]) => {
    if (values && values.length > 0) return { rows: (await client.query(text, values)).rows };
    const results = await client.exec(text);
    return { rows: results.length > 0 ? results[results.length - 1].rows : [] };
  };
  return {
    engine: 'pglite',
    db,
    stats,
    async runScript(text) {
      await mutex.run(async () => {
        await client.exec('BEGIN');
        try {
          await client.exec(text);
          await client.exec('COMMIT');
        } catch (e) {
          await client.exec('ROLLBACK');
          throw e;
        }
      });
    },
    executeSql: (text, values) => mutex.run(() => exec(text, values)),
    async prepared(_name, text, values) {
      stats.queries++;
      return { rows: (await mutex.run(() => client.query(text, values))).rows };
    },
    async ping() {
      await mutex.run(() => client.query('SELECT 1'));
    },
    dataDirLock: lock,
    async close() {
      try {
        await db.destroy();
        await mutex.run(() => client.close());
      } finally {
        lock?.release();
      }
    },
    async withMigrationLock(fn) {
      // One process owns a PGlite directory; the mutex is the lock.
      return mutex.run(async () => {
        await client.exec('BEGIN');
        try {
          const out = await fn(exec);
          await client.exec('COMMIT');
          return out;
        } catch (e) {
          await client.exec('ROLLBACK');
          throw e;
        }
      });
    },
  };
}
