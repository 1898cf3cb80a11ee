import type { FastifyInstance } from 'fastify';
import { projectBar } from '../../../services/gate.service.js';
import { ProjectParams } from '../../../../schemas/routes.js';
import { problems, ref } from '../../schemas.js';

/** GET /v1/projects/{p}/bar: what the next proposal on the accepted head must beat (SPEC §5). */
export default async function barRoutes(app: FastifyInstance) {
  app.get<{ Params: ProjectParams }>(
    '/v1/projects/:project/bar',
    {
      config: { access: 'read' },
      schema: {
        tags: ['gate'],
        operationId: 'getBar',
        summary: "The bar: the accepted head's posterior level plus barMargin·σ̂ (direction-aware)",
        params: ProjectParams,
        response: { 200: ref('Bar'), ...problems(400, 401, 403, 404) },
      },
    },
    async (req) => projectBar(app.deps, req.params.project),
  );
}
