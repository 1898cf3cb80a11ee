import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import { buildTestApp, projectBody, type TestApp } from '../helpers/app.js';

describe.each(ENGINES)('API foundation on %s', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(engine);
  });
  afterAll(async () => t?.close());

  const post = (url: string, payload: unknown) => t.app.inject({ method: 'POST', url, payload: payload as object });
  const get = (url: string) => t.app.inject({ method: 'GET', url });

  it('answers health and readiness', async () => {
    expect((await get('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await get('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', engine });
  });

  it('serves OpenAPI 3.1 with every route', async () => {
    const doc = (await get('/openapi.json')).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/projects', '/v1/projects/{project}/experiments', '/v1/projects/{project}/graph']));
  });

  it('creates a project with defaults, idempotently, and rejects a different definition', async () => {
    const r1 = await post('/v1/projects', projectBody('alpha'));
    expect(r1.statusCode).toBe(201);
    expect(r1.json()).toMatchObject({
      name: 'alpha',
      threshold: 0.6,
      weights: { reproduction: 0.4, statistics: 0.25, effect: 0.2, code: 0.15 },
      nu0: 2,
      reproduction: { replicates: 3, rounds: 1 },
    });
    const r2 = await post('/v1/projects', projectBody('alpha'));
    expect(r2.statusCode).toBe(200);
    const r3 = await post('/v1/projects', projectBody('alpha', { threshold: 0.9 }));
    expect(r3.statusCode).toBe(409);
    expect(r3.headers['content-type']).toContain('application/problem+json');
    expect(r3.json().code).toBe('conflict');
    expect((await get('/v1/projects/alpha')).json().name).toBe('alpha');
    expect((await get('/v1/projects')).json().items.map((p: { name: string }) => p.name)).toContain('alpha');
  });

  it('rejects bad projects with where and why', async () => {
    const bad = await post('/v1/projects', { name: 'Bad Name', metric: { name: 'x', direction: 'up' }, extra: 1 });
    expect(bad.statusCode).toBe(400);
    const body = bad.json();
    expect(body.code).toBe('validation_failed');
    const pointers = body.errors.map((e: { pointer: string }) => e.pointer);
    expect(pointers).toEqual(expect.arrayContaining(['/name', '/metric/direction', '/']));
    const weights = await post('/v1/projects', projectBody('beta', { weights: { reproduction: 0.5, statistics: 0.5, effect: 0.5, code: 0 } }));
    expect(weights.statusCode).toBe(400);
    expect(weights.json().errors[0]).toMatchObject({ pointer: '/weights' });
    expect((await get('/v1/projects/nope')).json()).toMatchObject({ code: 'not_found', status: 404 });
  });

  it('stores experiments one at a time and in batches, idempotently', async () => {
    await post('/v1/projects', projectBody('exp'));
    const root = await post('/v1/projects/exp/experiments', { key: 'a0', status: 'keep', value: 1.0 });
    expect(root.statusCode).toBe(201);
    const batch = [
      { key: 'a1', status: 'keep', value: 0.98, premises: ['a0'], description: 'wider' },
      { key: 'a2', status: 'discard', value: 1.01, premises: ['a1'] },
      { key: 'a3', status: 'crash', value: null, premises: ['a1'] },
    ];
    const r = await post('/v1/projects/exp/experiments', batch);
    expect(r.statusCode).toBe(201);
    expect(r.json()).toMatchObject({ created: 3, unchanged: 0 });
    const again = await post('/v1/projects/exp/experiments', batch);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ created: 0, unchanged: 3 });

    const one = (await get('/v1/projects/exp/experiments/a1')).json();
    expect(one).toMatchObject({ key: 'a1', status: 'keep', value: 0.98, premises: ['a0'], description: 'wider', anchored: false, reproductions: [] });
    expect(one.confidence.value).toBeGreaterThanOrEqual(0);
    expect(one.confidence.value).toBeLessThanOrEqual(1);
    expect(Object.keys(one.confidence.components).sort()).toEqual(['code', 'effect', 'reproduction', 'statistics']);
    expect(one.compounded).toBeLessThanOrEqual(one.confidence.value + 1e-12);
    expect((await get('/v1/projects/exp/experiments/a3')).json().hardGate).toBe('crash');

    const list = (await get('/v1/projects/exp/experiments?limit=2')).json();
    expect(list.items.map((e: { key: string }) => e.key)).toEqual(['a0', 'a1']);
    const page2 = (await get(`/v1/projects/exp/experiments?limit=2&after=${list.next}`)).json();
    expect(page2.items.map((e: { key: string }) => e.key)).toEqual(['a2', 'a3']);
    const crashes = (await get('/v1/projects/exp/experiments?status=crash')).json();
    expect(crashes.items.map((e: { key: string }) => e.key)).toEqual(['a3']);

    const graph = (await get('/v1/projects/exp/graph')).json();
    expect(graph.nodes).toHaveLength(4);
    expect(graph.edges).toEqual(expect.arrayContaining([{ from: 'a0', to: 'a1' }, { from: 'a1', to: 'a2' }, { from: 'a1', to: 'a3' }]));
  });

  it('rejects unknown premises and cycles, writing nothing; changed content is a new version', async () => {
    await post('/v1/projects', projectBody('err'));
    await post('/v1/projects/err/experiments', [
      { key: 'r', status: 'keep', value: 1 },
      { key: 's', status: 'keep', value: 0.9, premises: ['r'] },
    ]);
    // SPEC §7 (issue 15 §1): a key stored with other content is a new version, never a 409.
    const edited = await post('/v1/projects/err/experiments', { key: 's', status: 'keep', value: 0.5, premises: ['r'] });
    expect(edited.statusCode).toBe(200);
    expect(edited.json()).toMatchObject({ created: 0, updated: 1, items: [{ key: 's', version: 2 }] });
    expect((await get('/v1/projects/err/experiments/s')).json()).toMatchObject({ value: 0.5, version: 2 });
    const dup = await post('/v1/projects/err/experiments', [
      { key: 'd', status: 'keep', value: 1 },
      { key: 'd', status: 'keep', value: 2 },
    ]);
    expect(dup.statusCode).toBe(409);
    expect(dup.json().code).toBe('conflict');

    const unknown = await post('/v1/projects/err/experiments', [
      { key: 't', status: 'keep', value: 0.8, premises: ['s'] },
      { key: 'u', status: 'keep', value: 0.7, premises: ['ghost'] },
    ]);
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json()).toMatchObject({ code: 'unknown_premise', errors: [{ pointer: '/1/premises/0' }] });
    expect((await get('/v1/projects/err/experiments/t')).statusCode).toBe(404);

    const batchCycle = await post('/v1/projects/err/experiments', [
      { key: 'x', status: 'keep', value: 1, premises: ['y'] },
      { key: 'y', status: 'keep', value: 1, premises: ['x'] },
    ]);
    expect(batchCycle.statusCode).toBe(409);
    expect(batchCycle.json().code).toBe('conflict_cycle');
    expect(batchCycle.json().cycle).toHaveLength(3);

    const edgeCycle = await post('/v1/projects/err/edges', { edges: [{ from: 's', to: 'r' }] });
    expect(edgeCycle.statusCode).toBe(409);
    expect(edgeCycle.json()).toMatchObject({ code: 'conflict_cycle', cycle: ['r', 's', 'r'] });
    const selfLoop = await post('/v1/projects/err/edges', { edges: [{ from: 'r', to: 'r' }] });
    expect(selfLoop.json().code).toBe('conflict_cycle');

    const edgeUnknown = await post('/v1/projects/err/edges', { edges: [{ from: 'r', to: 'nobody' }] });
    expect(edgeUnknown.statusCode).toBe(422);

    const graph = (await get('/v1/projects/err/graph')).json();
    expect(graph.nodes.map((n: { key: string }) => n.key).sort()).toEqual(['r', 's']);
    expect(graph.edges).toEqual([{ from: 'r', to: 's' }]);
  });

  it('re-marks a reverted keep as discard as a new version, also one that others build on', async () => {
    await post('/v1/projects', projectBody('amend'));
    await post('/v1/projects/amend/experiments', [
      { key: 'm0', status: 'keep', value: 1 },
      { key: 'm1', status: 'keep', value: 0.9, premises: ['m0'], description: 'lucky' },
    ]);
    const r = await post('/v1/projects/amend/experiments', { key: 'm1', status: 'discard', value: 0.9, premises: ['m0'], description: 'lucky' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ created: 0, updated: 1 });
    expect((await get('/v1/projects/amend/experiments/m1')).json()).toMatchObject({ status: 'discard', hardGate: 'discard', version: 2 });
    const again = await post('/v1/projects/amend/experiments', { key: 'm1', status: 'discard', value: 0.9, premises: ['m0'], description: 'lucky' });
    expect(again.json()).toMatchObject({ created: 0, unchanged: 1, updated: 0 });
    const built = await post('/v1/projects/amend/experiments', { key: 'm0', status: 'discard', value: 1 });
    expect(built.statusCode).toBe(200);
    expect((await get('/v1/projects/amend/experiments/m0')).json()).toMatchObject({ status: 'discard', hardGate: 'discard', version: 2 });
    const versions = (await get('/v1/projects/amend/experiments/m1/versions')).json();
    expect(versions.items.map((v: { version: number; changed: string[] }) => [v.version, v.changed])).toEqual([
      [1, []],
      [2, ['status']],
    ]);
  });

  it('adds edges idempotently and updates the premises', async () => {
    await post('/v1/projects', projectBody('edg'));
    await post('/v1/projects/edg/experiments', [
      { key: 'p', status: 'keep', value: 1 },
      { key: 'q', status: 'keep', value: 0.9 },
    ]);
    const r = await post('/v1/projects/edg/edges', { edges: [{ from: 'p', to: 'q' }] });
    expect(r.json()).toEqual({ added: 1, unchanged: 0 });
    const again = await post('/v1/projects/edg/edges', { edges: [{ from: 'p', to: 'q' }] });
    expect(again.json()).toEqual({ added: 0, unchanged: 1 });
    expect((await get('/v1/projects/edg/experiments/q')).json().premises).toEqual(['p']);
  });

  it('rejects malformed bodies with 4xx problems, never 500', async () => {
    await post('/v1/projects', projectBody('bad'));
    const cases: [unknown, number][] = [
      [{ key: 'k', status: 'keep', value: 'high' }, 400],
      [{ key: 'k', status: 'maybe' }, 400],
      [{ key: 'k', status: 'keep', surprise: true }, 400],
      [{ key: 'has space', status: 'keep' }, 400],
      [[], 400],
      [{}, 400],
    ];
    for (const [body, status] of cases) {
      const r = await post('/v1/projects/bad/experiments', body);
      expect(r.statusCode, JSON.stringify(body)).toBe(status);
      expect(r.json().code).toBe('validation_failed');
    }
    const notJson = await t.app.inject({ method: 'POST', url: '/v1/projects/bad/experiments', payload: '{"key":', headers: { 'content-type': 'application/json' } });
    expect(notJson.statusCode).toBe(400);
    const tooMany = await post('/v1/projects/bad/experiments', Array.from({ length: 10_001 }, (_, i) => ({ key: `k${i}`, status: 'discard' })));
    expect(tooMany.statusCode).toBe(400);
    const missing = await post('/v1/projects/none/experiments', { key: 'k', status: 'keep' });
    expect(missing.statusCode).toBe(404);
    const route = await get('/v1/nothing');
    expect(route.json()).toMatchObject({ code: 'not_found' });
    expect((await get('/v1/projects/bad/experiments')).json().items).toEqual([]);
  });

  it('accepts a 10,000-experiment batch in one transaction', async () => {
    await post('/v1/projects', projectBody('big'));
    const batch = Array.from({ length: 10_000 }, (_, i) => ({
      key: `e${i}`,
      status: i % 3 === 0 ? 'keep' : 'discard',
      value: 1 - i * 1e-5 + (i % 7) * 1e-4,
      premises: i === 0 ? [] : [`e${Math.floor((i - 1) / 3) * 3}`],
    }));
    const r = await post('/v1/projects/big/experiments', batch);
    expect(r.statusCode).toBe(201);
    expect(r.json().created).toBe(10_000);
    const last = (await get('/v1/projects/big/experiments/e9999')).json();
    expect(last.premises).toEqual(['e9996']);
    expect(last.compounded).not.toBeNull();
  });
});
