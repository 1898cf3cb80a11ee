import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type DbHandle } from '../../src/db/connection.js';
import { operationsOf, type OpenApiDoc } from '../helpers/openapi-arb.js';

/**
 * Issue 17, "the OpenAPI document must say what the server does", read from the document
 * the service serves at /openapi.json (and its checked-in copy, openapi.yaml).
 */
type Op = ReturnType<typeof operationsOf>[number]['op'] & { summary?: string; operationId?: string };

describe('the OpenAPI contract', () => {
  let db: DbHandle;
  let app: FastifyInstance;
  let doc: OpenApiDoc & { servers?: { url: string }[]; security?: unknown[] };
  let ops: { method: string; path: string; op: Op }[];

  beforeAll(async () => {
    db = await openDatabase({ dataDir: 'memory://' });
    app = await buildApp({ db, config: loadConfig({ ECV_AUTH: 'off' }) }, { queue: false });
    await app.ready();
    doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    ops = operationsOf(doc) as typeof ops;
  });
  afterAll(async () => {
    await app?.close();
    await db?.close();
  });

  const name = (o: { method: string; path: string }) => `${o.method} ${o.path}`;

  it('is the checked-in openapi.yaml', () => {
    const file = YAML.parse(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8'));
    expect(file).toEqual(doc);
  });

  it('declares error bodies as application/problem+json, never application/json', () => {
    const wrong: string[] = [];
    for (const o of ops)
      for (const [status, r] of Object.entries(o.op.responses))
        if (Number(status) >= 400 && o.path !== '/readyz' && JSON.stringify(Object.keys(r.content ?? {})) !== '["application/problem+json"]')
          wrong.push(`${name(o)} ${status}: ${Object.keys(r.content ?? {}).join(',')}`);
    expect(wrong).toEqual([]);
    expect(Object.keys(doc.components.schemas.Problem)).toContain('properties');
  });

  it('declares the results body as text/tab-separated-values (or text/plain), not JSON', () => {
    const op = doc.paths['/v1/projects/{project}/results'].post;
    expect(Object.keys(op.requestBody!.content)).toEqual(['text/tab-separated-values', 'text/tsv', 'text/plain']);
    expect(op.responses['415']).toBeDefined();
  });

  it('needs no token for /healthz, /readyz, /docs and /openapi.json; a bearer token elsewhere', () => {
    const open = ops.filter((o) => Array.isArray(o.op.security) && o.op.security.length === 0).map(name).sort();
    expect(open).toEqual(['GET /docs', 'GET /healthz', 'GET /openapi.json', 'GET /readyz']);
    expect(doc.security).toEqual([{ bearer: [] }]);
    for (const o of ops.filter((x) => x.op.security === undefined)) {
      expect(o.op.responses['401'], name(o)).toBeDefined();
      expect(o.op.responses['403'], name(o)).toBeDefined();
    }
  });

  it('declares 400, 413, 415 and 429 where they can happen', () => {
    const missing: string[] = [];
    for (const o of ops) {
      const want = [429];
      if (o.op.parameters?.length || o.op.requestBody) want.push(400);
      if (o.op.requestBody) want.push(413, 415);
      for (const s of want) if (!o.op.responses[String(s)]) missing.push(`${name(o)} ${s}`);
    }
    expect(missing).toEqual([]);
  });

  it('gives every operation an operationId and a summary, and sets servers', () => {
    expect(ops.filter((o) => !o.op.summary || !o.op.operationId).map(name)).toEqual([]);
    expect(doc.servers?.length).toBeGreaterThan(0);
  });

  it('resolves every $ref inside the document', () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]*)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(50);
    expect([...new Set(refs)].filter((r) => !(r.startsWith('#/components/schemas/') && doc.components.schemas[r.slice(21)]))).toEqual([]);
  });

  it('answers lists with named schemas', () => {
    const ref = (path: string, method = 'get') => (doc.paths[path][method].responses['200'].content!['application/json'].schema as { $ref?: string }).$ref;
    expect(ref('/v1/projects')).toBe('#/components/schemas/ProjectList');
    expect(ref('/v1/projects/{project}/experiments')).toBe('#/components/schemas/ExperimentList');
    expect(ref('/v1/projects/{project}/gate-decisions')).toBe('#/components/schemas/GateDecisionList');
    expect(ref('/v1/tokens')).toBe('#/components/schemas/TokenList');
    expect(ref('/v1/runners/lease', 'post')).toBe('#/components/schemas/LeaseOut');
  });

  it('bounds every integer parameter', () => {
    const unbounded = ops.flatMap((o) =>
      (o.op.parameters ?? [])
        .filter((p) => p.schema.type === 'integer' && (typeof p.schema.minimum !== 'number' || typeof p.schema.maximum !== 'number'))
        .map((p) => `${name(o)} ${p.name}`),
    );
    expect(unbounded).toEqual([]);
  });
});
