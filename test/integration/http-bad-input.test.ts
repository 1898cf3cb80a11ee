import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ROW_LIMITS } from '../../src/domain/ingest/limits.js';
import { loadSchemas } from '../../src/http/schemas.js';
import { createTestDb, ENGINES, type TestDb } from '../helpers/db.js';
import { projectBody } from '../helpers/app.js';

/**
 * Issue 17, "bad input that gets a 500 or is silently changed": each probe, as the outside
 * review sent it, against the real server over loopback HTTP (auth on, Swagger UI on).
 */
const ADMIN = 'bad-input-test-admin-token-0123456789';
const auth = { authorization: `Bearer ${ADMIN}` };

interface Answer {
  status: number;
  type: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: () => Record<string, unknown> & { errors?: { pointer?: string; line?: number; code?: string; message: string }[] };
}

/** A request through node:http, which sends the path exactly as given (fetch would resolve `..`). */
function send(base: URL, method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: base.hostname, port: base.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), headers: res.headers, body: text, json: () => JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Raw bytes on a fresh connection; everything the server writes back until it closes. */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(bytes));
    let out = '';
    s.on('data', (d) => (out += d.toString('utf8')));
    s.on('error', reject);
    s.on('close', () => resolve(out));
    setTimeout(() => s.destroy(), 5_000).unref();
  });
}

const expectProblem = (r: Answer, status: number, code: string) => {
  expect(r.status, r.body).toBe(status);
  expect(r.type).toContain('application/problem+json');
  expect(r.json()).toMatchObject({ status, code });
};

describe.each(ENGINES)('bad input over HTTP on %s', (engine) => {
  let db: TestDb;
  let app: FastifyInstance;
  let base: URL;
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    send(base, method, path, { ...auth, ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}), ...headers }, body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
  const tsv = (path: string, text: string, type = 'text/tab-separated-values') => send(base, 'POST', path, { ...auth, 'content-type': type }, text);
  const keys = async (project: string) => {
    const r = await call('GET', `/v1/projects/${project}/experiments?limit=1000`);
    return (r.json().items as { key: string }[]).map((e) => e.key);
  };

  beforeAll(async () => {
    db = await createTestDb(engine);
    app = await buildApp({ db: db.handle, config: loadConfig({ ECV_AUTH: 'on', ECV_ADMIN_TOKEN: ADMIN }) }, { queue: false });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = new URL(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`);
    for (const p of ['p', 'w']) expect((await call('POST', '/v1/projects', projectBody(p))).status).toBe(201);
    expect((await call('POST', '/v1/projects/p/experiments', [{ key: 'e0', status: 'keep', value: 1 }])).status).toBe(201);
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('results bodies: JSON ({} [] null 5) → 415; TSV and text/plain accepted; bodyless → 400', async () => {
    for (const body of ['{}', '[]', 'null', '5']) {
      const r = await call('POST', '/v1/projects/p/results', body, { 'content-type': 'application/json' });
      expectProblem(r, 415, 'unsupported_media_type');
      expect(r.json().detail).toContain('text/tab-separated-values');
    }
    expectProblem(await call('POST', '/v1/projects/p/results', 'a=b', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
    expectProblem(await call('POST', '/v1/projects/p/results', undefined, { 'content-type': 'application/json' }), 415, 'unsupported_media_type');
    expectProblem(await call('POST', '/v1/projects/p/results'), 400, 'validation_failed');
    const table = 'commit\tval_bpb\tstatus\nt1\t1.0\tkeep\n';
    expect((await tsv('/v1/projects/w/results', table, 'text/plain; charset=utf-8')).status).toBe(201);
    expect((await tsv('/v1/projects/w/results', table)).status).toBe(200);
  });

  it('out-of-range integer query parameters → 400 with the pointer, not a database error', async () => {
    for (const path of ['/v1/projects/p/experiments', '/v1/projects/p/gate-decisions']) {
      for (const after of ['1e30', '2147483648', '9007199254740993']) {
        const r = await call('GET', `${path}?after=${after}`);
        expectProblem(r, 400, 'validation_failed');
        expect(r.json().errors).toEqual([expect.objectContaining({ pointer: 'querystring:/after' })]);
      }
      expect((await call('GET', `${path}?after=2147483647`)).status).toBe(200);
    }
    for (const q of ['limit=1e30', 'maxNodes=1e30']) expectProblem(await call('GET', `/v1/projects/p/report?${q}`), 400, 'validation_failed');
  });

  it('/docs/static/.. and other traversals (no token) → problem+json, not 500', async () => {
    for (const path of ['/docs/static/..', '/docs/static/../../package.json', '/docs/static/%2e%2e/%2e%2e/package.json']) {
      const r = await send(base, 'GET', path);
      expect(r.status, `${path}: ${r.body}`).toBeLessThan(500);
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.type, path).toContain('application/problem+json');
      expect(r.body).not.toContain('"name": "ecv"');
    }
    expectProblem(await send(base, 'GET', '/docs/static/nope.js'), 404, 'not_found');
    expect((await send(base, 'GET', '/docs')).status).toBe(200);
  });

  it.each([
    ['value', { key: 'n1', status: 'keep', value: '@' }, '/value'],
    ['baseline', { key: 'n1', status: 'keep', value: 1, baseline: '@' }, '/baseline'],
    ['replicates', { key: 'n1', status: 'keep', value: 1, replicates: [1, '@'] }, '/replicates/1'],
    ['memoryGb', { key: 'n1', status: 'keep', value: 1, resources: { memoryGb: '@' } }, '/resources/memoryGb'],
    ['paths.added', { key: 'n1', status: 'keep', value: 1, code: { paths: [{ path: 'a.py', added: '@', removed: 0 }] } }, '/code/paths/0/added'],
    ['metadata', { key: 'n1', status: 'keep', value: 1, metadata: { a: { b: ['@'] } } }, '/metadata/a/b/0'],
  ])('a non-finite %s (1e309) on the JSON path → 400 at its pointer, nothing stored', async (_what, body, pointer) => {
    for (const literal of ['1e309', '-1e400']) {
      const text = JSON.stringify(body).replace('"@"', literal);
      const r = await call('POST', '/v1/projects/p/experiments', text, { 'content-type': 'application/json' });
      expectProblem(r, 400, 'validation_failed');
      expect(r.json().errors).toEqual([expect.objectContaining({ pointer, message: expect.stringContaining('not finite') })]);
      const batch = await call('POST', '/v1/projects/p/experiments', `[${text}]`, { 'content-type': 'application/json' });
      expect(batch.json().errors).toEqual([expect.objectContaining({ pointer: `/0${pointer}` })]);
    }
    expect(await keys('p')).toEqual(['e0']);
  });

  it.each([
    ['sigma0', { sigma0: '@' }, '/sigma0'],
    ['minEffect', { minEffect: '@' }, '/minEffect'],
    ['gpuMinutesPerDay', { reproduction: { gpuMinutesPerDay: '@' } }, '/reproduction/gpuMinutesPerDay'],
  ])('a non-finite project %s → 400 at its pointer (create and patch)', async (_what, extra, pointer) => {
    const create = JSON.stringify(projectBody('nf', extra)).replace('"@"', '1e309');
    const r = await call('POST', '/v1/projects', create, { 'content-type': 'application/json' });
    expectProblem(r, 400, 'validation_failed');
    expect(r.json().errors).toEqual([expect.objectContaining({ pointer })]);
    expectProblem(await call('GET', '/v1/projects/nf'), 404, 'not_found');
    const patch = await call('PATCH', '/v1/projects/p', JSON.stringify(extra).replace('"@"', '1e309'), { 'content-type': 'application/json' });
    expect(patch.json().errors).toEqual([expect.objectContaining({ pointer })]);
  });

  it('a non-finite metric cell in a TSV (1e309, inf): kept as a row with a warning, raw text kept; strict rejects the file', async () => {
    const table = 'commit\tval_bpb\tstatus\na1\t1.0\tkeep\na2\t1e309\tkeep\na3\t-inf\tkeep\na4\t0.9\tkeep\n';
    const strict = await tsv('/v1/projects/w/results?strict=true', table);
    expectProblem(strict, 400, 'validation_failed');
    expect(strict.json().errors!.map((e) => `${e.line}:${e.code}`)).toEqual(['3:missing_metric', '4:missing_metric']);
    expect(await keys('w')).toEqual(['t1']);

    const r = await tsv('/v1/projects/w/results', table);
    expect(r.status).toBe(201);
    const warnings = r.json().warnings as { line: number; code: string; message: string }[];
    expect(warnings).toEqual([
      { line: 3, code: 'missing_metric', message: expect.stringContaining("'1e309' is not a finite number") },
      { line: 4, code: 'missing_metric', message: expect.stringContaining("'-inf' is not a finite number") },
    ]);
    const a2 = (await call('GET', '/v1/projects/w/experiments/a2')).json();
    expect(a2).toMatchObject({ status: 'keep', value: null, metadata: { value: '1e309' } });
    // The next keep's premise is the latest keep before it; its baseline is that premise's (absent) value.
    expect((await call('GET', '/v1/projects/w/experiments/a4')).json()).toMatchObject({ value: 0.9, premises: ['a3'] });
  });

  it('a TSV with thousands of extra columns: metadata capped like the JSON path, with a per-row warning; strict rejects', async () => {
    const n = 5_000;
    const header = ['commit', 'val_bpb', 'status', ...Array.from({ length: n }, (_, i) => `c${i}`)].join('\t');
    const row = (k: string, v: string) => [k, v, 'keep', ...Array.from({ length: n }, (_, i) => String(i))].join('\t');
    const table = `${header}\n${row('x1', '1.0')}\n${row('x2', '0.9')}\n`;
    const strict = await tsv('/v1/projects/wide/results?strict=true&create=true&direction=minimize', table);
    expectProblem(strict, 400, 'validation_failed');
    expect(strict.json().errors!.map((e) => `${e.line}:${e.code}`).filter((e) => e.endsWith(':row_limit'))).toEqual(['2:row_limit', '3:row_limit']);
    expectProblem(await call('GET', '/v1/projects/wide'), 404, 'not_found');

    const r = await tsv('/v1/projects/wide/results?create=true&direction=minimize', table);
    expect(r.status, r.body).toBe(201);
    expect((r.json().warnings as { code: string }[]).filter((w) => w.code === 'row_limit')).toEqual([2, 3].map((line) => ({ line, code: 'row_limit', message: expect.stringContaining(`${n} extra column values (kept the first ${ROW_LIMITS.metadataEntries})`) })));
    const x1 = await call('GET', '/v1/projects/wide/experiments/x1');
    const md = x1.json().metadata as { columns: Record<string, string>; columnsTotal: number };
    expect(Object.keys(md.columns)).toHaveLength(ROW_LIMITS.metadataEntries);
    expect(md.columns.c0).toBe('0');
    expect(md.columnsTotal).toBe(n);
    expect(x1.body.length).toBeLessThan(50_000);
    // Same file again: idempotent (the cut is deterministic).
    expect((await tsv('/v1/projects/wide/results', table)).json()).toMatchObject({ created: 0, updated: 0 });
  });

  it('the row limits are those of the JSON schema', () => {
    const s = loadSchemas().find((x) => x.$id === 'ExperimentIn') as unknown as { properties: Record<string, { maxProperties?: number; maxLength?: number }> };
    expect(s.properties.metadata.maxProperties).toBe(ROW_LIMITS.metadataEntries);
    expect(s.properties.description.maxLength).toBe(ROW_LIMITS.text);
    expect(s.properties.hypothesis.maxLength).toBe(ROW_LIMITS.text);
  });

  it('malformed URLs → 400 problem+json; a 128-character key is routed (not 414)', async () => {
    for (const path of ['/v1/projects/%zz', '/v1/projects/p/experiments/%E0%A4%A', '/%']) {
      const r = await send(base, 'GET', path, auth);
      expectProblem(r, 400, 'validation_failed');
      expect(r.json().instance).toBe(path);
    }
    const key = 'k'.repeat(128);
    expect((await call('POST', '/v1/projects/p/experiments', { key, status: 'discard', value: 2, premises: ['e0'] })).status).toBe(201);
    expect((await call('GET', `/v1/projects/p/experiments/${key}`)).json()).toMatchObject({ key });
    expectProblem(await call('GET', `/v1/projects/p/experiments/${'k'.repeat(600)}`), 400, 'validation_failed');
  });

  it('a body longer than its Content-Length → 400 problem+json, connection closed', async () => {
    const body = JSON.stringify(projectBody('cl'));
    const out = await rawExchange(Number(base.port), `POST /v1/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN}\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n${body}`);
    const [head, payload] = out.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    expect(head.toLowerCase()).toContain('content-type: application/problem+json');
    expect(JSON.parse(payload)).toMatchObject({ status: 400, code: 'validation_failed' });
    expectProblem(await call('GET', '/v1/projects/cl'), 404, 'not_found');
  });

  it('an unsupported method on a known path → 405 with Allow; an unknown path stays 404', async () => {
    const del = await call('DELETE', '/v1/projects/p');
    expectProblem(del, 405, 'method_not_allowed');
    expect(del.headers.allow).toBe('GET, HEAD, PUT, PATCH');
    const put = await call('PUT', '/v1/projects/p/experiments', {});
    expectProblem(put, 405, 'method_not_allowed');
    expect(put.headers.allow).toBe('GET, HEAD, POST');
    expect((await call('OPTIONS', '/v1/tokens')).headers.allow).toBe('GET, HEAD, POST');
    expectProblem(await call('DELETE', '/v1/nothing-here'), 404, 'not_found');
  });
});
