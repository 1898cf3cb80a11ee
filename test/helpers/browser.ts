/** Headless Chromium for the page tests: Debian's /usr/bin/chromium through playwright-core. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { Browser, Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/**
 * Where a page test writes its screenshots: docs/img/ (shown in the README) only when asked
 * with ECV_UPDATE_SCREENSHOTS=1, else a fresh temp dir, so a test run leaves the tree clean.
 */
export function screenshotDir(name: string): string {
  return process.env.ECV_UPDATE_SCREENSHOTS === '1' ? fileURLToPath(new URL('../../docs/img/', import.meta.url)) : mkdtempSync(join(tmpdir(), `ecv-${name}-img-`));
}

export interface OpenedPage {
  page: Page;
  /** Console errors (CSP violations among them), page errors and failed requests. */
  errors: string[];
  /** Requests that left the service (anything but `base` and data: URLs). */
  foreign: string[];
  requests: string[];
  /** Response headers of the page. */
  headers: Record<string, string>;
}

/** Opens `base + path` as a browser would (Accept: text/html…), expecting a 200 HTML page. */
export async function openPage(browser: Browser, base: string, path: string, viewport = { width: 1280, height: 900 }): Promise<OpenedPage> {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  const foreign: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('request', (r) => {
    requests.push(r.url());
    if (!r.url().startsWith(base) && !r.url().startsWith('data:')) foreign.push(r.url());
  });
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  const res = await page.goto(`${base}${path}`, { waitUntil: 'load' });
  expect(res?.status()).toBe(200);
  expect(res?.headers()['content-type']).toContain('text/html');
  return { page, errors, foreign, requests, headers: res?.headers() ?? {} };
}
