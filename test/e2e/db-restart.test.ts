import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import { expectStoredKRecomputes } from '../helpers/graph-check.js';
import { rng } from '../helpers/prng.js';
import { createPrivateCluster, findPgBin, type PrivateCluster } from '../helpers/pg-cluster.js';
import { api, startService, type Service } from '../helpers/service.js';

/**
 * SPEC §13: the database restarts under load. A real `ecv serve` process on a PostgreSQL server of
 * the test's own; a writer and a gater keep sending while the server is stopped and started again.
 * Clients see 503 with Retry-After while it is down, then the service recovers by itself, with no
 * experiment lost or stored twice and K equal to a from-scratch recomputation.
 */

interface Sent {
  status: number;
  retryAfter: string | null;
  body: unknown;
}

/** One request; a broken connection (the service died) comes back as status 0. */
async function send(base: string, method: string, path: string, body?: unknown): Promise<Sent> {
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: body !== undefined ? { 'content-type': 'application/json' } : {},
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (e) {
    return { status: 0, retryAfter: null, body: String((e as Error).cause ?? e) };
  }
  const text = await res.text();
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: text ? JSON.parse(text) : null };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!ENGINES.includes('postgres') || !findPgBin())('PostgreSQL restarted under writes and gates', () => {
  let cluster: PrivateCluster;
  let service: Service;
  beforeAll(async () => {
    cluster = await createPrivateCluster();
    service = await startService({ DATABASE_URL: cluster.url, ECV_DB_POOL: '5' });
  }, 180_000);
  afterAll(async () => {
    await service?.stop();
    await cluster?.destroy();
  });

  it('answers 503 with Retry-After while it is down and recovers without a restart, losing nothing', { timeout: 300_000 }, async () => {
    const base = service.url;
    expect((await api(base, 'POST', '/v1/projects', { name: 'fault', metric: { name: 'loss', direction: 'minimize' } })).status).toBe(201);
    expect((await api(base, 'POST', '/v1/projects/fault/experiments', { key: 'root', status: 'keep', value: 2.0 })).status).toBe(201);

    const unavailable: Sent[] = [];
    const unexpected: { what: string; got: Sent }[] = [];
    /** Sends until the answer is final; a 503 must carry Retry-After and is retried with the same body. */
    async function untilDone(what: string, method: string, path: string, body: unknown, ok: number[]): Promise<Sent> {
      for (;;) {
        const r = await send(base, method, path, body);
        if (ok.includes(r.status)) return r;
        if (r.status === 503) {
          unavailable.push(r);
          // Honour Retry-After, shortened so the test stays quick (it is checked to be present).
          await sleep(Math.min(Number(r.retryAfter) * 1000 || 2000, 300));
          continue;
        }
        unexpected.push({ what, got: r });
        return r;
      }
    }

    const sentKeys = new Set<string>(['root']);
    let stop = false;
    let writesAfterRecovery = 0;
    let recovered = false;
    let latest = 'root';
    const writer = async () => {
      const r = rng(7);
      let prev = 'root';
      let level = 2.0;
      for (let i = 0; !stop; i++) {
        const batch = [];
        for (let j = 0; j < 5; j++) {
          const key = `w${i}-${j}`;
          const keep = r() < 0.4;
          const value = level + (r() - 0.6) * 0.01;
          batch.push({ key, status: keep ? 'keep' : 'discard', value, premises: [prev] });
          sentKeys.add(key);
          if (keep) {
            prev = key;
            level = value;
          }
        }
        // 201 on the first send; 200 when a retry finds the batch already stored.
        await untilDone(`write ${i}`, 'POST', '/v1/projects/fault/experiments', batch, [200, 201]);
        latest = prev;
        if (recovered) writesAfterRecovery++;
      }
    };
    const gater = async () => {
      while (!stop) {
        await untilDone(`gate ${latest}`, 'POST', '/v1/projects/fault/gate', { experiment: latest }, [200]);
      }
    };
    const clients = Promise.all([writer(), gater()]);

    await sleep(1500);
    await cluster.stop();
    const unavailableBefore = unavailable.length;
    await sleep(3000); // down: every request now meets a dead database
    const seenWhileDown = unavailable.length - unavailableBefore;
    await cluster.start();
    recovered = true;
    const deadline = Date.now() + 60_000;
    while (writesAfterRecovery < 10 && Date.now() < deadline && unexpected.length === 0) await sleep(100);
    stop = true;
    await clients;

    expect(unexpected, service.output()).toEqual([]);
    expect(seenWhileDown).toBeGreaterThan(0);
    for (const r of unavailable) {
      expect(r.retryAfter).toMatch(/^\d+$/);
      expect((r.body as { code: string }).code).toBe('unavailable');
    }
    expect(writesAfterRecovery).toBeGreaterThanOrEqual(10);
    // The same process (never restarted) is ready again and holds every key exactly once.
    expect(service.proc.exitCode).toBeNull();
    expect((await send(base, 'GET', '/readyz')).status).toBe(200);
    const graph = await expectStoredKRecomputes(base, 'fault');
    expect(graph.nodes.map((n) => n.key).sort()).toEqual([...sentKeys].sort());
    // Gates work again, and the decision log kept recording.
    expect((await send(base, 'POST', '/v1/projects/fault/gate', { experiment: latest })).status).toBe(200);
  });
});
