import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import { buildTestApp, projectBody, type TestApp } from '../helpers/app.js';
import { addReproductions } from '../helpers/report-fixtures.js';
import { schemaValidator } from '../helpers/schemas.js';
const ADMIN = 'index-test-admin-token-abcdef';
// Metric names are free text (keys and project names have a safe alphabet).
const HOSTILE = 'acc"><script>alert(1)</script>';

describe.each(ENGINES)('GET / (project index) on %s', (engine) => {
  let t: TestApp;
  let reader: string;
  let runner: string;
  const get = (url: string, secret: string | undefined, accept?: string) =>
    t.app.inject({ method: 'GET', url, headers: { ...(secret ? { authorization: `Bearer ${secret}` } : {}), ...(accept ? { accept } : {}) } });
  const admin = (method: 'POST', url: string, payload: unknown) =>
    t.app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN}` }, payload: payload as object });
  const token = async (body: Record<string, unknown>) => {
    const r = await admin('POST', '/v1/tokens', body);
    expect(r.statusCode, r.body).toBe(201);
    return (r.json() as { token: string }).token;
  };

  beforeAll(async () => {
    t = await buildTestApp(engine, { ECV_AUTH: 'on', ECV_ADMIN_TOKEN: ADMIN });
    // alpha: a root, two keeps on it (the second with a hostile description), a discard; reproduced and gated.
    // A high threshold, so that the head is gated by its weakest link.
    expect((await admin('POST', '/v1/projects', projectBody('alpha', { threshold: 0.8 }))).statusCode).toBe(201);
    const posted = await admin('POST', '/v1/projects/alpha/experiments', [
      { key: 'r', status: 'keep', value: 1 },
      { key: 's', status: 'keep', value: 0.97, premises: ['r'] },
      { key: 'd', status: 'discard', value: 0.99, premises: ['s'] },
      { key: 'u', status: 'keep', value: 0.96, premises: ['s'] },
    ]);
    expect(posted.statusCode, posted.body).toBe(201);
    await addReproductions(t.db.handle, 'alpha', 's', [
      { seed: 1, value: 0.969, durationS: 240 },
      { seed: 2, value: null, durationS: 60, error: 'CUDA OOM' },
    ]);
    const g = await t.app.inject({ method: 'POST', url: '/v1/projects/alpha/gate', headers: { authorization: `Bearer ${ADMIN}` }, payload: { experiment: 'u' } });
    expect(g.statusCode, g.body).toBe(200);
    // beta: nothing kept yet. gamma: never scoped to the reader.
    expect((await admin('POST', '/v1/projects', projectBody('beta'))).statusCode).toBe(201);
    await admin('POST', '/v1/projects/beta/experiments', [{ key: 'c', status: 'crash', value: null }]);
    expect((await admin('POST', '/v1/projects', projectBody('gamma', { metric: { name: HOSTILE, direction: 'maximize' } }))).statusCode).toBe(201);
    reader = await token({ role: 'reader', projects: ['alpha'] });
    runner = await token({ role: 'runner', projects: ['alpha'] });
  });
  afterAll(async () => t?.close());

  async function pendingJobs(project: string): Promise<number> {
    const r = await t.db.handle.db
      .selectFrom('jobs')
      .innerJoin('projects', 'projects.id', 'jobs.project_id')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('projects.name', '=', project)
      .where('jobs.state', 'in', ['queued', 'active'])
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  it('answers JSON by default (schemas/project-index.json), with the figures of each report', async () => {
    const res = await get('/', ADMIN);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers.vary).toMatch(/accept/i);
    const body = res.json();
    const validate = schemaValidator('ProjectIndex');
    expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
    expect(body.truncated).toBe(false);
    expect(body.items.map((p: { name: string }) => p.name)).toEqual(['alpha', 'beta', 'gamma']);

    const [alpha, beta, gamma] = body.items;
    // Each line agrees with the project's own report.
    const rep = (await get('/v1/projects/alpha/report', ADMIN)).json();
    expect(alpha.latestKeep).toMatchObject({ key: 'u', gated: true });
    expect(alpha.latestKeep.key).toBe(rep.summary.head);
    expect(alpha.latestKeep.compounded).toBe(rep.summary.headCompounded);
    expect(alpha.gatedKeeps).toBe(rep.summary.gated);
    expect(alpha.experiments).toBe(4);
    expect(alpha.reproductions).toBe(2);
    expect(alpha.gpuMinutes).toBeCloseTo(5, 10);
    expect(alpha.gpuMinutes).toBeCloseTo(rep.summary.gpuMinutes, 10);
    const decisions = (await get('/v1/projects/alpha/gate-decisions', ADMIN)).json();
    const latest = (decisions.items ?? decisions)[0];
    expect(alpha.latestKeep.decision).toMatchObject({ decision: latest.decision });
    // No sigma0 and nothing repeated: the gate queued runs of the root, which are pending.
    const pending = await pendingJobs('alpha');
    expect(pending).toBeGreaterThan(0);
    expect(alpha.pendingReproductions).toBe(pending);
    expect(rep.summary.pendingReproductions).toBe(pending);
    expect(alpha.report).toBe('/v1/projects/alpha/report?format=html');
    expect((await get(alpha.report, ADMIN)).headers['content-type']).toMatch(/^text\/html/);

    expect(beta).toMatchObject({ experiments: 1, latestKeep: null, gatedKeeps: 0, pendingReproductions: 0, reproductions: 0, gpuMinutes: 0 });
    expect(gamma).toMatchObject({ experiments: 0, latestKeep: null, metric: { name: HOSTILE, direction: 'maximize' } });
  });

  it('serves a self-contained HTML page for Accept: text/html, user text escaped, reloading while jobs are pending', async () => {
    const res = await get('/', ADMIN, 'text/html,application/xhtml+xml,*/*;q=0.8');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const html = res.body;
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('acc&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt; (maximize)');
    expect(html).not.toMatch(/(?:src|href)="https?:/);
    for (const p of ['alpha', 'beta', 'gamma']) expect(html).toContain(`<tr data-project="${p}">`);
    expect(html).toContain('href="/v1/projects/alpha/report?format=html"');
    expect(html).toContain('<meta http-equiv="refresh" content="15">');
    // ?format overrides Accept both ways.
    expect((await get('/?format=json', ADMIN, 'text/html')).headers['content-type']).toMatch(/^application\/json/);
    expect((await get('/?format=html', ADMIN)).headers['content-type']).toMatch(/^text\/html/);
    expect((await get('/?format=pdf', ADMIN)).statusCode).toBe(400);
  });

  it('the report reloads itself only while its reproductions are pending', async () => {
    expect((await get('/v1/projects/alpha/report?format=html', ADMIN)).body).toContain('<meta http-equiv="refresh"');
    const beta = (await get('/v1/projects/beta/report?format=html', ADMIN)).body;
    expect(beta).not.toContain('http-equiv="refresh"');
    expect(beta).not.toContain('id="pending"');
  });

  it('judges stored reproductions against the premise level and says why chain steps are gated', async () => {
    const rep = (await get('/v1/projects/alpha/report', ADMIN)).json();
    const items = rep.reproductions.items as { experiment: string; value: number | null; premiseLevel: number | null; outcome: string }[];
    expect(items).toHaveLength(2);
    for (const x of items) {
      const want = x.value === null ? 'failed' : x.premiseLevel === null ? 'ran' : x.value < x.premiseLevel ? 'reproduced' : 'not_better';
      expect(x.outcome).toBe(want);
    }
    expect(items.map((x) => x.outcome).sort()).toEqual(['failed', 'reproduced']); // 0.969 against r's level ≈ 1
    const s = rep.mainChain.steps.find((x: { key: string }) => x.key === 's');
    expect(s.reproduced).toMatchObject({ runs: 2, failed: 1, beat: 1 });
    const u = rep.mainChain.steps.find((x: { key: string }) => x.key === 'u');
    expect(u.gated).toBe(true);
    expect(u.gatedBy).toMatchObject({ kind: 'weakest_link' });
    // The weakest link is the lowest C on the chain below u (K compounds them, so K ≤ C).
    const link = rep.mainChain.steps.find((x: { key: string }) => x.key === u.gatedBy.key);
    expect(u.gatedBy.confidence).toBeCloseTo(link.confidence, 12);
    expect(u.gatedBy.confidence).toBe(Math.min(...rep.mainChain.steps.map((x: { confidence: number }) => x.confidence)));
    expect(u.compounded).toBeLessThanOrEqual(u.gatedBy.confidence);
    expect((await get('/v1/projects/alpha/report?format=html', ADMIN)).body).toContain(`<span class="why">weakest link <code>${u.gatedBy.key}</code>`);
    for (const step of rep.mainChain.steps) {
      expect(step.gatedBy === null).toBe(!step.gated);
      if (step.gatedBy?.kind === 'weakest_link') expect(rep.mainChain.steps.map((x: { key: string }) => x.key)).toContain(step.gatedBy.key);
    }
  });

  it('shows a scoped reader token only its projects, in both forms', async () => {
    const json = (await get('/', reader)).json();
    expect(json.items.map((p: { name: string }) => p.name)).toEqual(['alpha']);
    const html = (await get('/', reader, 'text/html')).body;
    expect(html).toContain('data-project="alpha"');
    expect(html).not.toContain('beta');
    expect(html).not.toContain('gamma');
  });

  it('needs a token with read access', async () => {
    const none = await get('/', undefined, 'text/html');
    expect(none.statusCode).toBe(401);
    expect(none.headers['content-type']).toContain('application/problem+json');
    expect((await get('/', runner)).statusCode).toBe(403);
  });

  it('is in the OpenAPI document with both media types', async () => {
    const op = (await get('/openapi.json', undefined)).json().paths['/'].get;
    expect(op.operationId).toBe('getProjectIndex');
    expect(Object.keys(op.responses['200'].content).sort()).toEqual(['application/json', 'text/html']);
  });
});
