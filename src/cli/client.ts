import type { FastifyInstance } from 'fastify';
import { DomainError } from '../domain/errors.js';

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Record<string, string>;
}

/**
 * How CLI commands reach ECV: over HTTP to a service (`--url`/ECV_URL, token ECV_TOKEN), or
 * in-process on the embedded database through the same app (`inject`), so both paths share
 * every rule.
 */
export interface ApiClient {
  request<T = unknown>(method: string, path: string, body?: unknown, contentType?: string): Promise<ApiResponse<T>>;
  close(): Promise<void>;
  describe: string;
}

export function httpClient(baseUrl: string, token?: string): ApiClient {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    describe: base,
    async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json') {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (token) headers.authorization = `Bearer ${token}`;
      let payload: string | undefined;
      if (body !== undefined) {
        headers['content-type'] = contentType;
        payload = typeof body === 'string' ? body : JSON.stringify(body);
      }
      let res: Response;
      try {
        res = await fetch(`${base}${path}`, { method, headers, body: payload });
      } catch (e) {
        throw new DomainError('unavailable', `cannot reach ECV at ${base}: ${(e as Error).message}`);
      }
      const text = await res.text();
      let parsed: unknown = text;
      if ((res.headers.get('content-type') ?? '').includes('json')) parsed = text ? JSON.parse(text) : null;
      return { status: res.status, body: parsed as T, headers: Object.fromEntries(res.headers.entries()) };
    },
    async close() {},
  };
}

export function injectClient(app: FastifyInstance, onClose: () => Promise<void>, label = 'embedded'): ApiClient {
  return {
    describe: label,
    async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json') {
      const res = await app.inject({
        method: method as 'GET',
        url: path,
        ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': contentType } } : {}),
      });
      const ct = String(res.headers['content-type'] ?? '');
      return { status: res.statusCode, body: (ct.includes('json') ? res.json() : res.body) as T, headers: res.headers as Record<string, string> };
    },
    close: onClose,
  };
}

/** The flags of every command that talks to ECV: `--url`/`--token` (HTTP) or `--data-dir` (embedded). */
export const CLIENT_OPTIONS = { url: { type: 'string' }, token: { type: 'string' }, 'data-dir': { type: 'string' } } as const;

/** `openClient` from parsed CLIENT_OPTIONS flags. */
export function openClientFromFlags(values: { url?: string; token?: string; 'data-dir'?: string }): Promise<ApiClient> {
  return openClient({ url: values.url, token: values.token, dataDir: values['data-dir'] });
}

/** Opens a client from flags/env: a URL means HTTP; none means the embedded database. */
export async function openClient(opts: { url?: string; token?: string; dataDir?: string }): Promise<ApiClient> {
  const url = opts.url ?? process.env.ECV_URL;
  if (url) return httpClient(url, opts.token ?? process.env.ECV_TOKEN);
  const { loadConfig } = await import('../config.js');
  const { openDatabase } = await import('../db/connection.js');
  const { migrate } = await import('../db/migrator.js');
  const { buildApp } = await import('../app.js');
  // In-process commands exit when done: background LLM reviews belong to a running service.
  const config = loadConfig({ ...process.env, ECV_AUTH: 'off', OPENAI_API_KEY: '', ...(opts.dataDir ? { ECV_DATA_DIR: opts.dataDir } : {}) });
  if (!config.databaseUrl) {
    const service = await serviceHoldingDataDir(config.dataDir);
    if (service) {
      console.error(`ecv: using the service at ${service} that holds ${config.dataDir}`);
      return httpClient(service, opts.token ?? process.env.ECV_TOKEN);
    }
  }
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  await migrate(db);
  const app = await buildApp({ db, config }, { swaggerUi: false });
  await app.ready();
  return injectClient(app, async () => {
    await app.close();
    await db.close();
  }, config.databaseUrl ? 'in-process (PostgreSQL)' : `in-process (${config.dataDir})`);
}

/**
 * The URL of a live `ecv serve` holding this PGlite directory's lock (its pid alive, its URL
 * answering /healthz), else undefined. Two processes on one directory lose writes, so a CLI
 * command goes through the service that owns it (SPEC §8).
 */
export async function serviceHoldingDataDir(dataDir: string): Promise<string | undefined> {
  if (dataDir === 'memory://') return undefined;
  const { liveHolder } = await import('../db/data-dir-lock.js');
  const url = liveHolder(dataDir)?.url;
  if (!url) return undefined;
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(3000) });
    return res.ok ? url : undefined;
  } catch {
    return undefined;
  }
}

/** Throws a DomainError carrying a problem+json answer's code, detail and errors. */
export function raiseProblem(res: ApiResponse): never {
  const p = (res.body ?? {}) as { code?: string; detail?: string; title?: string; errors?: { pointer?: string; line?: number; message: string }[] };
  const code = (p.code ?? (res.status >= 500 ? 'unavailable' : 'validation_failed')) as ConstructorParameters<typeof DomainError>[0];
  throw new DomainError(code, p.detail ?? p.title ?? `HTTP ${res.status}`, { errors: p.errors });
}
