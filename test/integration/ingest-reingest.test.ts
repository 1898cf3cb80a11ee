import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';

const HEADER = 'commit\tval_bpb\tmemory_gb\tstatus\tdescription';

/** A log of n rows with some row warnings (an unknown status, a repeated commit, a foreign line). */
function log(n: number): string {
  const lines = [HEADER];
  for (let i = 0; i < n; i++) {
    const status = i % 7 === 3 ? 'weird' : i % 3 === 0 ? 'keep' : 'discard';
    const commit = i === 5 ? 'c000001' : `c${String(i).padStart(6, '0')}`;
    lines.push(`${commit}\t${(1 - i / 1000).toFixed(6)}\t40.0\t${status}\texperiment ${i}`);
    if (i === 8) lines.push('some foreign output line');
  }
  return `${lines.join('\n')}\n`;
}

describe.each(ENGINES)('re-ingest of a file already ingested on %s (issue 19)', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(engine);
  });
  afterAll(async () => t?.close());

  const tsv = (project: string, body: string, query = '') =>
    t.app.inject({ method: 'POST', url: `/v1/projects/${project}/results?${query}`, payload: body, headers: { 'content-type': 'text/tab-separated-values' } });
  const project = (name: string) => t.app.inject({ method: 'POST', url: '/v1/projects', payload: { name, metric: { name: 'val_bpb', direction: 'minimize' } } });
  /** Every stored experiment with its versions, as the API shows them. */
  const stored = async (p: string) => {
    const list = (await t.app.inject({ method: 'GET', url: `/v1/projects/${p}/experiments?limit=1000` })).json() as { items: { key: string }[] };
    return Promise.all(list.items.map(async (e) => ({ ...e, versions: (await t.app.inject({ method: 'GET', url: `/v1/projects/${p}/experiments/${e.key}/versions` })).json() })));
  };

  it('answers the same file again as a full ingest does, with nothing written and a few statements', async () => {
    // Created by the first ingest (no state then); the second parses in full and records the state.
    const body = log(40);
    expect((await tsv('same', body, 'create=true&direction=minimize')).statusCode).toBe(201);
    const full = await tsv('same', body);
    expect(full.statusCode, full.body).toBe(200);
    const before = await stored('same');
    const q0 = t.db.handle.stats.queries;
    const fast = await tsv('same', body);
    const statements = t.db.handle.stats.queries - q0;
    expect(fast.statusCode, fast.body).toBe(200);
    expect(fast.json()).toEqual(full.json());
    expect(fast.json()).toMatchObject({ created: 0, updated: 0, absent: 0, restored: 0, unchanged: 40 });
    expect(fast.json().warnings.map((w: { code: string }) => w.code)).toEqual(expect.arrayContaining(['unknown_status', 'duplicate_commit', 'foreign_line']));
    // The project lookup and one read of the stored state; no transaction, no write.
    expect(statements).toBeLessThanOrEqual(3);
    expect(await stored('same')).toEqual(before);
  });

  it('parses in full again when another write changed the stored log since', async () => {
    await project('edited');
    const body = log(12);
    expect((await tsv('edited', body)).statusCode).toBe(201);
    // A JSON post rewrites one log row: the file, ingested again, is the truth again (a new version).
    const edit = await t.app.inject({ method: 'POST', url: '/v1/projects/edited/experiments', payload: { key: 'c000002', status: 'keep', value: 0.5 } });
    expect(edit.statusCode, edit.body).toBeLessThan(300);
    const again = await tsv('edited', body);
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()).toMatchObject({ updated: 1, created: 0 });
    const row = (await t.app.inject({ method: 'GET', url: '/v1/projects/edited/experiments/c000002' })).json();
    expect(row).toMatchObject({ value: 0.998, version: 3 });
    // A row added as part of the log (source=tsv) goes absent when the file, re-ingested, lacks it.
    const extra = await t.app.inject({ method: 'POST', url: '/v1/projects/edited/experiments?source=tsv', payload: [{ key: 'zz1', status: 'discard', value: 2 }] });
    expect(extra.statusCode, extra.body).toBeLessThan(300);
    const third = await tsv('edited', body);
    expect(third.json()).toMatchObject({ absent: 1, created: 0, updated: 0 });
    // That answer recorded the state again: the fourth is answered from it, with the same counts as a full ingest.
    expect((await tsv('edited', body)).json()).toMatchObject({ absent: 0, created: 0, updated: 0, unchanged: 12 });
  });

  it('parses in full when the options or the project settings differ', async () => {
    await project('opts');
    const body = log(10);
    expect((await tsv('opts', body)).statusCode).toBe(201);
    // Strict rejects the file whole (its warnings), as a full parse does.
    const strict = await tsv('opts', body, 'strict=true');
    expect(strict.statusCode).toBeGreaterThanOrEqual(400);
    expect(strict.statusCode).toBeLessThan(500);
    const patch = await t.app.inject({ method: 'PATCH', url: '/v1/projects/opts', payload: { metric: { name: 'val_bpb', direction: 'maximize' } } });
    expect(patch.statusCode, patch.body).toBe(200);
    const flipped = await tsv('opts', body);
    expect(flipped.statusCode, flipped.body).toBe(200);
    expect(flipped.json()).toMatchObject({ direction: 'maximize' });
    expect(flipped.json().choices.direction.source).toBe('project');
  });

  it('a longer file adds only its new rows', async () => {
    await project('grow');
    expect((await tsv('grow', log(10))).statusCode).toBe(201);
    const longer = await tsv('grow', log(11));
    expect(longer.statusCode, longer.body).toBe(201);
    expect(longer.json()).toMatchObject({ created: 1, unchanged: 10, updated: 0, absent: 0 });
  });
});
