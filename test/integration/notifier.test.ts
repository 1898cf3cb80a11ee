import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { openDatabase, type DbHandle } from '../../src/db/connection.js';
import { DEGRADED_RECHECK_MS, Notifier, QUIET_RECHECK_MS } from '../../src/services/notifier.js';
import { ENGINES, createPgDatabase } from '../helpers/db.js';
import { until } from '../helpers/http.js';

/**
 * The cross-process wake-up channel on a real PostgreSQL: two notifiers on two handles (as two
 * service processes) wake each other's waits; when the listening connection is killed, waits
 * fall back to one-second re-checks until it is back, and then every wait re-checks once.
 */
describe.skipIf(!ENGINES.includes('postgres'))('Notifier over LISTEN/NOTIFY', () => {
  let pgdb: Awaited<ReturnType<typeof createPgDatabase>>;
  const handles: DbHandle[] = [];
  const notifiers: Notifier[] = [];
  beforeAll(async () => {
    pgdb = await createPgDatabase();
    for (let i = 0; i < 2; i++) {
      const h = await openDatabase({ databaseUrl: pgdb.url, poolSize: 2 });
      const n = new Notifier();
      await n.bridge(h.listen!);
      handles.push(h);
      notifiers.push(n);
    }
  });
  afterAll(async () => {
    for (const n of notifiers) await n.close();
    for (const h of handles) await h.close();
    await pgdb?.drop();
  });

  it('wakes a wait in the other process, and not its own twice', async () => {
    const [a, b] = notifiers;
    expect(a.recheckMs).toBe(QUIET_RECHECK_MS);
    const t0 = Date.now();
    const woken = a.waitFor('scores:1', 20_000);
    b.notify('scores:1');
    await woken;
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(a.wakes).toBe(1);
    // b's own notification reaches b's waits once (locally), not again over the channel.
    const own = b.waitFor('scores:2', 20_000);
    b.notify('scores:2');
    await own;
    await new Promise((r) => setTimeout(r, 300));
    expect(b.wakes).toBe(1);
  });

  it('re-checks every second while its connection is down and wakes every wait when it is back', async () => {
    const [a, b] = notifiers;
    const admin = new pg.Client({ connectionString: pgdb.url });
    await admin.connect();
    try {
      const wait = a.waitFor('scores:3', 60_000);
      const killed = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND (query LIKE 'LISTEN%' OR query LIKE 'SELECT pg_notify%') AND pid <> pg_backend_pid()`);
      expect(killed.rowCount).toBe(2);
      await until(async () => a.recheckMs === DEGRADED_RECHECK_MS, 5000, 'degraded');
      await until(async () => a.recheckMs === QUIET_RECHECK_MS, 15_000, 'reconnected');
      await wait; // woken by the reconnect: what was notified meanwhile may be lost
      const again = a.waitFor('scores:4', 20_000);
      await until(async () => b.recheckMs === QUIET_RECHECK_MS, 15_000, 'b reconnected');
      b.notify('scores:4');
      await again;
    } finally {
      await admin.end();
    }
  });
});
