import type { FastifyInstance } from 'fastify';
import { renderIndexHtml } from '../../../domain/report/index.js';
import { buildProjectIndex } from '../../../services/project-index.service.js';
import { IndexQuery } from '../../../../schemas/routes.js';
import { problems, ref } from '../../schemas.js';
import { HTML_CSP, negotiate } from '../report/index.js';

/**
 * `GET /`: the index of the projects the caller may read. A browser (Accept: text/html) gets a
 * page linking each report; anything else gets the same index as JSON, as an API client calling
 * the root of a service expects something to parse rather than a redirect to prose.
 */
export default async function homeRoutes(app: FastifyInstance) {
  app.get<{ Querystring: IndexQuery }>(
    '/',
    {
      config: { access: 'read' },
      schema: {
        tags: ['reports'],
        operationId: 'getProjectIndex',
        summary: 'Index of the projects the token may read: latest keep, its decision and K, gated keeps, pending reproductions, GPU minutes, report link',
        description:
          'Content negotiation by `Accept` (`application/json` (default), `text/html`) or `?format=json|html`. The HTML page is self-contained like the report and reloads itself every 15 s while any listed project has reproductions queued or running. A scoped token sees only its projects.',
        querystring: IndexQuery,
        response: {
          200: {
            description: 'The project index',
            content: {
              'application/json': { schema: ref('ProjectIndex') },
              'text/html': { schema: { type: 'string', description: 'self-contained HTML page' } },
            },
          },
          ...problems(400, 401, 403),
        },
      },
    },
    async (req, reply) => {
      const html = (req.query.format ?? negotiate(req.headers.accept)) === 'html';
      const index = await buildProjectIndex(app.deps, req.visibleProjects);
      reply.header('vary', 'Accept');
      if (!html) return reply.type('application/json; charset=utf-8').send(index);
      reply.header('content-security-policy', HTML_CSP).header('x-content-type-options', 'nosniff');
      return reply.type('text/html; charset=utf-8').send(renderIndexHtml(index));
    },
  );
}
