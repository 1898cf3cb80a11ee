import { Agent, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsPkg from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createTestDb, ENGINES, type TestDb } from '../helpers/db.js';
import { projectBody } from '../helpers/app.js';
import { operationsOf, requestsFor, type FuzzRequest, type OpenApiDoc, type Schema } from '../helpers/openapi-arb.js';

/**
 * A Schemathesis-style run of our own (issue 17): requests generated from the served OpenAPI
 * document (every operation; parameters and bodies from their schemas, most of them then
 * broken by one mutation) against the real server over loopback HTTP. Each answer must be
 * below 500, have a status the operation declares, and match the declared media type and
 * schema; errors are application/problem+json Problem documents.
 */
const RUNS = Number(process.env.ECV_OPENAPI_FUZZ_RUNS ?? 1000);
const ADMIN = 'openapi-fuzz-admin-token-0123456789';
const addFormats = addFormatsPkg as unknown as (ajv: Ajv) => Ajv;

interface Answer {
  status: number;
  type: string;
  body: string;
}

function send(agent: Agent, port: number, r: FuzzRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ agent, host: '127.0.0.1', port, method: r.op.method, path: r.path, headers: r.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.setTimeout(20_000, () => req.destroy(new Error(`no answer in 20 s to ${r.op.method} ${r.path}`)));
    req.on('error', reject);
    req.end(r.body);
  });
}

/** Compiles a response schema of the document, its `#/components/...` refs resolved in the document. */
function schemaCompiler(doc: OpenApiDoc) {
  const ajv = new Ajv({ strict: false, allErrors: false });
  addFormats(ajv);
  ajv.addSchema({ $id: 'doc', components: doc.components });
  const cache = new Map<Schema, ValidateFunction>();
  const rebase = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(rebase) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === '$ref' && typeof x === 'string' && x.startsWith('#/') ? `doc${x}` : rebase(x)])) : v;
  return (s: Schema) => {
    let f = cache.get(s);
    if (!f) cache.set(s, (f = ajv.compile(rebase(s) as object)));
    return f;
  };
}

describe.each(ENGINES)('requests generated from the OpenAPI document on %s', (engine) => {
  let db: TestDb;
  let app: FastifyInstance;
  let port: number;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });

  beforeAll(async () => {
    db = await createTestDb(engine);
    app = await buildApp({ db: db.handle, config: loadConfig({ ECV_AUTH: 'on', ECV_ADMIN_TOKEN: ADMIN }) });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
    const seed = async (method: string, url: string, payload: unknown) => expect((await app.inject({ method: method as 'POST', url, payload: payload as object, headers: { authorization: `Bearer ${ADMIN}` } })).statusCode).toBeLessThan(300);
    await seed('POST', '/v1/projects', projectBody('p'));
    await seed('POST', '/v1/projects/p/experiments', [
      { key: 'e0', status: 'keep', value: 1 },
      { key: 'e1', status: 'keep', value: 0.98, premises: ['e0'] },
      { key: 'e2', status: 'discard', value: 1.1, premises: ['e1'] },
    ]);
  });
  afterAll(async () => {
    agent.destroy();
    await app?.close();
    await db?.drop();
  });

  it(`answers ${RUNS} generated requests without a 5xx, as the document declares`, async () => {
    const doc = app.swagger() as unknown as OpenApiDoc;
    const ops = operationsOf(doc);
    expect(ops.length).toBeGreaterThanOrEqual(25);
    const validate = schemaCompiler(doc);
    const problem = validate({ $ref: '#/components/schemas/Problem' });
    const seeds = { project: ['p'], key: ['e0', 'e1', 'e2'], experiment: ['e1', 'e2'], from: ['e0'], to: ['e2'], premises: ['e0'] };
    const seen = new Map<string, Set<number>>();
    const all = fc.oneof(...ops.map((o) => requestsFor(doc, o, seeds, { admin: ADMIN })));

    await fc.assert(
      fc.asyncProperty(all, async (r) => {
        const res = await send(agent, port, r);
        const op = `${r.op.method} ${r.op.path}`;
        const what = `${op} [${r.mutation}] ${r.path} ${r.headers['content-type'] ?? ''} ${(r.body ?? '').slice(0, 200)} → ${res.status} ${res.type} ${res.body.slice(0, 300)}`;
        (seen.get(op) ?? seen.set(op, new Set()).get(op)!).add(res.status);
        expect(res.status, what).toBeLessThan(500);
        const declared = r.op.op.responses[String(res.status)];
        expect(declared, `status not declared: ${what}`).toBeDefined();
        const media = res.type.split(';')[0].trim();
        if (res.status >= 400) {
          expect(media, what).toBe('application/problem+json');
          const body = JSON.parse(res.body) as { status: number };
          expect(problem(body), `${what}: ${JSON.stringify(problem.errors)}`).toBe(true);
          expect(body.status, what).toBe(res.status);
          return;
        }
        if (res.status === 204 || !declared.content) return;
        expect(Object.keys(declared.content), what).toContain(media);
        const schema = declared.content[media].schema;
        if (media === 'application/json' && schema) {
          const check = validate(schema);
          expect(check(JSON.parse(res.body)), `${what}: ${JSON.stringify(check.errors)}`).toBe(true);
        }
      }),
      { numRuns: RUNS, endOnFailure: true },
    );

    // The run reached every operation, and both accepted and refused requests.
    expect(ops.filter((o) => !seen.has(`${o.method} ${o.path}`)).map((o) => `${o.method} ${o.path}`)).toEqual([]);
    const statuses = [...seen.values()].flatMap((s) => [...s]);
    expect(statuses.some((s) => s < 300)).toBe(true);
    expect(statuses.some((s) => s >= 400)).toBe(true);
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  }, 240_000);
});
