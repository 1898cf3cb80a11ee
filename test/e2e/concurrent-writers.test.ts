import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgDatabase, ENGINES } from '../helpers/db.js';
import { expectStoredKRecomputes, readWholeGraph } from '../helpers/graph-check.js';
import { rng } from '../helpers/prng.js';
import { api, startService, type Service } from '../helpers/service.js';

describe.skipIf(!ENGINES.includes('postgres'))('two service processes writing one project on PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof createPgDatabase>>;
  const services: Service[] = [];
  beforeAll(async () => {
    db = await createPgDatabase();
    // Both start at once against the same database: migrations run under the advisory lock.
    services.push(...(await Promise.all([startService({ DATABASE_URL: db.url }), startService({ DATABASE_URL: db.url })])));
  }, 240_000);
  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await db?.drop();
  });

  it('ends with every experiment stored once and K equal to a from-scratch recomputation', { timeout: 300_000 }, async () => {
    const [a, b] = services.map((s) => s.url);
    expect((await api(a, 'POST', '/v1/projects', { name: 'conc', metric: { name: 'loss', direction: 'minimize' } })).status).toBe(201);
    expect((await api(b, 'POST', '/v1/projects/conc/experiments', { key: 'root', status: 'keep', value: 2.0 })).status).toBe(201);
    const confirmed: string[] = ['root'];
    const PER_CLIENT = 1000;
    const BATCH = 25;
    async function client(base: string, name: string, seed: number) {
      const r = rng(seed);
      let prev = 'root';
      let level = 2.0;
      for (let i = 0; i < PER_CLIENT; i += BATCH) {
        const batch = [];
        for (let j = i; j < i + BATCH; j++) {
          const key = `${name}${j}`;
          const keep = r() < 0.3;
          const value = level + (r() - 0.6) * 0.01;
          const premises = [prev];
          // Sometimes also build on the other client's confirmed work (cross edges, diamonds).
          if (r() < 0.1) {
            const other = confirmed[Math.floor(r() * confirmed.length)];
            if (other !== prev) premises.push(other);
          }
          batch.push({ key, status: r() < 0.03 ? 'crash' : keep ? 'keep' : 'discard', value, premises });
          if (keep) {
            prev = key;
            level = value;
          }
        }
        const res = await api<{ created: number }>(base, 'POST', '/v1/projects/conc/experiments', batch);
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        expect(res.body.created).toBe(BATCH);
        for (const e of batch) confirmed.push(e.key);
      }
    }
    await Promise.all([client(a, 'a', 1), client(b, 'b', 2)]);

    const graph = await expectStoredKRecomputes(a, 'conc');
    expect(graph.nodes).toHaveLength(2 * PER_CLIENT + 1);
    // The other process answers the same.
    const viaB = await readWholeGraph(b, 'conc');
    expect(viaB.nodes.map((n) => [n.key, n.compounded])).toEqual(graph.nodes.map((n) => [n.key, n.compounded]));
  });
});
