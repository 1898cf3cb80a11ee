import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import { buildTestApp, projectBody, type TestApp } from '../helpers/app.js';

const ADMIN = 'project-config-admin-token-abcdef';

describe.each(ENGINES)('project config as code and the gate threshold on %s', (engine) => {
  let t: TestApp;
  let loop: string;
  beforeAll(async () => {
    t = await buildTestApp(engine, { ECV_AUTH: 'on', ECV_ADMIN_TOKEN: ADMIN });
    const r = await call('POST', '/v1/projects', ADMIN, projectBody('cfg'));
    expect(r.statusCode).toBe(201);
    const tok = await call('POST', '/v1/tokens', ADMIN, { role: 'loop', projects: ['cfg'] });
    loop = tok.json().token;
    // A project made by curl: no protected paths; `edit` touches prepare.py.
    const w = await call('POST', '/v1/projects/cfg/experiments', loop, [
      { key: 'base', status: 'keep', value: 1.0 },
      { key: 'edit', status: 'keep', value: 0.9, premises: ['base'], code: { paths: [{ path: 'prepare.py', added: 2, removed: 1 }] } },
    ]);
    expect(w.statusCode).toBe(201);
  });
  afterAll(async () => t?.close());

  function call(method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, token: string, payload?: unknown) {
    return t.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload !== undefined ? { payload: payload as object } : {}) });
  }
  const config = async () => (await call('GET', '/v1/projects/cfg', ADMIN)).json();
  const experiment = async (k: string) => (await call('GET', `/v1/projects/cfg/experiments/${k}`, ADMIN)).json();

  it('PUT replaces the config, answers the diff, bumps configVersion and rescores in the same call', async () => {
    expect((await config()).configVersion).toBe(1);
    expect((await experiment('edit')).hardGate).toBeNull();
    const body = { ...projectBody('cfg'), protectedPaths: ['prepare.py'] };
    const r = await call('PUT', '/v1/projects/cfg', ADMIN, body);
    expect(r.statusCode, r.body).toBe(200);
    const out = r.json();
    expect(out.configVersion).toBe(2);
    expect(out.rescored).toBe(true);
    expect(out.changed).toEqual([{ field: 'protectedPaths', from: [], to: ['prepare.py'] }]);
    expect(out.project).toMatchObject({ name: 'cfg', protectedPaths: ['prepare.py'], configVersion: 2 });
    expect((await config()).configVersion).toBe(2);
    expect((await experiment('edit')).hardGate).toBe('protected_path');
    const g = await call('POST', '/v1/projects/cfg/gate', loop, { experiment: 'edit' });
    expect(g.json().decision).toBe('reject');

    const again = (await call('PUT', '/v1/projects/cfg', ADMIN, body)).json();
    expect(again).toMatchObject({ configVersion: 2, changed: [], rescored: false });
  });

  it('PATCH changes fields (merge patch, null resets), rescoring only for scoring inputs', async () => {
    const cmd = (await call('PATCH', '/v1/projects/cfg', ADMIN, { reproduction: { command: 'uv run train.py' } })).json();
    expect(cmd).toMatchObject({ configVersion: 3, rescored: false, changed: [{ field: 'reproduction.command', from: '', to: 'uv run train.py' }] });
    const before = (await experiment('base')).confidence.sigma;
    const s = await call('PATCH', '/v1/projects/cfg', ADMIN, { sigma0: 0.05, sMin: 0.9 });
    expect(s.statusCode, s.body).toBe(200);
    expect(s.json()).toMatchObject({ configVersion: 4, rescored: true });
    expect(s.json().changed.map((c: { field: string }) => c.field)).toEqual(['sMin', 'sigma0']);
    expect((await config()).sigma0).toBe(0.05);
    expect((await experiment('base')).confidence.sigma).not.toBe(before);
    const reset = (await call('PATCH', '/v1/projects/cfg', ADMIN, { sigma0: null })).json();
    expect(reset.changed).toEqual([{ field: 'sigma0', from: 0.05 }]);
    expect(reset.project.sigma0).toBeUndefined();
    expect(reset.project.reproduction.command).toBe('uv run train.py');
  });

  it('bad input answers 400 problem+json with pointers and writes nothing', async () => {
    const version = (await config()).configVersion;
    const cases: [method: 'PUT' | 'PATCH', body: unknown, pointer: string][] = [
      ['PUT', { ...projectBody('cfg'), weights: { reproduction: 0.9, statistics: 0.9 } }, '/weights'],
      ['PUT', { ...projectBody('cfg'), threshold: 2 }, '/threshold'],
      ['PUT', { ...projectBody('other') }, '/name'],
      ['PUT', { metric: { name: 'x', direction: 'up' } }, '/'],
      ['PATCH', { bogus: 1 }, '/'],
      ['PATCH', { weights: { code: 0.9 } }, '/weights'],
      ['PATCH', { reproduction: { metricPattern: 'no group' } }, '/reproduction/metricPattern'],
      ['PATCH', {}, '/'],
    ];
    for (const [method, body, pointer] of cases) {
      const r = await call(method, '/v1/projects/cfg', ADMIN, body);
      expect(r.statusCode, `${method} ${JSON.stringify(body)}: ${r.body}`).toBe(400);
      expect(r.headers['content-type']).toContain('application/problem+json');
      expect(r.json().code).toBe('validation_failed');
      expect(r.json().errors.map((e: { pointer: string }) => e.pointer), JSON.stringify(body)).toContain(pointer);
    }
    expect((await config()).configVersion).toBe(version);
    expect((await call('PUT', '/v1/projects/nope', ADMIN, projectBody('nope'))).statusCode).toBe(404);
  });

  it('only admin tokens change the config', async () => {
    for (const method of ['PUT', 'PATCH'] as const) {
      const r = await call(method, '/v1/projects/cfg', loop, method === 'PUT' ? projectBody('cfg') : { threshold: 0 });
      expect(r.statusCode).toBe(403);
      expect(r.json().code).toBe('forbidden');
    }
  });

  it('a loop token may raise the gate threshold, never lower it; the decision records who set it', async () => {
    const threshold = (await config()).threshold as number;
    const low = await call('POST', '/v1/projects/cfg/gate', loop, { experiment: 'base', threshold: 0 });
    expect(low.statusCode).toBe(403);
    expect(low.headers['content-type']).toContain('application/problem+json');
    expect(low.json()).toMatchObject({ code: 'forbidden' });
    expect(low.json().detail).toMatch(/admin token/);
    const lowCheck = await call('GET', '/v1/projects/cfg/experiments/base/gate?threshold=0', loop);
    expect(lowCheck.statusCode).toBe(403);

    const high = await call('POST', '/v1/projects/cfg/gate', loop, { experiment: 'base', threshold: 0.99 });
    expect(high.statusCode, high.body).toBe(200);
    expect(high.json()).toMatchObject({ threshold: 0.99, thresholdSource: 'caller' });
    const plain = (await call('POST', '/v1/projects/cfg/gate', loop, { experiment: 'base' })).json();
    expect(plain).toMatchObject({ threshold, thresholdSource: 'project' });
    const admin = (await call('POST', '/v1/projects/cfg/gate', ADMIN, { experiment: 'base', threshold: 0 })).json();
    expect(admin).toMatchObject({ threshold: 0, thresholdSource: 'admin' });

    const log = (await call('GET', '/v1/projects/cfg/gate-decisions?experiment=base', ADMIN)).json().items;
    expect(log.map((d: { threshold: number; thresholdSource: string }) => [d.threshold, d.thresholdSource])).toEqual([
      [0.99, 'caller'],
      [threshold, 'project'],
      [0, 'admin'],
    ]);
  });
});
