import PgBoss from 'pg-boss';
import { CompiledQuery, type Transaction } from 'kysely';
import type { DbHandle } from '../db/connection.js';
import type { Database } from '../db/schema.js';

/** Re-anchoring reproductions wait in one queue per project, so a runner token scoped to some
 * projects only ever fetches their jobs (SPEC §12). */
export const REANCHOR_QUEUE = 'ecv-reanchor';
export const queueFor = (projectId: number) => `${REANCHOR_QUEUE}-p${projectId}`;
/** Jobs whose leases expired more than `retryLimit` times land here and count as failed runs. */
export const DEAD_QUEUE = 'ecv-reanchor-dead';

export interface QueueOptions {
  /** Seconds a lease lasts without a heartbeat (pg-boss's expireInSeconds). */
  leaseSeconds: number;
  /** Re-leases after an expired lease before the job is dead. */
  retryLimit: number;
  /** How often pg-boss expires stale leases. */
  maintenanceIntervalSeconds: number;
}

/** pg-boss's `db` shape running inside a Kysely transaction, so queue and data commit together. */
export function trxExecutor(trx: Transaction<Database>) {
  return {
    async executeSql(text: string, values?: unknown[]) {
      const res = await trx.executeQuery(CompiledQuery.raw(text, values ?? []));
      return { rows: res.rows as unknown[] };
    },
  };
}

/** Starts pg-boss on the service's own database (PGlite or PostgreSQL) and makes the queues. */
export async function startQueue(db: DbHandle, opts: QueueOptions, onError?: (e: Error) => void): Promise<PgBoss> {
  const boss = new PgBoss({
    db: { executeSql: (text: string, values?: unknown[]) => db.executeSql(text, values) },
    schema: 'pgboss',
    schedule: false,
    supervise: true,
    migrate: true,
    maintenanceIntervalSeconds: opts.maintenanceIntervalSeconds,
  } as PgBoss.ConstructorOptions);
  boss.on('error', (e) => onError?.(e as Error));
  const start = async () => {
    await boss.start();
    await ensureQueue(boss, DEAD_QUEUE, { retryLimit: 0, expireInSeconds: 3600 });
  };
  // pg-boss's first start creates its schema; two processes doing that at once collide
  // (duplicate pg_namespace entry). On PostgreSQL, start under the migration advisory lock
  // (pg-boss runs on other pool connections meanwhile); PGlite has one process.
  if (db.engine === 'postgres') await db.withMigrationLock(start);
  else await start();
  return boss;
}

const known = new WeakMap<PgBoss, Map<string, Promise<string>>>();

/**
 * Makes the project's re-anchoring queue (lease = expiry, bounded retries, then the dead-letter
 * queue). Call outside a transaction: on PGlite the queue shares the one connection. Concurrent
 * callers in one process share one creation (parallel pg-boss `create_queue` calls on one
 * queue could deadlock each other); a failed creation is forgotten so the next call retries.
 */
export function ensureProjectQueue(boss: PgBoss, projectId: number, opts: QueueOptions): Promise<string> {
  const name = queueFor(projectId);
  const made = known.get(boss) ?? new Map<string, Promise<string>>();
  known.set(boss, made);
  let p = made.get(name);
  if (!p) {
    p = ensureQueue(boss, name, { retryLimit: opts.retryLimit, retryDelay: 0, expireInSeconds: opts.leaseSeconds, deadLetter: DEAD_QUEUE }).then(() => name);
    p.catch(() => made.delete(name));
    made.set(name, p);
  }
  return p;
}

async function ensureQueue(boss: PgBoss, name: string, options: Omit<PgBoss.Queue, 'name'>): Promise<void> {
  if (await boss.getQueue(name)) {
    await boss.updateQueue(name, { name, ...options });
    return;
  }
  for (let attempt = 0; ; attempt++) {
    try {
      await boss.createQueue(name, { name, ...options });
      return;
    } catch (e) {
      // Another process created it first, or deadlocked with us doing so: look again, then retry.
      if (await boss.getQueue(name)) return;
      if (attempt >= 3) throw e;
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 200));
    }
  }
}
