/**
 * The project index (`GET /`) in a real headless browser (Debian's Chromium through
 * playwright-core, as the report test): its rows match the JSON index, the link to a report
 * works, and the CSP blocks nothing the page needs (no console errors, nothing fetched). The
 * screenshot goes to docs/img/index.png only with ECV_UPDATE_SCREENSHOTS=1 (else a temp dir),
 * so a test run leaves the tree clean.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, openPage, screenshotDir } from '../helpers/browser.js';
import { buildTestApp, listenLoopback, postOk, type TestApp } from '../helpers/app.js';
import { addReproductions, gateCall, syntheticExperiments } from '../helpers/report-fixtures.js';
import { rng } from '../helpers/prng.js';

const IMG_DIR = screenshotDir('index');

interface IndexItem {
  name: string;
  latestKeep: { key: string } | null;
  gatedKeeps: number;
  pendingReproductions: number;
  report: string;
}

describe.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('project index in headless Chromium', () => {
  let t: TestApp;
  let app: FastifyInstance;
  let base: string;
  let browser: Browser;

  const post = (url: string, payload: unknown) => postOk(app, url, payload);

  beforeAll(async () => {
    // Auth off: every project is readable, as for a local `npm start`.
    t = await buildTestApp('pglite');
    app = t.app;
    base = await listenLoopback(app);

    // A 200-experiment loop, reproduced in part (one run worse than its premise, one failed), with
    // gate calls that leave reproductions queued; a small loop gated once; an empty project.
    const noise = rng(5);
    await post('/v1/projects', { name: 'nanogpt-speedrun', metric: { name: 'val_bpb', direction: 'minimize' } });
    const big = syntheticExperiments(200, 11);
    await post('/v1/projects/nanogpt-speedrun/experiments', big);
    const keeps = big.filter((e) => e.status === 'keep' && !e.description?.startsWith('branch'));
    // Gated while nothing is repeated: the gate queues runs of the root to measure σ (pending).
    for (const k of keeps.slice(-2)) await gateCall(app, 'nanogpt-speedrun', k.key);
    for (const [i, k] of [keeps[2], keeps[6], keeps[12]].entries()) {
      await addReproductions(
        t.db.handle,
        'nanogpt-speedrun',
        k.key,
        [1, 2].map((seed) => ({ seed, value: i === 1 && seed === 2 ? null : (k.value as number) + (i === 2 ? 0.01 : (noise() - 0.5) * 0.002), durationS: 280 + noise() * 40, ...(i === 1 && seed === 2 ? { error: 'CUDA OOM' } : {}) })),
      );
    }
    await post('/v1/projects', { name: 'cifar10-resnet', metric: { name: 'val_acc', direction: 'maximize' }, sigma0: 0.002 });
    await post(
      '/v1/projects/cifar10-resnet/experiments',
      syntheticExperiments(40, 3).map((e) => ({ ...e, value: e.value === null || e.value === undefined ? null : 2 - (e.value as number) - 0.1 })),
    );
    await post('/v1/projects', { name: 'fresh-project', metric: { name: 'loss', direction: 'minimize' } });

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    mkdirSync(IMG_DIR, { recursive: true });
    await gateCall(app, 'cifar10-resnet', syntheticExperiments(40, 3).at(-1)!.key);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function open(url: string) {
    const opened = await openPage(browser, base, url, { width: 1280, height: 800 });
    expect(opened.headers['content-security-policy']).toContain("default-src 'none'");
    return opened;
  }

  it('lists every project with its figures, reloads while reproductions are pending, and links each report', async () => {
    const index = (await app.inject({ method: 'GET', url: '/' })).json() as { items: IndexItem[] };
    expect(index.items.map((p) => p.name)).toEqual(['cifar10-resnet', 'fresh-project', 'nanogpt-speedrun']);
    const speedrun = index.items.find((p) => p.name === 'nanogpt-speedrun')!;
    expect(speedrun.pendingReproductions).toBeGreaterThan(0);

    const { page, errors, foreign, requests } = await open('/');
    await expect(page.title()).resolves.toBe('ECV — projects');
    const rows = page.locator('#projects tbody tr');
    expect(await rows.count()).toBe(index.items.length);
    for (const [i, p] of index.items.entries()) {
      const row = rows.nth(i);
      expect(await row.getAttribute('data-project')).toBe(p.name);
      const text = await row.innerText();
      expect(text).toContain(p.latestKeep ? p.latestKeep.key : 'no keep yet');
      expect(await row.locator('td.pending').innerText()).toBe(String(p.pendingReproductions));
    }
    expect(await page.locator('meta[http-equiv="refresh"]').getAttribute('content')).toBe('15');
    await expect(page.locator('#pending').innerText()).resolves.toMatch(/reloads every 15 s/);
    // Laid out by the browser: the table has a real box.
    expect((await page.locator('#projects').boundingBox())!.width).toBeGreaterThan(800);
    expect(errors).toEqual([]);
    expect(foreign).toEqual([]);
    expect(requests).toEqual([`${base}/`]); // the page itself: nothing else fetched
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    await page.screenshot({ path: join(IMG_DIR, 'index.png'), fullPage: true, clip: { x: 0, y: 0, width: 1280, height: Math.min(height, 600) } });

    // The link opens the project's report, which also loads cleanly.
    await Promise.all([page.waitForURL(`${base}${speedrun.report}`), page.locator('a.proj', { hasText: 'nanogpt-speedrun' }).click()]);
    await expect(page.title()).resolves.toContain('nanogpt-speedrun');
    expect(await page.locator('svg#dag [data-key]').count()).toBeGreaterThan(100);
    expect(await page.locator('meta[http-equiv="refresh"]').count()).toBe(1);
    const outcomes = await page.locator('#reproductions tbody td:nth-child(5)').allInnerTexts();
    expect(outcomes).toHaveLength(6);
    expect(outcomes.filter((o) => o.startsWith('✗ not better'))).toHaveLength(2); // the runs 0.01 worse
    expect(outcomes.filter((o) => o === '✗ failed')).toHaveLength(1);
    expect(errors).toEqual([]);
    expect(foreign).toEqual([]);
    await page.close();
  });

  it('shows a project without pending reproductions without reloading', async () => {
    const { page, errors } = await open('/v1/projects/cifar10-resnet/report?format=html');
    expect(await page.locator('meta[http-equiv="refresh"]').count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });
});
