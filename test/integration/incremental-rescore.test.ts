import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPremiseGraph, recomputeCompounded } from '../../src/domain/cascade/index.js';
import { REFIT_ALWAYS_BELOW, scoreProject } from '../../src/domain/scoring/index.js';
import { findProject } from '../../src/db/projects.repository.js';
import { reproductionsOf } from '../../src/db/experiments.repository.js';
import { listScoringRows } from '../../src/db/scoring.repository.js';
import { rescoreAffected, toObserved } from '../../src/services/scoring.service.js';
import { buildTestApp, postOk, projectBody, type TestApp } from '../helpers/app.js';
import { ENGINES } from '../helpers/db.js';

/**
 * Between refits of the statistics (SPEC §3: on 10% growth) a write rescores only what it
 * affects (SPEC §4). Oracle: every stored score and K equal what scoring the whole project
 * under the stored statistics gives, after each write.
 */
describe.each(ENGINES)('incremental rescoring on %s', (engine) => {
  let t: TestApp;
  const name = 'inc';
  beforeAll(async () => {
    t = await buildTestApp(engine);
    await postOk(t.app, '/v1/projects', projectBody(name, { sigma0: 0.004, nu0: 20 }));
  });
  afterAll(async () => t?.close());

  /** Stored scores and K against the whole project scored in memory under the stored statistics. */
  async function expectStoredEqualsWhole(): Promise<number> {
    const db = t.db.handle.db;
    const project = (await findProject(db, name))!;
    const rows = await listScoringRows(db, project.id);
    const reps = await reproductionsOf(db, rows.map((e) => e.id));
    const observed = rows.map((e) => toObserved(e, reps));
    const scores = scoreProject({ project: project.config, experiments: observed, stats: project.stats! });
    for (const e of rows) expect(e.score, e.key).toEqual(scores.get(e.key));
    const graph = buildPremiseGraph(rows.map((e) => ({ key: e.key, premises: e.premises, confidence: scores.get(e.key)!.value, anchored: scores.get(e.key)!.anchorEligible, hardGate: scores.get(e.key)!.hardGate })));
    const ks = recomputeCompounded(graph, rows.map((e) => e.key));
    for (const e of rows) expect(e.cascade?.compounded, e.key).toBeCloseTo(ks.get(e.key)!.compounded, 12);
    return project.stats!.version;
  }

  const N = REFIT_ALWAYS_BELOW + 40;
  const v = (i: number) => 1 - 0.002 * i + 0.003 * Math.sin(i * 1.7);
  it('stores what a whole-project scoring gives after each write that does not refit', { timeout: 120_000 }, async () => {
    // A chain of REFIT_ALWAYS_BELOW + 40 rows (keeps every third row, discards on the current head
    // between), so that single rows after it do not refit; then single rows.
    const rows: { key: string; status: string; value: number; premises?: string[] }[] = [];
    let head: string | null = null;
    for (let i = 0; i < N; i++) {
      const status = i % 3 === 0 ? 'keep' : 'discard';
      rows.push({ key: `e${i}`, status, value: v(i), ...(head ? { premises: [head] } : {}) });
      if (status === 'keep') head = `e${i}`;
    }
    await postOk(t.app, `/v1/projects/${name}/experiments`, rows);
    const fitted = await expectStoredEqualsWhole();
    for (let i = N; i < N + 3; i++) {
      const status = i === N + 1 ? 'keep' : 'discard';
      await postOk(t.app, `/v1/projects/${name}/experiments`, { key: `e${i}`, status, value: v(i), premises: [head] });
      if (status === 'keep') head = `e${i}`;
      expect(await expectStoredEqualsWhole(), 'statistics held (no refit below 10% growth)').toBe(fitted);
    }
    // A premise edge that makes a diamond: K of what stands on it counts the shared ancestors once.
    await postOk(t.app, `/v1/projects/${name}/edges`, { edges: [{ from: 'e3', to: `e${N + 2}` }] });
    expect(await expectStoredEqualsWhole()).toBe(fitted);
  });

  it('takes the incremental path when the stored scores carry what it needs', async () => {
    const db = t.db.handle.db;
    const out = await db.transaction().execute(async (trx) => {
      const project = (await findProject(trx, name))!;
      const [leaf] = (await listScoringRows(trx, project.id)).slice(-1);
      return rescoreAffected(trx, project, [leaf.id]);
    });
    expect(out).toEqual({ scored: 0, cascaded: 0 }); // nothing changed, and it did not fall back (null)
  });
});
