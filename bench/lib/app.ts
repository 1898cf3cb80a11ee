import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { DbHandle } from '../../src/db/connection.js';

/**
 * The real service app, in process, on the given database: auth off (loopback), no rate limit
 * in the way, queue running (re-anchoring needs it). With `pkRoute`, registers the benchmark's
 * floor: GET /bench/pk/:id answers one primary-key SELECT through the same pool.
 */
export async function buildBenchApp(handle: DbHandle, opts: { pkRoute?: boolean } = {}): Promise<FastifyInstance> {
  const config = loadConfig({ ECV_AUTH: 'off', ECV_RATE_LIMIT: '10000000', LOG_LEVEL: 'warn' });
  const app = await buildApp({ db: handle, config }, { swaggerUi: false, logger: false });
  if (opts.pkRoute) {
    app.get<{ Params: { id: number } }>(
      '/bench/pk/:id',
      {
        config: { access: 'public' },
        schema: {
          params: { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } },
          response: {
            200: { type: 'object', properties: { id: { type: 'integer' }, key: { type: 'string' }, compounded: { type: ['number', 'null'] } } },
          },
        },
      },
      async (req, reply) => {
        const row = await handle.db.selectFrom('experiments').select(['id', 'key', 'compounded']).where('id', '=', req.params.id).executeTakeFirst();
        if (!row) return reply.code(404).send({ id: req.params.id, key: '', compounded: null });
        return row;
      },
    );
  }
  await app.ready();
  return app;
}

/** app.inject with a JSON body; throws with the problem detail on a non-2xx answer. */
export async function call<T>(app: FastifyInstance, method: 'GET' | 'POST', url: string, body?: unknown): Promise<T> {
  const res = await app.inject({ method, url, ...(body !== undefined ? { payload: body as object } : {}) });
  if (res.statusCode >= 300) throw new Error(`${method} ${url} → ${res.statusCode}: ${res.body.slice(0, 500)}`);
  return res.json() as T;
}
