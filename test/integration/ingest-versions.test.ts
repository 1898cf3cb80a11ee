import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';

const HEADER = 'commit\tval_bpb\tmemory_gb\tstatus\tdescription';

describe.each(ENGINES)('changed logs on %s (issue 15 §1)', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(engine);
  });
  afterAll(async () => t?.close());

  const tsv = (project: string, body: string, query = 'create=true&direction=minimize') =>
    t.app.inject({
      method: 'POST',
      url: `/v1/projects/${project}/results?${query}`,
      payload: body,
      headers: { 'content-type': 'text/tab-separated-values' },
    });

  it('ingests a header-only results.tsv as a no-op (200, 0 rows), before and after rows exist', async () => {
    const first = await tsv('hdr', `${HEADER}\n`);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ created: 0, unchanged: 0 });
    const rows = await tsv('hdr', `${HEADER}\na1\t1.00\t40\tkeep\tbaseline\n`);
    expect(rows.statusCode, rows.body).toBe(201);
    const again = await tsv('hdr', `${HEADER}\n`);
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()).toMatchObject({ created: 0, unchanged: 0 });
    const list = (
      await t.app.inject({ method: 'GET', url: '/v1/projects/hdr/experiments' })
    ).json();
    expect(list.items.map((e: { key: string }) => e.key)).toEqual(['a1']);
  });
});
