import type { Engine } from '../../src/db/connection.js';
import { buildTestApp, projectBody, type TestApp } from './app.js';

/** The app on a fresh database, listening on an ephemeral loopback port (real sockets). */
export async function listenTestApp(engine: Engine, env: Record<string, string> = {}): Promise<TestApp & { url: string }> {
  const t = await buildTestApp(engine, env);
  const url = await t.app.listen({ port: 0, host: '127.0.0.1' });
  return { ...t, url };
}

/** fetch with a JSON body; answers the status, headers and parsed body. */
export async function call(url: string, method: string, body?: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) {
  const res = await fetch(url, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body !== undefined ? JSON.stringify(body) : undefined,
    signal,
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  // Tests read whatever fields the route answers.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: res.status, headers: res.headers, body: json as Record<string, any> };
}

/**
 * A project whose gate answers `reanchor` (threshold 0.999 on a fresh two-step chain), with its
 * first reproduction queued.
 */
export async function reanchoringProject(url: string, name: string, headers: Record<string, string> = {}): Promise<void> {
  const p = await call(`${url}/v1/projects`, 'POST', projectBody(name, { reproduction: { command: 'true', timeBudgetS: 60 } }), headers);
  if (p.status !== 201) throw new Error(`project: ${p.status} ${JSON.stringify(p.body)}`);
  const e = await call(`${url}/v1/projects/${name}/experiments`, 'POST', [
    { key: 'base', status: 'keep', value: 1.0 },
    { key: 'step', status: 'keep', value: 0.99, premises: ['base'] },
  ], headers);
  if (e.status !== 201) throw new Error(`experiments: ${e.status} ${JSON.stringify(e.body)}`);
  const g = await call(`${url}/v1/projects/${name}/gate`, 'POST', { experiment: 'step', threshold: 0.999 }, headers);
  if (g.body.decision !== 'reanchor') throw new Error(`gate: ${JSON.stringify(g.body)}`);
}

/** One sample of a scrape: metric name, labels, value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (samples only; # lines skipped). */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of the samples named `name` whose labels include `labels`. */
export function metricValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}

/** GET /metrics, parsed. */
export async function scrape(url: string, headers: Record<string, string> = {}): Promise<Sample[]> {
  const res = await fetch(`${url}/metrics`, { headers });
  if (res.status !== 200) throw new Error(`/metrics: ${res.status} ${await res.text()}`);
  return parseExposition(await res.text());
}

/** Polls `probe` until it returns true (at most `ms`). */
export async function until(probe: () => Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
