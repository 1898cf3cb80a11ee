import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ENGINES, createTestDb, type TestDb } from '../helpers/db.js';
import { projectBody } from '../helpers/app.js';

/**
 * Every route the router knows × every kind of caller × own/other project. The expected
 * access of each route lives HERE, not in the routes: a route added (or re-ruled) without
 * updating this table fails the test.
 */
type Access = 'public' | 'read' | 'write' | 'runner' | 'admin';

const ACCESS: Record<string, Access> = {
  'GET /': 'read',
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  'GET /metrics': 'read',
  'GET /openapi.json': 'public',
  'GET /docs': 'public',
  'GET /docs/': 'public',
  'GET /docs/static/*': 'public',
  'GET /docs/json': 'public',
  'GET /docs/yaml': 'public',
  'GET /docs/static/index.html': 'public',
  'GET /docs/static/swagger-initializer.js': 'public',
  'POST /v1/projects': 'admin',
  'GET /v1/projects': 'read',
  'GET /v1/projects/:project': 'read',
  'PUT /v1/projects/:project': 'admin',
  'PATCH /v1/projects/:project': 'admin',
  'POST /v1/projects/:project/experiments': 'write',
  'GET /v1/projects/:project/experiments': 'read',
  'GET /v1/projects/:project/experiments/:key': 'read',
  'GET /v1/projects/:project/experiments/:key/gate': 'read',
  'GET /v1/projects/:project/experiments/:key/versions': 'read',
  'GET /v1/projects/:project/bar': 'read',
  'POST /v1/projects/:project/edges': 'write',
  'GET /v1/projects/:project/graph': 'read',
  'POST /v1/projects/:project/gate': 'write',
  'GET /v1/projects/:project/gate-decisions': 'read',
  'POST /v1/projects/:project/results': 'write',
  'GET /v1/projects/:project/report': 'read',
  'POST /v1/runners/lease': 'runner',
  'POST /v1/jobs/:id/heartbeat': 'runner',
  'POST /v1/jobs/:id/complete': 'runner',
  'POST /v1/tokens': 'admin',
  'GET /v1/tokens': 'admin',
  'DELETE /v1/tokens/:id': 'admin',
};

/** HEAD routes are generated from GET ones and share their rule. */
const ruleOf = (method: string, url: string): Access | undefined =>
  ACCESS[`${method === 'HEAD' ? 'GET' : method} ${url}`];

type Caller = 'none' | 'admin' | 'loop' | 'runner' | 'reader' | 'revoked';
const CALLERS: Caller[] = ['none', 'admin', 'loop', 'runner', 'reader', 'revoked'];

/** The role model, written independently of src/http/plugins/auth.ts. */
const GRANTS: Record<Exclude<Caller, 'none' | 'revoked'>, Access[]> = {
  admin: ['public', 'read', 'write', 'runner', 'admin'],
  loop: ['public', 'read', 'write'],
  reader: ['public', 'read'],
  runner: ['public', 'runner'],
};

type Expect = 'allowed' | 401 | 403 | 404;

function expected(
  caller: Caller,
  access: Access,
  hasProject: boolean,
  which: 'own' | 'other',
): Expect {
  if (access === 'public') return 'allowed';
  if (caller === 'none' || caller === 'revoked') return 401;
  if (!GRANTS[caller].includes(access)) return 403;
  // Scoped tokens reach 'own' only; another project answers like one that does not exist.
  if (hasProject && which === 'other' && caller !== 'admin') return 404;
  return 'allowed';
}

/** Parses `app.printRoutes({ commonPrefix: false })`: the router's own table. */
function routerRoutes(app: FastifyInstance): { method: string; url: string }[] {
  const out: { method: string; url: string }[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:│ {3}| {4})*)(?:├── |└── )(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1].length / 4;
    stack.length = depth;
    stack.push(m[2]);
    for (const method of m[3]?.split(', ') ?? []) out.push({ method, url: stack.join('') });
  }
  return out;
}

/**
 * Routes as the auth plugin saw them registered, plus any the router prints that it did not
 * (printRoutes drops handler-less path segments, hence the hasRoute filter).
 */
function allRoutes(app: FastifyInstance): { method: string; url: string }[] {
  const seen = new Map<string, { method: string; url: string }>();
  for (const r of [...app.routeAccess, ...routerRoutes(app)]) {
    if (app.hasRoute({ method: r.method as 'GET', url: r.url }))
      seen.set(`${r.method} ${r.url}`, { method: r.method, url: r.url });
  }
  return [...seen.values()];
}

const ADMIN = 'test-admin-token-0123456789';
const TSV = 'commit\tval_bpb\tstatus\tdescription\nabc1234\t1.0\tkeep\tbaseline\n';

/** A minimal plausible request for each route (allowed calls may still answer 400/404). */
function requestFor(method: string, url: string, project: string) {
  const path = url
    .replace(':project', project)
    .replace(':key', 'e1')
    .replace(':id', url.startsWith('/v1/jobs/') ? randomUUID() : 'nonexistent0')
    .replace('*', 'nothing-here');
  const bodies: Record<string, unknown> = {
    'POST /v1/projects': projectBody(project),
    'POST /v1/projects/:project/experiments': {
      key: 'm1',
      status: 'discard',
      value: 1.5,
      premises: ['e1'],
    },
    'POST /v1/projects/:project/edges': { edges: [{ from: 'e0', to: 'e1' }] },
    // No threshold: a loop token may not lower the project's (403), which is not an access rule.
    'POST /v1/projects/:project/gate': { experiment: 'e1' },
    'PUT /v1/projects/:project': projectBody(project),
    'PATCH /v1/projects/:project': { threshold: 0.7 },
    'POST /v1/runners/lease': { runner: 'r1', maxJobs: 1, wait: 0 },
    'POST /v1/jobs/:id/heartbeat': { runner: 'r1' },
    'POST /v1/jobs/:id/complete': { runner: 'r1', seed: 1, value: 1 },
    'POST /v1/tokens': { role: 'reader', projects: [project] },
  };
  const key = `${method} ${url}`;
  if (key === 'POST /v1/projects/:project/results')
    return { path, payload: TSV, contentType: 'text/tab-separated-values' };
  return {
    path,
    payload: bodies[key] === undefined ? undefined : JSON.stringify(bodies[key]),
    contentType: 'application/json',
  };
}

describe.each(ENGINES)('access matrix over every route on %s', (engine) => {
  let app: FastifyInstance;
  let db: TestDb;
  const secrets: Partial<Record<Caller, string>> = { admin: ADMIN };

  const call = (
    method: string,
    url: string,
    secret?: string,
    payload?: string,
    contentType = 'application/json',
  ) =>
    app.inject({
      method: method as 'GET',
      url,
      headers: {
        ...(secret ? { authorization: `Bearer ${secret}` } : {}),
        ...(payload !== undefined ? { 'content-type': contentType } : {}),
      },
      ...(payload !== undefined ? { payload } : {}),
    });

  beforeAll(async () => {
    db = await createTestDb(engine);
    app = await buildApp(
      { db: db.handle, config: loadConfig({ ECV_AUTH: 'on', ECV_ADMIN_TOKEN: ADMIN }) },
      { swaggerUi: true },
    );
    await app.ready();
    for (const p of ['own', 'other']) {
      expect(
        (await call('POST', '/v1/projects', ADMIN, JSON.stringify(projectBody(p)))).statusCode,
      ).toBe(201);
      const exps = [
        { key: 'e0', status: 'keep', value: 1 },
        { key: 'e1', status: 'keep', value: 0.98, premises: ['e0'] },
      ];
      expect(
        (await call('POST', `/v1/projects/${p}/experiments`, ADMIN, JSON.stringify(exps)))
          .statusCode,
      ).toBe(201);
    }
    for (const role of ['loop', 'runner', 'reader'] as const) {
      const r = await call(
        'POST',
        '/v1/tokens',
        ADMIN,
        JSON.stringify({ role, projects: ['own'], label: `matrix ${role}` }),
      );
      expect(r.statusCode).toBe(201);
      secrets[role] = r.json().token;
    }
    const rev = (
      await call('POST', '/v1/tokens', ADMIN, JSON.stringify({ role: 'loop', projects: ['own'] }))
    ).json();
    expect((await call('DELETE', `/v1/tokens/${rev.id}`, ADMIN)).statusCode).toBe(204);
    secrets.revoked = rev.token;
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('has a rule in this table for every route the router knows, and no stale rules', () => {
    const routes = allRoutes(app);
    expect(routes.length).toBeGreaterThan(20);
    const missing = routes
      .filter((r) => ruleOf(r.method, r.url) === undefined)
      .map((r) => `${r.method} ${r.url}`);
    expect(missing, 'routes without an expected access in this test').toEqual([]);
    const known = new Set(routes.map((r) => `${r.method} ${r.url}`));
    expect(Object.keys(ACCESS).filter((k) => !known.has(k))).toEqual([]);
  });

  it('declares on each route the access this table expects', () => {
    const declared = app.routeAccess
      .filter((r) => ruleOf(r.method, r.url) !== r.access)
      .map((r) => `${r.method} ${r.url}: ${r.access}`);
    expect(declared).toEqual([]);
    // Everything in the OpenAPI document is a routed path with a rule.
    const paths = Object.keys((app.swagger() as { paths: Record<string, unknown> }).paths).map(
      (p) => p.replace(/\{(\w+)\}/g, ':$1'),
    );
    for (const p of paths)
      expect(
        Object.keys(ACCESS).some((k) => k.endsWith(` ${p}`)),
        p,
      ).toBe(true);
  });

  it('answers each caller on each route as the table says (own and other project)', async () => {
    const failures: string[] = [];
    for (const { method, url } of allRoutes(app)) {
      const access = ruleOf(method, url)!;
      const hasProject = url.includes(':project');
      for (const which of hasProject ? (['own', 'other'] as const) : (['own'] as const)) {
        for (const caller of CALLERS) {
          const want = expected(caller, access, hasProject, which);
          const req = requestFor(method, url, which);
          const res = await call(method, req.path, secrets[caller], req.payload, req.contentType);
          const got = res.statusCode;
          const what = `${caller} ${method} ${req.path} → ${got} (want ${want})`;
          if (got >= 500) failures.push(`${what}: server error ${res.body.slice(0, 200)}`);
          else if (want === 'allowed') {
            if (got === 401 || got === 403 || got === 429) failures.push(what);
            else if (
              hasProject &&
              got === 404 &&
              method !== 'HEAD' &&
              res.json().detail === `no project '${which}'`
            )
              failures.push(`${what}: scope hid an existing project`);
          } else if (got !== want) failures.push(what);
          else if (method !== 'HEAD') {
            const code = { 401: 'unauthorized', 403: 'forbidden', 404: 'not_found' }[want];
            if (res.json().code !== code) failures.push(`${what}: code ${res.json().code}`);
            if (want === 404 && res.json().detail !== `no project '${which}'`)
              failures.push(`${what}: detail ${res.json().detail}`);
          }
          if (want === 401 && !String(res.headers['www-authenticate'] ?? '').startsWith('Bearer'))
            failures.push(`${what}: no WWW-Authenticate`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('answers unknown routes 401 without a valid token and 404 with any', async () => {
    expect((await call('GET', '/v1/nothing')).statusCode).toBe(401);
    expect((await call('GET', '/v1/nothing', secrets.revoked)).statusCode).toBe(401);
    for (const caller of ['admin', 'loop', 'runner', 'reader'] as const) {
      const r = await call('GET', '/v1/nothing', secrets[caller]);
      expect(r.statusCode, caller).toBe(404);
      expect(r.json().code).toBe('not_found');
    }
  });
});
