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

  it('accepts a clear gain, reproduces an unclear one, answers level and bar, and records every call', async () => {
    await post('/v1/projects', projectBody('gt', { sigma0: 0.01, nu0: 50 }));
    await post('/v1/projects/gt/experiments', [
      { key: 'g0', status: 'keep', value: 1.0, replicates: [1.005, 0.995, 1.0] },
      { key: 'big', status: 'keep', value: 0.94, premises: ['g0'] },
      { key: 'mid', status: 'keep', value: 0.98, premises: ['g0'] },
    ]);
    const big = await exp('gt', 'big');
    const clear = (await post('/v1/projects/gt/gate', { experiment: 'big' })).json();
    expect(clear.decision).toBe('accept');
    expect(clear.compounded).toBeCloseTo(big.compounded, 12);
    expect(clear.confidence.components.statistics).toBeGreaterThanOrEqual(0.92);
    expect(clear.level.mean).toBeLessThan(0.95);
    // The bar: the accepted head's level minus 1.5σ̂ (minimize), not its recorded value.
    expect(clear.head).toBe('big');
    expect(clear.bar).toBeCloseTo(clear.level.mean - 1.5 * big.confidence.sigma, 12);
    const unclear = (await post('/v1/projects/gt/gate', { experiment: 'mid' })).json();
    expect(unclear.decision).toBe('reanchor');
    expect(unclear.reanchor.jobs).toHaveLength(1);
    expect(unclear.reasons.map((r: { code: string }) => r.code)).toEqual(expect.arrayContaining([expect.stringMatching(/^reproduce_/)]));
    // Real but the call asks for K ≥ 1: reproduce the experiment itself to anchor it.
    const strict = (await post('/v1/projects/gt/gate', { experiment: 'big', threshold: 1 })).json();
    expect(strict.decision).toBe('reanchor');
    expect(strict.reanchor.jobs).toEqual([expect.objectContaining({ experiment: 'big', purpose: 'anchor', state: 'queued' })]);
    expect(strict.reasons.map((r: { code: string }) => r.code)).toEqual(expect.arrayContaining(['below_threshold', 'reanchor_candidate']));
    const check = await get('/v1/projects/gt/experiments/big/gate');
    expect(check.decision).toBe('accept');
    const log = await get('/v1/projects/gt/gate-decisions');
    expect(log.items.map((i: { decision: string }) => i.decision)).toEqual(['accept', 'reanchor', 'reanchor', 'accept']);
    expect(log.items[0]).toMatchObject({ experiment: 'big', caller: 'anonymous', inputs: { experiment: 'big' } });
    expect(log.items[3].inputs.readOnly).toBe(true);
    const bar = await get('/v1/projects/gt/bar');
    expect(bar).toMatchObject({ project: 'gt', head: 'big', direction: 'minimize', margin: 1.5 });
    const missing = await post('/v1/projects/gt/gate', { experiment: 'nope' });
    expect(missing.statusCode).toBe(404);
  });
});
