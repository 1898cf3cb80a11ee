import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resultsTsv } from '../../bench/lib/projects.js';
import { createPgDatabase, ENGINES } from '../helpers/db.js';
import { readWholeGraph, type GraphOut } from '../helpers/graph-check.js';
import { api, startService, type Service } from '../helpers/service.js';

/**
 * SPEC §13: the service killed mid-ingest. A real `ecv serve` process gets a large results.tsv and
 * is SIGKILLed while the ingest transaction runs; after a restart on the same database the ingest
 * either fully happened or not at all, re-sending completes it, and the result equals an ingest
 * that was never interrupted.
 */
const ROWS = 12_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ingest(base: string, project: string, tsv: string): Promise<{ status: number; body: { created: number; rows: number } }> {
  const res = await fetch(`${base}/v1/projects/${project}/results`, { method: 'POST', headers: { 'content-type': 'text/tab-separated-values' }, body: tsv });
  return { status: res.status, body: (await res.json()) as { created: number; rows: number } };
}

/** Every page of the graph (GET /graph is paged, issue 19). */
const graphOf = readWholeGraph;

describe.each(ENGINES)('service SIGKILLed in the middle of a large ingest (%s)', (engine) => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('keeps all or nothing; re-sending completes it, equal to an uninterrupted ingest', { timeout: 600_000 }, async () => {
    let env: Record<string, string>;
    if (engine === 'postgres') {
      const db = await createPgDatabase();
      cleanups.push(() => db.drop());
      env = { DATABASE_URL: db.url };
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'ecv-kill-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      env = { ECV_DATA_DIR: dir };
    }
    const tsv = resultsTsv(ROWS);
    const project = (name: string) => ({ name, metric: { name: 'val_bpb', direction: 'minimize' } });

    let service: Service = await startService(env, 120_000);
    cleanups.push(() => service.stop());
    // The reference: the same file ingested without interruption, timed to aim the kill.
    expect((await api(service.url, 'POST', '/v1/projects', project('calm'))).status).toBe(201);
    expect((await api(service.url, 'POST', '/v1/projects', project('killed'))).status).toBe(201);
    const t0 = performance.now();
    const calm = await ingest(service.url, 'calm', tsv);
    const took = performance.now() - t0;
    expect(calm.status).toBe(201);
    expect(calm.body.created).toBe(ROWS);

    // Kill half-way through the second ingest: the response must not have arrived by then.
    let answered = false;
    const inFlight = ingest(service.url, 'killed', tsv).then(
      () => (answered = true),
      () => 'connection lost',
    );
    await sleep(took / 2);
    expect(answered, `the ingest answered within ${Math.round(took / 2)} ms; the kill would not be mid-ingest`).toBe(false);
    await service.stop('SIGKILL');
    expect(await inFlight).toBe('connection lost');

    // Restart on the same database: recovery, then all or nothing.
    service = await startService(env, 120_000);
    const after = await graphOf(service.url, 'killed');
    expect([0, ROWS]).toContain(after.nodes.length);

    const resend = await ingest(service.url, 'killed', tsv);
    expect(resend.status).toBe(after.nodes.length === 0 ? 201 : 200);
    expect(resend.body.created).toBe(ROWS - after.nodes.length);
    // And once more: idempotent.
    const again = await ingest(service.url, 'killed', tsv);
    expect(again.status).toBe(200);
    expect(again.body.created).toBe(0);

    const [killed, reference] = await Promise.all([graphOf(service.url, 'killed'), graphOf(service.url, 'calm')]);
    expect(killed.nodes).toHaveLength(ROWS);
    const view = (g: GraphOut) => g.nodes.map((n) => [n.key, n.status, n.confidence, n.compounded, n.anchored]);
    expect(view(killed)).toEqual(view(reference));
    expect(killed.edges).toEqual(reference.edges);
  });
});
