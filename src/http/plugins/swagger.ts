import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { problemResponse } from '../schemas.js';

export const OPENAPI_INFO = {
  title: 'ECV — epistemic cascade validation',
  version: '0.1.0',
  description: 'Scores experiment results of autonomous research loops, propagates confidence through the premise DAG and gates weak premises.',
  license: { name: 'MIT', identifier: 'MIT' },
};

const TAGS = [
  { name: 'ops', description: 'Liveness and readiness (no token needed)' },
  { name: 'projects', description: 'Projects and their config (ecv.json)' },
  { name: 'experiments', description: 'Experiments, versions, premise edges and the DAG' },
  { name: 'ingest', description: 'results.tsv ingestion' },
  { name: 'gate', description: 'Gate decisions and the bar' },
  { name: 'reports', description: 'Audit reports' },
  { name: 'runners', description: 'Re-anchoring jobs for GPU runners' },
  { name: 'tokens', description: 'API tokens (admin)' },
];

/** The parts of a route schema (with @fastify/swagger's additions) the contract reads and fills. */
interface Schema {
  hide?: boolean;
  security?: unknown;
  response?: unknown;
  params?: unknown;
  querystring?: unknown;
  body?: unknown;
}

/**
 * Problem statuses a route can answer whatever its own schema lists, declared so the document
 * says what the server does: 400 for any parameter, query or body (malformed URLs too), 413
 * and 415 for a body, 401/403 without or with a too weak token, 429 from the rate limiter,
 * 503 when the database is down. Route-specific ones (404, 409, 422) stay with the routes.
 */
export function standardProblems(route: Pick<RouteOptions, 'config' | 'schema'>): number[] {
  const s: Schema = route.schema ?? {};
  const pub = route.config?.access === 'public';
  const out = [429];
  if (s.params || s.querystring || s.body) out.push(400);
  if (s.body) out.push(413, 415);
  if (!pub) out.push(401, 403, 503);
  return out;
}

/** Fills in the contract of each documented route: problem responses, `security: []` on public ones. */
function declareContract(route: RouteOptions): void {
  const s = route.schema as Schema | undefined;
  if (!s || s.hide) return;
  const response = (s.response ??= {}) as Record<string, unknown>;
  for (const status of standardProblems(route)) response[status] ??= problemResponse();
  if (route.config?.access === 'public') s.security = [];
}

// Swagger UI's own routes are hidden from the document; the page itself is listed, public.
const DOCS_PATH = {
  get: {
    tags: ['ops'],
    operationId: 'docs',
    summary: 'Swagger UI for this document (HTML; no token needed)',
    security: [],
    responses: {
      200: { description: 'The Swagger UI page', content: { 'text/html': { schema: { type: 'string' } } } },
      // Added to the finished document, past the ref resolver: a document-local $ref.
      429: { description: 'Problem details (RFC 9457)', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
    },
  },
};

/** OpenAPI 3.1 from the route schemas, at /openapi.json, with Swagger UI at /docs. */
export default fp(
  async function swaggerPlugin(app: FastifyInstance, opts: { ui?: boolean }) {
    app.addHook('onRoute', declareContract);
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: OPENAPI_INFO,
        servers: [{ url: 'http://127.0.0.1:8080', description: 'a local service with the defaults (`npm start`); elsewhere, its own origin' }],
        tags: TAGS,
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an API token (`ecv_…`); see docs/api.md' } } },
        security: [{ bearer: [] }],
      },
      refResolver: { buildLocalReference: (json, _base, _frag, i) => String(json.$id ?? `def-${i}`) },
      transformObject: (doc) => {
        const api = (doc as { openapiObject: { paths?: Record<string, unknown> } }).openapiObject;
        if (opts.ui !== false) api.paths = { ...api.paths, '/docs': DOCS_PATH };
        return api as never;
      },
    });
    if (opts.ui !== false) await app.register(swaggerUi, { routePrefix: '/docs' });
    app.get(
      '/openapi.json',
      {
        config: { access: 'public' },
        schema: {
          tags: ['ops'],
          operationId: 'openapi',
          summary: 'This OpenAPI 3.1 document (no token needed)',
          response: { 200: { description: 'The OpenAPI document', type: 'object', additionalProperties: true } },
        },
      },
      async () => app.swagger(),
    );
  },
  { name: 'swagger' },
);
