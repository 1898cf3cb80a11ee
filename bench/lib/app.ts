import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { DbHandle } from '../../src/db/connection.js';
import { answerStored } from '../../src/services/gate.service.js';

/**
 * The real service app, in process, on the given database: auth off (loopback), no rate limit
 * in the way, queue running (re-anchoring needs it). With `pkRoute`, registers the benchmark's
 * floor, GET /bench/pk/:id (one primary-key SELECT through the same pool), and
 * GET /bench/decide/:project/:key: the gate's decision without its audit INSERT (what-if only).
 */
export async function buildBenchApp(
  handle: DbHandle,
  opts: { pkRoute?: boolean } = {},
): Promise<FastifyInstance> {
  const config = loadConfig({ ECV_AUTH: 'off', ECV_RATE_LIMIT: '10000000', LOG_LEVEL: 'warn' });
  // Errors only, to stderr: a 5xx in a bench run then says why in the run's log.
  const app = await buildApp({ db: handle, config }, { swaggerUi: false, logger: { level: 'error' } });
  if (opts.pkRoute) {
    app.get<{ Params: { id: number } }>(
      '/bench/pk/:id',
      {
        config: { access: 'public' },
        schema: {
          params: {
            type: 'object',
            required: ['id'],
            properties: { id: { type: 'integer', minimum: 1 } },
          },
          response: {
            200: {
              type: 'object',
              properties: {
                id: { type: 'integer' },
                key: { type: 'string' },
                compounded: { type: ['number', 'null'] },
              },
            },
          },
        },
      },
      async (req, reply) => {
        const row = await handle.db
          .selectFrom('experiments')
          .select(['id', 'key', 'compounded'])
          .where('id', '=', req.params.id)
          .executeTakeFirst();
        if (!row) return reply.code(404).send({ id: req.params.id, key: '', compounded: null });
        return row;
      },
    );
    app.get<{ Params: { project: string; key: string } }>(
      '/bench/decide/:project/:key',
      { config: { access: 'public' } },
      async (req, reply) => {
        // Read and decided exactly as the gate does; only the recording is left out.
        const answer = await answerStored(handle, req.params.project, req.params.key);
        return answer ?? reply.code(404).send({ decision: null });
      },
    );
  }
  await app.ready();
  return app;
}

/** 503 answers retried by `call`, by problem detail (the service asks clients to retry them). */
export const retried = new Map<string, number>();

/**
 * app.inject with a JSON body, as a well-behaved client: a 503 is retried (up to 8 times, short
 * back-off) and counted in `retried`; any other non-2xx answer throws with the problem detail.
 */
export async function call<T>(
  app: FastifyInstance,
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const res = await app.inject({
      method,
      url,
      ...(body !== undefined ? { payload: body as object } : {}),
    });
    if (res.statusCode === 503 && attempt < 8) {
      const detail = (res.json() as { detail?: string }).detail ?? 'unavailable';
      retried.set(detail, (retried.get(detail) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
      continue;
    }
    if (res.statusCode >= 300)
      throw new Error(`${method} ${url} → ${res.statusCode}: ${res.body.slice(0, 500)}`);
    return res.json() as T;
  }
}
