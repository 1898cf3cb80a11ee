import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { sql } from 'kysely';
import '../../src/http/types.js';
import { ENGINES, createTestDb } from '../helpers/db.js';
import { buildTestApp, projectBody, type TestApp } from '../helpers/app.js';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/app.js';
import problemErrors from '../../src/http/plugins/problem-errors.js';
import rateLimitPlugin from '../../src/http/plugins/rate-limit.js';
import authPlugin, { bearerOf } from '../../src/http/plugins/auth.js';
import { createToken, ensureAdminToken } from '../../src/services/tokens.service.js';
import type { Deps } from '../../src/services/deps.js';

const ADMIN = 'auth-test-admin-token-abcdef';
const bearer = (secret?: string) => (secret ? { authorization: `Bearer ${secret}` } : {});

describe.each(ENGINES)('tokens and scoping on %s', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(engine, { ECV_AUTH: 'on', ECV_ADMIN_TOKEN: ADMIN });
    for (const p of ['alpha', 'beta']) {
      await req('POST', '/v1/projects', ADMIN, projectBody(p));
      await req('POST', `/v1/projects/${p}/experiments`, ADMIN, [
        { key: 'r', status: 'keep', value: 1 },
        { key: 's', status: 'keep', value: 0.97, premises: ['r'] },
      ]);
    }
  });
  afterAll(async () => t?.close());

  function req(method: string, url: string, secret?: string, payload?: unknown) {
    return t.app.inject({
      method: method as 'GET',
      url,
      headers: bearer(secret),
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
  }
  async function newToken(body: Record<string, unknown>) {
    const r = await req('POST', '/v1/tokens', ADMIN, body);
    expect(r.statusCode, r.body).toBe(201);
    return r.json() as { id: string; token: string; role: string; projects: string[] };
  }
  async function experimentCount(project: string): Promise<number> {
    const row = await t.db.handle.db
      .selectFrom('experiments')
      .innerJoin('projects', 'projects.id', 'experiments.project_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('projects.name', '=', project)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  it('creates tokens shown once and stores only their sha256', async () => {
    const created = await newToken({
      role: 'loop',
      projects: ['beta', 'alpha', 'alpha'],
      label: 'nightly loop',
    });
    expect(created).toMatchObject({
      role: 'loop',
      projects: ['alpha', 'beta'],
      label: 'nightly loop',
    });
    expect(created.token).toMatch(/^ecv_[A-Za-z0-9_-]{43}$/);
    expect(created.id).toMatch(/^[0-9a-f]{12}$/);

    const rows = await sql<Record<string, unknown>>`SELECT * FROM tokens`.execute(t.db.handle.db);
    const dump = JSON.stringify(rows.rows);
    expect(dump).not.toContain(created.token);
    expect(dump).not.toContain(created.token.slice(4));
    const row = rows.rows.find((r) => r.id === created.id)!;
    expect(row.hash).toBe(createHash('sha256').update(created.token).digest('hex'));

    const list = await req('GET', '/v1/tokens', ADMIN);
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(created.token);
    expect(list.body).not.toContain(String(row.hash));
    expect(list.json().items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: created.id, role: 'loop', revokedAt: null }),
      ]),
    );
    for (const item of list.json().items)
      expect(Object.keys(item).sort()).toEqual([
        'createdAt',
        'id',
        'label',
        'projects',
        'revokedAt',
        'role',
      ]);
  });

  it('validates token requests', async () => {
    const bad: [unknown, string][] = [
      [{ role: 'loop' }, '/projects'],
      [{ role: 'loop', projects: [] }, '/projects'],
      [{ role: 'admin', projects: ['alpha'] }, '/projects'],
      [{ role: 'root', projects: ['alpha'] }, '/role'],
      [{ role: 'reader', projects: ['Not A Name'] }, '/projects/0'],
      [{ role: 'reader', projects: Array.from({ length: 101 }, (_, i) => `p${i}`) }, '/projects'],
      [{ role: 'reader', projects: ['alpha'], secret: 'x' }, '/'],
      [{ role: 'reader', projects: ['alpha'], label: 'x'.repeat(201) }, '/label'],
    ];
    for (const [body, pointer] of bad) {
      const r = await req('POST', '/v1/tokens', ADMIN, body);
      expect(r.statusCode, JSON.stringify(body)).toBe(400);
      expect(r.json().code).toBe('validation_failed');
      expect(r.json().errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
    }
    const admin = await newToken({ role: 'admin' });
    expect(admin.projects).toEqual([]);
    expect((await req('GET', '/v1/tokens', admin.token)).statusCode).toBe(200);
    expect((await newToken({ role: 'runner', projects: ['alpha', '*'] })).projects).toEqual(['*']);
  });

  it('revokes tokens: 204, idempotent, then 401', async () => {
    const tok = await newToken({ role: 'reader', projects: ['alpha'] });
    expect((await req('GET', '/v1/projects/alpha', tok.token)).statusCode).toBe(200);
    expect((await req('DELETE', `/v1/tokens/${tok.id}`, ADMIN)).statusCode).toBe(204);
    const after = await req('GET', '/v1/projects/alpha', tok.token);
    expect(after.statusCode).toBe(401);
    expect(after.json().code).toBe('unauthorized');
    expect(after.headers['www-authenticate']).toContain('invalid_token');
    expect((await req('DELETE', `/v1/tokens/${tok.id}`, ADMIN)).statusCode).toBe(204);
    expect((await req('DELETE', '/v1/tokens/doesnotexist', ADMIN)).json()).toMatchObject({
      status: 404,
      code: 'not_found',
    });
    const listed = (await req('GET', '/v1/tokens?limit=1000', ADMIN))
      .json()
      .items.find((i: { id: string }) => i.id === tok.id);
    expect(listed.revokedAt).toEqual(expect.any(String));
  });

  it('keeps a token for project A out of project B, as if B did not exist', async () => {
    const a = await newToken({ role: 'loop', projects: ['alpha'] });
    expect((await req('GET', '/v1/projects/alpha/experiments', a.token)).json().items).toHaveLength(
      2,
    );
    const urls = [
      '/v1/projects/beta',
      '/v1/projects/beta/experiments',
      '/v1/projects/beta/experiments/s',
      '/v1/projects/beta/graph',
      '/v1/projects/beta/gate-decisions',
      '/v1/projects/beta/experiments/s/gate',
    ];
    for (const url of urls) {
      const other = await req('GET', url, a.token);
      const missing = await req('GET', url.replace('beta', 'nosuch'), ADMIN);
      expect(other.statusCode, url).toBe(404);
      const strip = (b: Record<string, unknown>) => ({
        ...b,
        instance: undefined,
        detail: String(b.detail).replace(/'(beta|nosuch)'/, "'?'"),
      });
      expect(strip(other.json()), url).toEqual(strip(missing.json()));
    }
    const before = await experimentCount('beta');
    const w = await req('POST', '/v1/projects/beta/experiments', a.token, {
      key: 'intruder',
      status: 'keep',
      value: 0.1,
      premises: ['s'],
    });
    expect(w.statusCode).toBe(404);
    expect(
      (await req('POST', '/v1/projects/beta/edges', a.token, { edges: [{ from: 'r', to: 's' }] }))
        .statusCode,
    ).toBe(404);
    expect(
      (await req('POST', '/v1/projects/beta/gate', a.token, { experiment: 's' })).statusCode,
    ).toBe(404);
    expect(await experimentCount('beta')).toBe(before);

    const names = (await req('GET', '/v1/projects', a.token))
      .json()
      .items.map((p: { name: string }) => p.name);
    expect(names).toEqual(['alpha']);
    const all = await newToken({ role: 'reader', projects: ['*'] });
    expect(
      (await req('GET', '/v1/projects', all.token))
        .json()
        .items.map((p: { name: string }) => p.name),
    ).toEqual(expect.arrayContaining(['alpha', 'beta']));
    expect((await req('GET', '/v1/projects/beta/graph', all.token)).statusCode).toBe(200);
  });

  it('enforces roles: runner cannot write experiments, reader cannot gate, loop cannot administer', async () => {
    const runner = await newToken({ role: 'runner', projects: ['alpha'] });
    const reader = await newToken({ role: 'reader', projects: ['alpha'] });
    const loop = await newToken({ role: 'loop', projects: ['alpha'] });
    const before = await experimentCount('alpha');
    const cases: [string, string, string, unknown][] = [
      [
        runner.token,
        'POST',
        '/v1/projects/alpha/experiments',
        { key: 'x', status: 'keep', value: 1 },
      ],
      [runner.token, 'GET', '/v1/projects/alpha/experiments', undefined],
      [reader.token, 'POST', '/v1/projects/alpha/gate', { experiment: 's' }],
      [
        reader.token,
        'POST',
        '/v1/projects/alpha/experiments',
        { key: 'x', status: 'keep', value: 1 },
      ],
      [loop.token, 'POST', '/v1/projects', projectBody('gamma')],
      [loop.token, 'GET', '/v1/tokens', undefined],
      [loop.token, 'POST', '/v1/tokens', { role: 'admin' }],
      [loop.token, 'POST', '/v1/runners/lease', { runner: 'r1' }],
    ];
    for (const [secret, method, url, body] of cases) {
      const r = await req(method, url, secret, body);
      expect(r.statusCode, `${method} ${url}`).toBe(403);
      expect(r.json().code).toBe('forbidden');
    }
    expect(await experimentCount('alpha')).toBe(before);
    expect((await req('GET', '/v1/projects/gamma', ADMIN)).statusCode).toBe(404);
  });

  it('pages a scoped token through its own projects only (the scope filters before the limit)', async () => {
    for (const p of ['a1', 'a2', 'a3', 'z9']) await req('POST', '/v1/projects', ADMIN, projectBody(p));
    const scoped = await newToken({ role: 'reader', projects: ['z9', 'a2'] });
    const seen: string[] = [];
    let after: string | null = '';
    for (let page = 0; after !== null && page < 10; page++) {
      const r = await req('GET', `/v1/projects?limit=1${after ? `&after=${after}` : ''}`, scoped.token);
      expect(r.statusCode).toBe(200);
      const body = r.json() as { items: { name: string }[]; next: string | null };
      seen.push(...body.items.map((p) => p.name));
      after = body.next;
    }
    expect(seen).toEqual(['a2', 'z9']);
  });

  it('lets only admins create a project by ingesting with create=true', async () => {
    const tsv = 'commit\tval_bpb\tmemory_gb\tstatus\tdescription\na1b2c3d\t1.0\t1.0\tkeep\tbaseline\n';
    const loop = await newToken({ role: 'loop', projects: ['fresh', 'alpha'] });
    const post = (project: string, secret: string) =>
      t.app.inject({ method: 'POST', url: `/v1/projects/${project}/results?create=true`, headers: { ...bearer(secret), 'content-type': 'text/tab-separated-values' }, payload: tsv });
    const denied = await post('fresh', loop.token);
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({ code: 'forbidden', detail: expect.stringContaining('admin') });
    expect((await req('GET', '/v1/projects/fresh', ADMIN)).statusCode).toBe(404);
    // On an existing project create=true is no right at all: the loop token ingests.
    expect((await post('alpha', loop.token)).statusCode).toBe(201);
    expect((await post('fresh', ADMIN)).statusCode).toBe(201);
    expect((await req('GET', '/v1/projects/fresh', loop.token)).statusCode).toBe(200);
  });

  it('records the token id as the gate caller', async () => {
    const loop = await newToken({ role: 'loop', projects: ['alpha'] });
    expect(
      (await req('POST', '/v1/projects/alpha/gate', loop.token, { experiment: 's', threshold: 0.9 }))
        .statusCode,
    ).toBe(200);
    const log = (
      await req('GET', '/v1/projects/alpha/gate-decisions?experiment=s', loop.token)
    ).json().items;
    expect(log.map((d: { caller: string }) => d.caller)).toContain(loop.id);
  });

  it('lets public routes through and rejects malformed credentials', async () => {
    expect((await req('GET', '/healthz')).statusCode).toBe(200);
    expect((await req('GET', '/healthz', 'garbage')).statusCode).toBe(200);
    expect((await req('GET', '/openapi.json')).statusCode).toBe(200);
    for (const authorization of [
      'Basic YWRtaW46eA==',
      'Bearer',
      'Bearer ',
      `Token ${ADMIN}`,
      `Bearer ${ADMIN}x`,
      `Bearer ${ADMIN.slice(1)}`,
    ]) {
      const r = await t.app.inject({
        method: 'GET',
        url: '/v1/projects',
        headers: { authorization },
      });
      expect(r.statusCode, authorization).toBe(401);
      expect(r.headers['www-authenticate']).toMatch(/^Bearer realm="ecv"/);
      expect(r.headers['content-type']).toContain('application/problem+json');
    }
    expect(
      (
        await t.app.inject({
          method: 'GET',
          url: '/v1/projects',
          headers: { authorization: `bearer   ${ADMIN}` },
        })
      ).statusCode,
    ).toBe(200);
  });
});

describe.each(ENGINES)('admin token bootstrap on %s', (engine) => {
  it('generates one admin token when none is configured, prints it once, and again only when all are revoked', async () => {
    const db = await createTestDb(engine);
    try {
      const config = loadConfig({ ECV_AUTH: 'on' });
      const printed: string[] = [];
      const deps = { db: db.handle, config };
      const results = await Promise.all(
        [1, 2, 3].map(() => ensureAdminToken(deps, (l) => printed.push(l))),
      );
      const made = results.filter((r) => r !== null);
      expect(made).toHaveLength(1);
      expect(printed).toEqual([`ECV admin token (shown once): ${made[0]!.token}`]);
      expect(await ensureAdminToken(deps, (l) => printed.push(l))).toBeNull();
      expect(printed).toHaveLength(1);

      const app = await buildApp({ db: db.handle, config }, { swaggerUi: false, queue: false });
      await app.ready();
      try {
        const list = await app.inject({
          method: 'GET',
          url: '/v1/tokens',
          headers: bearer(made[0]!.token),
        });
        expect(list.statusCode).toBe(200);
        expect(list.json().items).toEqual([
          expect.objectContaining({ id: made[0]!.id, role: 'admin', revokedAt: null }),
        ]);
        expect(
          (
            await app.inject({
              method: 'DELETE',
              url: `/v1/tokens/${made[0]!.id}`,
              headers: bearer(made[0]!.token),
            })
          ).statusCode,
        ).toBe(204);
      } finally {
        await app.close();
      }
      // Every admin token revoked: the next start recovers with a fresh one.
      const again = await ensureAdminToken(deps, (l) => printed.push(l));
      expect(again?.token).toMatch(/^ecv_/);
      expect(again?.token).not.toBe(made[0]!.token);

      expect(
        await ensureAdminToken({
          db: db.handle,
          config: loadConfig({ ECV_AUTH: 'on', ECV_ADMIN_TOKEN: ADMIN }),
        }),
      ).toBeNull();
      expect(
        await ensureAdminToken({ db: db.handle, config: loadConfig({ ECV_AUTH: 'off' }) }),
      ).toBeNull();
    } finally {
      await db.drop();
    }
  });
});

describe('auth plugin, alone', () => {
  it('denies routes without an access rule to every role but admin (fail closed)', async () => {
    const db = await createTestDb('pglite');
    const config = loadConfig({ ECV_AUTH: 'on', ECV_ADMIN_TOKEN: ADMIN });
    const app = Fastify();
    app.decorate('deps', { db: db.handle, config, log: app.log } as unknown as Deps);
    app.decorateRequest('visibleProjects', null);
    app.decorateRequest('caller', 'anonymous');
    await app.register(problemErrors);
    await app.register(rateLimitPlugin);
    await app.register(authPlugin);
    app.get('/unruled', async () => ({ ok: true }));
    app.get('/v1/projects/:project/thing', { config: { access: 'read' } }, async (req) => ({
      caller: req.caller,
      visible: req.visibleProjects ? [...req.visibleProjects] : null,
    }));
    await app.ready();
    try {
      expect(app.routeAccess).toEqual(
        expect.arrayContaining([{ method: 'GET', url: '/unruled', access: undefined }]),
      );
      const tokens = await Promise.all(
        (['loop', 'reader', 'runner'] as const).map((role) =>
          createToken({ db: db.handle }, { role, projects: ['*'] }),
        ),
      );
      for (const { token } of tokens) {
        const r = await app.inject({ method: 'GET', url: '/unruled', headers: bearer(token) });
        expect(r.statusCode).toBe(403);
        expect(r.json().code).toBe('forbidden');
      }
      expect((await app.inject({ method: 'GET', url: '/unruled' })).statusCode).toBe(401);
      expect(
        (await app.inject({ method: 'GET', url: '/unruled', headers: bearer(ADMIN) })).json(),
      ).toEqual({ ok: true });

      const scoped = await createToken(
        { db: db.handle },
        { role: 'reader', projects: ['p1', 'p2'] },
      );
      const seen = await app.inject({
        method: 'GET',
        url: '/v1/projects/p2/thing',
        headers: bearer(scoped.token),
      });
      expect(seen.json()).toEqual({ caller: scoped.record.id, visible: ['p1', 'p2'] });
      expect(
        (
          await app.inject({
            method: 'GET',
            url: '/v1/projects/p3/thing',
            headers: bearer(scoped.token),
          })
        ).statusCode,
      ).toBe(404);
    } finally {
      await app.close();
      await db.drop();
    }
  });

  it('parses bearer headers strictly', () => {
    expect(bearerOf('Bearer abc')).toBe('abc');
    expect(bearerOf('bearer  abc ')).toBe('abc');
    expect(bearerOf('Bearer a b')).toBeNull();
    expect(bearerOf('Basic abc')).toBeNull();
    expect(bearerOf(undefined)).toBeNull();
    expect(bearerOf(`Bearer ${'x'.repeat(513)}`)).toBeNull();
  });
});
