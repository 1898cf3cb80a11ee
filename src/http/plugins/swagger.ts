import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

export const OPENAPI_INFO = {
  title: 'ECV — epistemic cascade validation',
  version: '0.1.0',
  description: 'Scores experiment results of autonomous research loops, propagates confidence through the premise DAG and gates weak premises.',
};

/** OpenAPI 3.1 from the route schemas, at /openapi.json, with Swagger UI at /docs. */
export default fp(
  async function swaggerPlugin(app: FastifyInstance, opts: { ui?: boolean }) {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: OPENAPI_INFO,
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
        security: [{ bearer: [] }],
      },
      refResolver: { buildLocalReference: (json, _base, _frag, i) => String(json.$id ?? `def-${i}`) },
    });
    if (opts.ui !== false) await app.register(swaggerUi, { routePrefix: '/docs' });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'swagger' },
);
