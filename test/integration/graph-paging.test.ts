import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';

interface GraphPage {
  nodes: { key: string }[];
  edges: { from: string; to: string }[];
  next: number | null;
}

describe.each(ENGINES)('GET /graph in pages on %s (issue 19)', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(engine);
    await t.app.inject({ method: 'POST', url: '/v1/projects', payload: { name: 'pg', metric: { name: 'loss', direction: 'minimize' } } });
    // A chain with side branches and a two-premise merge, then a log that lost one row (absent).
    const rows = Array.from({ length: 23 }, (_, i) => ({
      key: `e${String(i).padStart(2, '0')}`,
      status: i % 4 === 1 ? 'discard' : 'keep',
      value: 1 - i / 100,
      premises: i === 0 ? [] : i % 5 === 0 ? [`e${String(i - 1).padStart(2, '0')}`, `e${String(i - 3).padStart(2, '0')}`] : [`e${String(i - 1).padStart(2, '0')}`],
    }));
    const res = await t.app.inject({ method: 'POST', url: '/v1/projects/pg/experiments?source=tsv', payload: rows });
    expect(res.statusCode, res.body).toBe(201);
    const lost = rows.filter((r) => r.key !== 'e22');
    expect((await t.app.inject({ method: 'POST', url: '/v1/projects/pg/experiments?source=tsv', payload: lost })).json()).toMatchObject({ absent: 1 });
  });
  afterAll(async () => t?.close());

  const get = (query: string) => t.app.inject({ method: 'GET', url: `/v1/projects/pg/graph${query}` });

  it('answers a small project whole, with next null', async () => {
    const whole = (await get('')).json() as GraphPage;
    expect(whole.next).toBeNull();
    expect(whole.nodes).toHaveLength(22);
    expect(whole.nodes.map((n) => n.key)).not.toContain('e22');
    expect(whole.edges).toContainEqual({ from: 'e12', to: 'e15' });
  });

  it.each([1, 4, 7, 21, 22, 23])('pages of %i concatenate to the whole graph, each edge with the page of its child', async (limit) => {
    const whole = (await get('')).json() as GraphPage;
    const nodes: GraphPage['nodes'] = [];
    const edges: GraphPage['edges'] = [];
    let after: number | null = -1;
    let pages = 0;
    while (after !== null) {
      const res = await get(`?limit=${limit}${pages === 0 ? '' : `&after=${after}`}`);
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json() as GraphPage;
      expect(page.nodes.length).toBeLessThanOrEqual(limit);
      const here = new Set(page.nodes.map((n) => n.key));
      for (const e of page.edges) expect(here.has(e.to), `${e.from}→${e.to}`).toBe(true);
      nodes.push(...page.nodes);
      edges.push(...page.edges);
      after = page.next;
      pages++;
    }
    expect(pages).toBe(Math.max(1, Math.ceil(22 / limit)));
    expect(nodes).toEqual(whole.nodes);
    expect(edges).toEqual(whole.edges);
  });

  it.each(['?limit=0', '?limit=50001', '?limit=-3', '?limit=ten', '?after=-2', '?after=x', '?limit=2.5', '?page=2'])('answers %s with a 400 problem', async (query) => {
    const res = await get(query);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'validation_failed' });
  });
});
