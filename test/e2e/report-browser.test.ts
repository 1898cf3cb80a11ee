/**
 * The HTML report in a real headless browser (Debian's Chromium through playwright-core):
 * a real autoresearch log and a synthetic 500-experiment loop, served by a listening app.
 * Screenshots go to docs/img/ (shown in the README) only with ECV_UPDATE_SCREENSHOTS=1, else
 * to a temp dir, so a test run leaves the tree clean. Skipped only when Chromium is missing
 * outside CI; in CI (.ci/run installs it) it must run.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser } from 'playwright-core';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { postOk } from '../helpers/app.js';
import { CHROMIUM, CHROMIUM_ARGS, openPage, screenshotDir } from '../helpers/browser.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { addReproductions, gateCall, realLogExperiments, syntheticExperiments } from '../helpers/report-fixtures.js';
import { rng } from '../helpers/prng.js';
import { skipWithoutCorpus } from '../helpers/corpus.js';

const SKIP_REAL = skipWithoutCorpus('the report of the real Karpathy log');

const IMG_DIR = screenshotDir('report');

describe.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('audit report in headless Chromium', () => {
  let db: TestDb;
  let app: FastifyInstance;
  let base: string;
  let browser: Browser;

  const post = (url: string, payload: unknown) => postOk(app, url, payload);

  beforeAll(async () => {
    db = await createTestDb('pglite');
    app = await buildApp({ db: db.handle, config: loadConfig({ ECV_AUTH: 'off' }) }, { swaggerUi: false });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const addr = app.server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;

    // (a) The Karpathy autoresearch H100 log, lineage by the loop's keep-chain rule, with five
    // keeps reproduced by simulated runners (seed spread ≈ 0.002 bpb) and a few gate calls.
    const noise = rng(11);
    if (!SKIP_REAL) {
      await post('/v1/projects', { name: 'karpathy-h100', metric: { name: 'val_bpb', direction: 'minimize' } });
      const real = realLogExperiments();
      await post('/v1/projects/karpathy-h100/experiments', real);
      const keeps = real.filter((e) => e.status === 'keep');
      for (const k of [keeps[1], keeps[2], keeps[4], keeps[6], keeps[8]]) {
        await addReproductions(
          db.handle,
          'karpathy-h100',
          k.key,
          [1, 2, 3].map((seed) => ({ seed, value: (k.value as number) + (noise() - 0.5) * 0.002, runner: 'sim-h100', durationS: 300 + noise() * 20 })),
        );
      }
      for (const k of [keeps[1].key, keeps[2].key, keeps[keeps.length - 1].key]) await gateCall(app, 'karpathy-h100', k);
    }

    // (b) A synthetic 500-experiment loop with branches, some reproductions and gate calls.
    await post('/v1/projects', { name: 'synthetic-500', metric: { name: 'val_bpb', direction: 'minimize' } });
    const syn = syntheticExperiments(500);
    await post('/v1/projects/synthetic-500/experiments', syn);
    const synKeeps = syn.filter((e) => e.status === 'keep' && !e.description?.startsWith('branch'));
    for (const [i, k] of [synKeeps[3], synKeeps[10], synKeeps[20], synKeeps[28], synKeeps[40], synKeeps[50]].entries()) {
      await addReproductions(
        db.handle,
        'synthetic-500',
        k.key,
        [1, 2, 3].map((seed) => ({ seed, value: i === 2 && seed === 3 ? null : (k.value as number) + (noise() - 0.5) * 0.003, durationS: 290, ...(i === 2 && seed === 3 ? { error: 'timeout after 600 s' } : {}) })),
      );
    }
    for (const k of synKeeps.slice(-4)) await gateCall(app, 'synthetic-500', k.key);

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    mkdirSync(IMG_DIR, { recursive: true });
  }, 240_000); // seeding scores ~650 experiments and 33 reproductions; slow on a loaded machine

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await db?.drop();
  });

  /** Opens the report as a browser would (Accept: text/html…), watching console and network. */
  const open = (project: string) => openPage(browser, base, `/v1/projects/${project}/report`);

  async function expectRendered(project: string, screenshot: string) {
    const model = (await app.inject({ method: 'GET', url: `/v1/projects/${project}/report?format=json` })).json();
    const { page, errors, foreign, requests } = await open(project);
    await expect(page.title()).resolves.toContain(project);
    const drawn = await page.locator('svg#dag [data-key]').count();
    expect(drawn).toBe(model.dag.drawn);
    expect(await page.locator('svg#dag [data-key][data-status="keep"]').count()).toBeGreaterThanOrEqual(model.summary.chainLength);
    // The SVG was laid out by the browser: a real, non-empty box.
    const box = await page.locator('svg#dag').boundingBox();
    expect(box!.width).toBeGreaterThan(300);
    expect(box!.height).toBeGreaterThan(60);
    expect(await page.locator('svg#chain-plot polyline.claimed').count()).toBe(1);
    expect(errors).toEqual([]);
    expect(foreign).toEqual([]);
    expect(requests).toHaveLength(1); // the page itself: no scripts, styles, fonts or images fetched
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    await page.screenshot({ path: join(IMG_DIR, screenshot), fullPage: true, clip: { x: 0, y: 0, width: 1280, height: Math.min(height, 1500) } });
    await page.close();
    return { model, drawn };
  }

  it.skipIf(SKIP_REAL)('renders the real Karpathy H100 log', async () => {
    const { model, drawn } = await expectRendered('karpathy-h100', 'report-real.png');
    expect(model.summary.experiments).toBe(realLogExperiments().length);
    expect(drawn).toBe(model.summary.experiments); // small enough to draw everything
    expect(model.summary.reproductions).toBe(15);
  });

  it('renders a synthetic 500-experiment loop', async () => {
    const { model, drawn } = await expectRendered('synthetic-500', 'report-synthetic.png');
    expect(model.summary.experiments).toBe(500);
    expect(drawn).toBeGreaterThan(400);
  });

  it('draws at most maxNodes and says what it left out', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/v1/projects/synthetic-500/report?format=html&maxNodes=120`);
    expect(await page.locator('svg#dag [data-key]').count()).toBeLessThanOrEqual(120);
    await expect(page.locator('#dag-section').innerText()).resolves.toMatch(/Elided: \d+/);
    await page.close();
  });
});
