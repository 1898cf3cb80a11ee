import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { negotiate } from '../../src/http/routes/report/index.js';
import { buildReport } from '../../src/services/report.service.js';
import { ENGINES } from '../helpers/db.js';
import { buildTestApp, projectBody, type TestApp } from '../helpers/app.js';
import { ecv } from '../helpers/cli.js';
import { addReproductions, gateCall, syntheticExperiments } from '../helpers/report-fixtures.js';
import { schemaValidator } from '../helpers/schemas.js';
const HOSTILE = '<script>alert("pwned")</script> lower LR | **really**';

describe('content negotiation', () => {
  it('picks the best acceptable form, JSON by default', () => {
    expect(negotiate(undefined)).toBe('json');
    expect(negotiate('*/*')).toBe('json');
    expect(negotiate('text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8')).toBe('html');
    expect(negotiate('text/markdown')).toBe('md');
    expect(negotiate('application/json;q=0.5, text/markdown;q=0.9')).toBe('md');
    expect(negotiate('text/html;q=0, application/json')).toBe('json');
    expect(negotiate('text/*')).toBe('html');
    expect(negotiate('image/png')).toBe('json');
  });
});

describe.each(ENGINES)('GET /v1/projects/{p}/report on %s', (engine) => {
  let t: TestApp;
  const get = (url: string, accept?: string) => t.app.inject({ method: 'GET', url, headers: accept ? { accept } : {} });

  beforeAll(async () => {
    t = await buildTestApp(engine);
    await t.app.inject({ method: 'POST', url: '/v1/projects', payload: projectBody('rep') });
    const exps = syntheticExperiments(150, 3);
    exps[10].description = HOSTILE;
    const posted = await t.app.inject({ method: 'POST', url: '/v1/projects/rep/experiments', payload: exps });
    expect(posted.statusCode, posted.body).toBe(201);
    const keeps = exps.filter((e) => e.status === 'keep' && !e.description?.startsWith('branch'));
    await addReproductions(t.db.handle, 'rep', keeps[2].key, [
      { seed: 1, value: (keeps[2].value as number) - 0.0005, durationS: 240 },
      { seed: 2, value: (keeps[2].value as number) + 0.0005, durationS: 300 },
      { seed: 3, value: null, durationS: 60, error: 'CUDA OOM </td><script>x</script>' },
    ]);
    await gateCall(t.app, 'rep', keeps[keeps.length - 1].key);
    await gateCall(t.app, 'rep', keeps[1].key);
  });
  afterAll(async () => t?.close());

  it('answers JSON by default, matching schemas/report.json and the service model', async () => {
    const res = await get('/v1/projects/rep/report');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers.vary).toMatch(/accept/i);
    const body = res.json();
    const validate = schemaValidator('Report');
    expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
    // Serialization drops nothing the model holds.
    const direct = JSON.parse(JSON.stringify(await buildReport(t.app.deps, 'rep')));
    expect({ ...body, generatedAt: 0 }).toEqual({ ...direct, generatedAt: 0 });

    expect(body.summary).toMatchObject({ experiments: 150, reproductions: 3, reproductionsFailed: 1, reproducedExperiments: 1 });
    expect(body.summary.gpuMinutes).toBeCloseTo(10, 10);
    expect(body.summary.byStatus.keep + body.summary.byStatus.discard + body.summary.byStatus.crash).toBe(150);
    expect(body.summary.head).toBe(body.mainChain.steps.at(-1).key);
    expect(body.gateDecisions.total).toBe(2);
    expect(body.gateDecisions.items[0].id).toBeGreaterThan(body.gateDecisions.items[1].id);
    expect(body.reproductions.items).toHaveLength(3);
    const reproduced = body.mainChain.steps.find((s: { reproduced: unknown }) => s.reproduced);
    expect(reproduced.reproduced).toMatchObject({ runs: 3, failed: 1 });
    expect(reproduced.reproduced.min).toBeLessThan(reproduced.reproduced.max);
    expect(body.dag.drawn).toBe(150);
  });

  it('serves self-contained HTML for Accept: text/html, with hostile text escaped', async () => {
    const res = await get('/v1/projects/rep/report', 'text/html,application/xhtml+xml,*/*;q=0.8');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    const html = res.body;
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;');
    expect(html).toContain('CUDA OOM &lt;/td&gt;&lt;script&gt;');
    expect(html).not.toMatch(/(?:src|href)="https?:/);
    const svg = html.slice(html.indexOf('<svg id="dag"'), html.indexOf('</svg>', html.indexOf('<svg id="dag"')));
    expect(svg.match(/ data-key="/g)).toHaveLength(150);
  });

  it('serves Markdown for Accept: text/markdown, short enough for a PR comment', async () => {
    const res = await get('/v1/projects/rep/report', 'text/markdown');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/markdown/);
    expect(res.body).toMatch(/^## ECV audit report: `rep`/);
    expect(res.body.split('\n').length).toBeLessThanOrEqual(60);
    expect(res.body).not.toMatch(/<script/i);
  });

  it('lets ?format override Accept, and bounds the drawing with ?maxNodes', async () => {
    expect((await get('/v1/projects/rep/report?format=md', 'application/json')).headers['content-type']).toMatch(/^text\/markdown/);
    expect((await get('/v1/projects/rep/report?format=markdown')).headers['content-type']).toMatch(/^text\/markdown/);
    expect((await get('/v1/projects/rep/report?format=html')).headers['content-type']).toMatch(/^text\/html/);
    expect((await get('/v1/projects/rep/report?format=json', 'text/html')).headers['content-type']).toMatch(/^application\/json/);
    const small = (await get('/v1/projects/rep/report?maxNodes=40')).json();
    expect(small.dag.drawn).toBeLessThanOrEqual(40);
    expect(small.dag.elided).toBe(150 - small.dag.drawn);
  });

  it('answers problems for a missing project and bad parameters', async () => {
    const missing = await get('/v1/projects/nope/report', 'text/html');
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    expect(missing.json().code).toBe('not_found');
    expect((await get('/v1/projects/rep/report?format=pdf')).json().code).toBe('validation_failed');
    expect((await get('/v1/projects/rep/report?maxNodes=1')).statusCode).toBe(400);
  });

  it('is listed in the OpenAPI document with its three media types', async () => {
    const doc = (await get('/openapi.json')).json();
    const op = doc.paths['/v1/projects/{project}/report'].get;
    expect(op.operationId).toBe('getReport');
    expect(Object.keys(op.responses['200'].content).sort()).toEqual(['application/json', 'text/html', 'text/markdown']);
  });
});

describe('ecv report', () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await buildTestApp('pglite');
    await t.app.inject({ method: 'POST', url: '/v1/projects', payload: projectBody('cli') });
    await t.app.inject({ method: 'POST', url: '/v1/projects/cli/experiments', payload: syntheticExperiments(40, 5) });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const addr = t.app.server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  afterAll(async () => t?.close());

  it('writes HTML to --out against a service (--url), picking the format from the extension', { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecv-report-'));
    const out = join(dir, 'report.html');
    const r = await ecv(['report', '--project', 'cli', '--url', base, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<svg id="dag"');
    const md = await ecv(['report', '-p', 'cli', '--url', base]);
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toMatch(/^## ECV audit report: `cli`/);
    const json = await ecv(['report', '-p', 'cli', '--url', base, '--format', 'json']);
    expect(JSON.parse(json.stdout).summary.experiments).toBe(40);
    expect((await ecv(['report', '-p', 'nope', '--url', base])).code).toBe(2);
    expect((await ecv(['report', '-p', 'cli', '--format', 'pdf', '--url', base])).code).toBe(2);
  });

  // Each in-process run starts the embedded database (and its queue) from scratch: slow.
  it('works in-process on the embedded database', { timeout: 240_000 }, async () => {
    const data = mkdtempSync(join(tmpdir(), 'ecv-data-'));
    const tsv = join(data, 'results.tsv');
    writeFileSync(tsv, 'commit\tval_bpb\tmemory_gb\tstatus\tdescription\na1\t1.0\t40\tkeep\tbaseline\na2\t0.99\t40\tkeep\tlower lr\na3\t0.995\t40\tdiscard\twider\n');
    const env = { ECV_DATA_DIR: data };
    const ing = await ecv(['ingest', tsv, '--project', 'local', '--direction', 'minimize'], { env });
    expect(ing.code, ing.stderr).toBe(0);
    const r = await ecv(['report', '--project', 'local', '--format', 'md'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('| 3 | 2 | 1 | 0 | 0 |');
  });
});
