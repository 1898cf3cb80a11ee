import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';

/** Issue 20 over HTTP: the ingest answer says which columns it used and why; projects it creates follow the data. */
const lines = (...l: string[]) => l.join('\n') + '\n';
const HEADER = 'commit\tval_bpb\tmemory_gb\tstatus\tdescription';
const CLEAN = [
  'a000001\t1.000\t40\tkeep\tbaseline',
  'a000002\t0.990\t40\tkeep\thalve batch',
  'a000003\t0.995\t40\tdiscard\twider mlp',
  'a000004\t0.984\t40\tkeep\tdepth 9',
  'a000005\t0.989\t40\tdiscard\tlr 2x',
  'a000006\t0.986\t40\tdiscard\tno warmup',
  'a000007\t0.979\t40\tkeep\trope base',
];
/** `score` named like a maximize metric, yet every keep is a decrease. */
const SCORE = lines('commit\tscore\tstatus', 'b1\t9.0\tkeep', 'b2\t8.5\tkeep', 'b3\t8.7\tdiscard', 'b4\t8.1\tkeep', 'b5\t7.9\tkeep');

describe.each(ENGINES)('ingest choices over HTTP on %s', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(engine);
  });
  afterAll(async () => t?.close());

  const tsv = (project: string, body: string, query = 'create=true') =>
    t.app.inject({ method: 'POST', url: `/v1/projects/${project}/results?${query}`, payload: body, headers: { 'content-type': 'text/tab-separated-values' } });
  const get = async (url: string) => (await t.app.inject({ method: 'GET', url })).json();
  const codes = (body: { warnings: { line: number; code: string }[] }) => body.warnings.map((w) => `${w.line}:${w.code}`);

  it('reports metric, direction, status and key columns with their evidence', async () => {
    const res = await tsv('plain', lines(HEADER, ...CLEAN));
    expect(res.statusCode).toBe(201);
    const b = res.json();
    expect(b).toMatchObject({ metric: 'val_bpb', direction: 'minimize', statusColumn: 'status', keyColumn: 'commit', skipped: 0, rows: 7 });
    expect(b.choices.metric).toMatchObject({ column: 'val_bpb', source: 'name', guess: false });
    expect(b.choices.direction).toMatchObject({ value: 'minimize', source: 'data', guess: false, data: 'minimize', name: 'minimize' });
    expect(b.choices.direction.evidence).toContain('3 of 3 steps between kept rows decrease');
    expect(b.warnings).toEqual([]);
  });

  it("creates a project with the data's direction when the keeps contradict the name, and warns loudly", async () => {
    const res = await tsv('score', SCORE);
    expect(res.statusCode).toBe(201);
    expect(res.json().direction).toBe('minimize');
    expect(codes(res.json())).toEqual(['1:direction_contradicted', '1:direction_guessed']);
    expect((await get('/v1/projects/score')).metric).toEqual({ name: 'score', direction: 'minimize' });
    // An explicit direction always wins, still with the warning.
    const given = await tsv('score-max', SCORE, 'create=true&direction=maximize');
    expect(given.json().direction).toBe('maximize');
    expect(codes(given.json())).toEqual(['1:direction_contradicted']);
    expect((await get('/v1/projects/score-max')).metric.direction).toBe('maximize');
    // One warning, not two, when the project's metric column is missing from the file.
    const other = await tsv('score-max', lines('commit\tval\tstatus', 'b1\t9.0\tkeep'));
    expect(codes(other.json()).filter((c) => c.includes('metric'))).toEqual(['1:metric_column_not_found']);
    // The existing project's config wins on the next ingest.
    const again = await tsv('score-max', SCORE);
    expect(again.statusCode).toBe(200);
    expect(again.json().choices.direction).toMatchObject({ value: 'maximize', source: 'project' });
  });

  it('reads the direction of an unknown metric name from the keeps, and asks for one when they cannot tell', async () => {
    const elo = await tsv('elo', lines('commit\telo\tstatus', 'a\t1200\tkeep', 'b\t1250\tkeep', 'c\t1240\tdiscard', 'd\t1300\tkeep'));
    expect(elo.statusCode).toBe(201);
    expect(elo.json().direction).toBe('maximize');
    expect(codes(elo.json())).toEqual(['1:direction_guessed']);
    const none = await tsv('nba', lines('commit\tnba_core\tstatus', 'a\t10\tkeep', 'b\t9\tdiscard'));
    expect(none.statusCode).toBe(400);
    expect(none.headers['content-type']).toContain('application/problem+json');
    expect(none.json().detail).toContain('pass direction=minimize or direction=maximize');
    expect(none.json().errors[0]).toMatchObject({ pointer: 'direction' });
    expect((await t.app.inject({ method: 'GET', url: '/v1/projects/nba' })).statusCode).toBe(404);
  });

  it('takes the metric and status columns the caller names', async () => {
    const body = lines('commit\tval_score\ttop_k\ttag\tverdict', 'a\t0.5\t60\tkept\tkeep', 'b\t0.6\t120\trevert\tkeep', 'c\t0.7\t240\tkept\tkeep');
    const res = await tsv('named', body, 'create=true&metric=val_score&statusColumn=tag');
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ metric: 'val_score', statusColumn: 'tag', direction: 'maximize' });
    expect(res.json().choices.statusColumn.source).toBe('explicit');
    const stored = await get('/v1/projects/named/experiments?limit=10');
    expect(stored.items.map((e: { key: string; status: string }) => `${e.key}:${e.status}`)).toEqual(['a:keep', 'b:discard', 'c:keep']);
  });

  it('stores no foreign line, and σ̂ is that of the clean log', async () => {
    const dirty = lines(
      HEADER,
      CLEAN[0],
      '2026-03-19 12:00:01 step 100 loss 2.31',
      CLEAN[1],
      '12:00:04\t18585.0\t0',
      CLEAN[2],
      'note: the numbers below are from the second node',
      CLEAN[3],
      '------------------------------',
      ...CLEAN.slice(4),
    );
    const clean = await tsv('clean', lines(HEADER, ...CLEAN), 'create=true&direction=minimize');
    const res = await tsv('dirty', dirty, 'create=true&direction=minimize');
    expect(res.statusCode).toBe(201);
    expect(res.json().created).toBe(clean.json().created);
    expect(res.json().skipped).toBe(4);
    expect(codes(res.json())).toEqual(['3:foreign_line', '5:foreign_line', '7:foreign_line', '9:foreign_line']);
    const keys = async (p: string) => (await get(`/v1/projects/${p}/experiments?limit=50`)).items.map((e: { key: string }) => e.key);
    expect(await keys('dirty')).toEqual(await keys('clean'));
    const sigma = async (p: string) => (await get(`/v1/projects/${p}/experiments/a000007`)).confidence.sigma;
    expect(await sigma('clean')).not.toBeNull();
    expect(await sigma('dirty')).toBe(await sigma('clean'));
  });

  it('reads a file without a header and names its metric column', async () => {
    const body = lines('HEAD\tmodel\t397.0\tkeep\tbaseline run', 'HEAD\tmodel\t391.5\tkeep\tlarger batch', 'HEAD\tmodel\t399.2\tdiscard\twider mlp');
    const res = await tsv('headless', body, 'create=true&direction=minimize');
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ metric: 'metric', statusColumn: 'status', keyColumn: null, created: 3 });
    expect(codes(res.json())).toContain('1:no_header');
    const again = await tsv('headless', body);
    expect(again.json()).toMatchObject({ created: 0, unchanged: 3 });
    expect(again.json().choices.metric.source).toBe('explicit');
    const shapeless = await tsv('shapeless', lines('abc\t1.0', 'x\ty\tz', 'one'), 'create=true&direction=minimize');
    expect(shapeless.statusCode).toBe(400);
    expect(shapeless.json().errors[0]).toMatchObject({ line: 1, code: 'no_header' });
  });
});
