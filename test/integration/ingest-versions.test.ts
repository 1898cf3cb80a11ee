import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { KARPATHY_LOG, skipWithoutCorpus } from '../helpers/corpus.js';

/** A real log (SPEC §7 corpus); tests on it skip with a message when ../shared is missing, fail under CI. */
const REAL_LOG = KARPATHY_LOG;
const SKIP_REAL = skipWithoutCorpus('the real-log replay');

interface ExperimentView {
  key: string;
  status: string;
  value: number | null;
  baseline: number | null;
  premises: string[];
  description?: string;
  metadata: Record<string, unknown>;
  confidence: { value: number } | null;
  compounded: number | null;
  anchored: boolean;
  hardGate: string | null;
  version: number;
  absent: boolean;
}

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

  const post = (url: string, body: unknown) => t.app.inject({ method: 'POST', url, payload: body as object });
  const get = (url: string) => t.app.inject({ method: 'GET', url });

  /** Every experiment of a project (all pages), by key. */
  async function experiments(project: string): Promise<Map<string, ExperimentView>> {
    const out = new Map<string, ExperimentView>();
    let after: number | null = -1;
    while (after !== null) {
      const page = (await get(`/v1/projects/${project}/experiments?limit=1000&after=${after}`)).json() as { items: (ExperimentView & { seq: number })[]; next: number | null };
      for (const e of page.items) out.set(e.key, e);
      after = page.next;
    }
    return out;
  }

  /**
   * What a log's ingest leaves, comparable across projects: the experiments of the latest log
   * with premises, statuses, values, metadata, scores and K (versions, seq and statistics
   * versions count the history, not the state), and the graph's edges.
   */
  async function state(project: string) {
    const rows = [...(await experiments(project)).values()].filter((e) => !e.absent);
    const graph = (await get(`/v1/projects/${project}/graph`)).json() as { nodes: { key: string }[]; edges: { from: string; to: string }[] };
    return {
      experiments: rows
        .map((e) => ({
          key: e.key,
          status: e.status,
          value: e.value,
          baseline: e.baseline,
          premises: e.premises,
          description: e.description,
          metadata: e.metadata,
          confidence: e.confidence?.value ?? null,
          compounded: e.compounded,
          anchored: e.anchored,
          hardGate: e.hardGate,
        }))
        .sort((a, b) => a.key.localeCompare(b.key)),
      nodes: graph.nodes.map((n) => n.key).sort(),
      edges: graph.edges.map((e) => `${e.from}>${e.to}`).sort(),
    };
  }

  /**
   * Ingests each version in order (each 2xx), then the last one into a new project: the same
   * experiments, premises, statuses, values, metadata and edges, exactly; the same C and K to
   * 1e-6 (the prior is refit from g0 on every write, so it depends on the data only; rows may be
   * summed in another order, and EM stops at a tolerance).
   */
  async function expectReplayEqualsFresh(name: string, versions: string[], scores = true) {
    for (const [i, v] of versions.entries()) {
      const r = await tsv(name, v);
      expect([200, 201], `version ${i + 1}: ${r.body}`).toContain(r.statusCode);
    }
    const fresh = await tsv(`${name}-fresh`, versions[versions.length - 1]);
    expect(fresh.statusCode, fresh.body).toBe(201);
    const replayed = await state(name);
    const want = await state(`${name}-fresh`);
    expect(replayed.nodes.length).toBeGreaterThan(0);
    const structure = (st: typeof want) => ({ ...st, experiments: st.experiments.map(({ confidence: _c, compounded: _k, ...e }) => e) });
    expect(structure(replayed)).toEqual(structure(want));
    if (!scores) return replayed;
    replayed.experiments.forEach((e, i) => {
      const w = want.experiments[i];
      expect(e.confidence === null, e.key).toBe(w.confidence === null);
      expect(Math.abs((e.confidence ?? 0) - (w.confidence ?? 0)), `C of ${e.key}`).toBeLessThan(1e-6);
      expect(Math.abs((e.compounded ?? 0) - (w.compounded ?? 0)), `K of ${e.key}`).toBeLessThan(1e-6);
    });
    return replayed;
  }

  const row = (commit: string, v: number, status: string, desc: string, extra = '') => `${commit}\t${v.toFixed(4)}\t40\t${status}\t${desc}${extra}`;
  const LOG = [
    row('c01', 1.0, 'keep', 'baseline'),
    row('c02', 0.98, 'keep', 'lr 0.04'),
    row('c03', 0.99, 'discard', 'wider'),
    row('c04', 0.97, 'keep', 'warmup'),
    row('c05', 1.2, 'crash', 'oom'),
    row('c06', 0.965, 'keep', 'rope base'),
    row('c07', 0.97, 'discard', 'gelu'),
    row('c08', 0.96, 'keep', 'batch 2x'),
  ];
  const file = (rows: string[], header = HEADER) => `${header}\n${rows.join('\n')}\n`;

  it('stores a changed row as a new version with what changed, moves premises, never 409', async () => {
    expect((await tsv('ver', file(LOG.slice(0, 6)))).statusCode).toBe(201);
    // The loop reverted c04 and marked it discard: the premises of c05 and c06 move from c04 to c02.
    const edited = LOG.slice(0, 6).map((r) => (r.startsWith('c04') ? r.replace('keep', 'discard') : r));
    const r = await tsv('ver', file(edited));
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ created: 0, updated: 3, absent: 0 });
    const e = await experiments('ver');
    expect(e.get('c04')).toMatchObject({ status: 'discard', version: 2, absent: false });
    expect(e.get('c06')).toMatchObject({ premises: ['c02'], version: 2 });
    expect(e.get('c02')?.version).toBe(1);
    const v = (await get('/v1/projects/ver/experiments/c06/versions')).json();
    expect(v.items.map((i: { version: number; changed: string[] }) => [i.version, i.changed])).toEqual([
      [1, []],
      [2, ['baseline', 'premises']],
    ]);
    expect(v.items[0].content).toMatchObject({ key: 'c06', premises: ['c04'] });
    expect(v.items[1].content).toMatchObject({ key: 'c06', premises: ['c02'] });
    expect(v.items[1].contentHash).not.toBe(v.items[0].contentHash);
    expect(typeof v.items[1].createdAt).toBe('string');
    const g = (await get('/v1/projects/ver/graph')).json();
    expect(g.edges).toContainEqual({ from: 'c02', to: 'c06' });
    expect(g.edges).not.toContainEqual({ from: 'c04', to: 'c06' });

    // A column added to every row: one new version each, the column named in `changed`.
    const wide = file(edited.map((l) => `${l}\tgpu-a`), `${HEADER}\tnode`);
    const w = await tsv('ver', wide);
    expect(w.json()).toMatchObject({ created: 0, updated: 6 });
    const c01 = (await get('/v1/projects/ver/experiments/c01/versions')).json();
    expect(c01.items.at(-1).changed).toEqual(['metadata.columns.node']);
    // Idempotent: the same file again writes nothing.
    expect((await tsv('ver', wide)).json()).toMatchObject({ created: 0, updated: 0, unchanged: 6 });
    expect((await get('/v1/projects/nope/experiments/c01/versions')).statusCode).toBe(404);
    expect((await get('/v1/projects/ver/experiments/zzz/versions')).statusCode).toBe(404);
  });

  it('marks rows a later log lost as absent (out of the graph), brings them back, and JSON never marks', async () => {
    expect((await tsv('abs', file(LOG.slice(0, 4)))).statusCode).toBe(201);
    const shorter = await tsv('abs', file([LOG[0], LOG[1], LOG[3]]));
    expect(shorter.json()).toMatchObject({ absent: 1, updated: 0 });
    const e = await experiments('abs');
    expect(e.get('c03')).toMatchObject({ absent: true, version: 1 });
    expect((await get('/v1/projects/abs/graph')).json().nodes.map((n: { key: string }) => n.key)).toEqual(['c01', 'c02', 'c04']);
    // The audit report counts the latest log only, and says how many rows are history.
    const report = (await get('/v1/projects/abs/report')).json();
    expect(report.summary).toMatchObject({ experiments: 3, absent: 1 });
    expect(report.dag.nodes.map((n: { key: string }) => n.key)).toEqual(['c01', 'c02', 'c04']);
    const md = (await t.app.inject({ method: 'GET', url: '/v1/projects/abs/report', headers: { accept: 'text/markdown' } })).body;
    expect(md).toContain('1 earlier row(s) are no longer in the latest results.tsv');
    // A premise absent from the latest log is not a premise.
    const onAbsent = await post('/v1/projects/abs/experiments', { key: 'j1', status: 'keep', value: 0.9, premises: ['c03'] });
    expect(onAbsent.statusCode).toBe(422);
    expect(onAbsent.json().errors[0].message).toContain('absent');
    // JSON posts never mark anything absent.
    expect((await post('/v1/projects/abs/experiments', { key: 'j2', status: 'keep', value: 0.9, premises: ['c04'] })).statusCode).toBe(201);
    const back = await tsv('abs', file(LOG.slice(0, 4)));
    expect(back.json()).toMatchObject({ restored: 1, absent: 0 });
    const after = await experiments('abs');
    expect(after.get('c03')).toMatchObject({ absent: false, version: 1 });
    expect(after.get('j2')).toMatchObject({ absent: false });
  });

  it('rolls back a whole batch whose edit closes a cycle (409), keeping the earlier version', async () => {
    await post('/v1/projects', { name: 'cyc', metric: { name: 'val_bpb', direction: 'minimize' } });
    await post('/v1/projects/cyc/experiments', [
      { key: 'x1', status: 'keep', value: 1 },
      { key: 'x2', status: 'keep', value: 0.9, premises: ['x1'] },
      { key: 'x3', status: 'keep', value: 0.8, premises: ['x2'] },
    ]);
    const r = await post('/v1/projects/cyc/experiments', [
      { key: 'x4', status: 'keep', value: 0.7, premises: ['x3'] },
      { key: 'x1', status: 'keep', value: 1, premises: ['x4'] },
    ]);
    expect(r.statusCode).toBe(409);
    expect(r.json()).toMatchObject({ code: 'conflict_cycle' });
    expect(r.json().cycle).toEqual(expect.arrayContaining(['x1', 'x2', 'x3', 'x4']));
    expect((await get('/v1/projects/cyc/experiments/x4')).statusCode).toBe(404);
    expect((await get('/v1/projects/cyc/experiments/x1')).json()).toMatchObject({ premises: [], version: 1 });
    expect((await get('/v1/projects/cyc/experiments/x1/versions')).json().items).toHaveLength(1);
  });

  it('hard-gates what stands on a premise that became a discard, naming it', async () => {
    await post('/v1/projects', { name: 'hg', metric: { name: 'val_bpb', direction: 'minimize' } });
    const rows = [
      { key: 'h1', status: 'keep', value: 1.0, replicates: [1.0, 1.003, 0.998] },
      { key: 'h2', status: 'keep', value: 0.95, premises: ['h1'], replicates: [0.95, 0.951, 0.949] },
      { key: 'h3', status: 'keep', value: 0.9, premises: ['h2'], replicates: [0.9, 0.901, 0.899] },
    ];
    expect((await post('/v1/projects/hg/experiments', rows)).statusCode).toBe(201);
    const before = (await post('/v1/projects/hg/gate', { experiment: 'h2' })).json();
    expect(before.reasons.map((r: { code: string }) => r.code)).not.toContain('premise_hard_gated');
    // The log is re-posted with h2 re-marked discard (its commit stayed under h3).
    const again = await post('/v1/projects/hg/experiments', rows.map((r) => (r.key === 'h2' ? { ...r, status: 'discard' } : r)));
    expect(again.json()).toMatchObject({ updated: 1 });
    const child = (await post('/v1/projects/hg/gate', { experiment: 'h3' })).json();
    expect(child.decision).toBe('reject');
    const named = child.reasons.filter((r: { message: string }) => r.message.includes('h2'));
    expect(named.length, JSON.stringify(child.reasons)).toBeGreaterThan(0);
  });

  it('replaying a log as it grew and was edited ends in the state of a fresh ingest of its last version', { timeout: 120_000 }, async () => {
    const renamed = (rows: string[]) => rows.map((r) => (r.startsWith('c02') ? r.replace('c02', 'c02b') : r));
    const v1 = LOG.slice(0, 3);
    const v2 = LOG.slice(0, 6); // grew
    const v3 = v2.map((r) => (r.startsWith('c04') ? r.replace('keep', 'discard') : r)); // keep → discard
    const v4 = [...v3, ...LOG.slice(6)].map((r) => (r.startsWith('c06') ? r.replace('rope base', 'rope base 50k') : r)); // grew, description edited
    const v5 = v4.map((r) => `${r}\ta100`); // a column added to every row
    const v6 = renamed(v5); // an earlier row renamed: later premises move
    const headerWide = `${HEADER}\tnode`;
    const final = await expectReplayEqualsFresh('replay', [file(v1), file(v2), file(v3), file(v4), file(v5, headerWide), file(v6, headerWide)]);
    expect(final.experiments.find((e) => e.key === 'c04')?.premises).toEqual(['c02b']);
    expect(final.nodes).not.toContain('c02');
    const old = (await get('/v1/projects/replay/experiments/c02')).json();
    expect(old).toMatchObject({ absent: true });
  });

  it.skipIf(SKIP_REAL)('replaying a real log as it grew (prefix by prefix) and was edited ends in the state of a fresh ingest', { timeout: 300_000 }, async () => {
    const lines = readFileSync(REAL_LOG, 'utf8').split('\n').filter((l) => l.trim() !== '');
    const [header, ...body] = lines;
    const cuts = [1, 2, 5, 13, 30, 60, 90, body.length - 1, body.length];
    const versions = cuts.map((n) => `${header}\n${body.slice(0, n).join('\n')}\n`);
    // Then the loop reverts its latest keep and marks it discard (an obey loop's reject).
    const last = body.map((l) => l.split('\t')[3]).lastIndexOf('keep');
    const reverted = body.map((l, i) => (i === last ? l.split('\t').map((c, j) => (j === 3 ? 'discard' : c)).join('\t') : l));
    versions.push(`${header}\n${reverted.join('\n')}\n`);
    const final = await expectReplayEqualsFresh('real', versions);
    expect(final.nodes.length).toBe(body.length);
  });
});
