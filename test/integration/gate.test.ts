import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import { buildTestApp, projectBody, type TestApp } from '../helpers/app.js';

describe.each(ENGINES)('cascade and gate on %s', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(engine);
  });
  afterAll(async () => t?.close());

  const post = (url: string, payload: unknown) => t.app.inject({ method: 'POST', url, payload: payload as object });
  const get = async (url: string) => (await t.app.inject({ method: 'GET', url })).json();
  const exp = (p: string, k: string) => get(`/v1/projects/${p}/experiments/${k}`);

  it('compounds a chain of three as the product of C', async () => {
    await post('/v1/projects', projectBody('chain'));
    await post('/v1/projects/chain/experiments', [
      { key: 'a', status: 'keep', value: 1.0 },
      { key: 'b', status: 'keep', value: 0.97, premises: ['a'] },
      { key: 'c', status: 'keep', value: 0.95, premises: ['b'] },
    ]);
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((k) => exp('chain', k)));
    expect(a.compounded).toBeCloseTo(a.confidence.value, 12);
    expect(b.compounded).toBeCloseTo(a.confidence.value * b.confidence.value, 12);
    expect(c.compounded).toBeCloseTo(a.confidence.value * b.confidence.value * c.confidence.value, 12);
    const minC = Math.min(a.confidence.value, b.confidence.value, c.confidence.value);
    expect(c.weakest.confidence).toBeCloseTo(minC, 12);
  });

  it('counts a diamond ancestor once', async () => {
    await post('/v1/projects', projectBody('diamond'));
    await post('/v1/projects/diamond/experiments', [
      { key: 'r', status: 'keep', value: 1.0 },
      { key: 'l', status: 'keep', value: 0.98, premises: ['r'] },
      { key: 'm', status: 'keep', value: 0.985, premises: ['r'] },
      { key: 'j', status: 'keep', value: 0.96, premises: ['l', 'm'] },
    ]);
    const n = Object.fromEntries(await Promise.all(['r', 'l', 'm', 'j'].map(async (k) => [k, await exp('diamond', k)])));
    const C = (k: string) => n[k].confidence.value as number;
    expect(n.j.compounded).toBeCloseTo(C('r') * C('l') * C('m') * C('j'), 12);
  });

  it('rejects what stands on a crash or discard, with the reason', async () => {
    await post('/v1/projects', projectBody('hard'));
    await post('/v1/projects/hard/experiments', [
      { key: 'root', status: 'keep', value: 1.0 },
      { key: 'boom', status: 'crash', value: null, premises: ['root'] },
      { key: 'drop', status: 'discard', value: 1.02, premises: ['root'] },
      { key: 'onboom', status: 'keep', value: 0.9, premises: ['boom'] },
      { key: 'ondrop', status: 'keep', value: 0.9, premises: ['drop'] },
    ]);
    const own = (await post('/v1/projects/hard/gate', { experiment: 'boom' })).json();
    expect(own.decision).toBe('reject');
    expect(own.reasons.map((r: { code: string }) => r.code)).toContain('hard_gate_crash');
    for (const [k, code] of [['onboom', 'crash'], ['ondrop', 'discard']] as const) {
      const g = (await post('/v1/projects/hard/gate', { experiment: k })).json();
      expect(g.decision).toBe('reject');
      const reason = g.reasons.find((r: { code: string }) => r.code === 'premise_hard_gated');
      expect(reason.message).toContain(code);
    }
  });

  it('accepts above threshold, otherwise reanchors, and records every call', async () => {
    await post('/v1/projects', projectBody('gt'));
    await post('/v1/projects/gt/experiments', [
      { key: 'g0', status: 'keep', value: 1.0 },
      { key: 'g1', status: 'keep', value: 0.9, premises: ['g0'] },
    ]);
    const g1 = await exp('gt', 'g1');
    const low = (await post('/v1/projects/gt/gate', { experiment: 'g1', threshold: 0 })).json();
    expect(low.decision).toBe('accept');
    expect(low.compounded).toBeCloseTo(g1.compounded, 12);
    const high = (await post('/v1/projects/gt/gate', { experiment: 'g1', threshold: 1 })).json();
    expect(high.decision).toBe('reanchor');
    expect(high.reanchor.candidate).not.toBeNull();
    expect(high.reasons.map((r: { code: string }) => r.code)).toEqual(expect.arrayContaining(['below_threshold', 'weakest_link']));
    const check = await get('/v1/projects/gt/experiments/g1/gate?threshold=0');
    expect(check.decision).toBe('accept');
    const log = await get('/v1/projects/gt/gate-decisions');
    expect(log.items.map((i: { decision: string }) => i.decision)).toEqual(['accept', 'reanchor', 'accept']);
    expect(log.items[0]).toMatchObject({ experiment: 'g1', caller: 'anonymous', inputs: { experiment: 'g1', threshold: 0 } });
    expect(log.items[2].inputs.readOnly).toBe(true);
    const missing = await post('/v1/projects/gt/gate', { experiment: 'nope' });
    expect(missing.statusCode).toBe(404);
  });
});
