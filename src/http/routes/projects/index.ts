import type { FastifyInstance } from 'fastify';
import { createProject, getProject, listAll } from '../../../services/projects.service.js';
import { projectOut } from '../../../services/views.js';
import type { ProjectInput } from '../../../domain/project.js';
import { problems, ref } from '../../schemas.js';

export const nameParams = {
  type: 'object',
  required: ['project'],
  properties: { project: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,62}$' } },
} as const;

export default async function projectRoutes(app: FastifyInstance) {
  app.post<{ Body: ProjectInput }>(
    '/v1/projects',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['projects'],
        operationId: 'createProject',
        summary: 'Create a project (idempotent for the same definition)',
        body: ref('ProjectIn'),
        response: { 200: ref('Project'), 201: ref('Project'), ...problems(400, 401, 403, 409) },
      },
    },
    async (req, reply) => {
      const { project, created } = await createProject(app.deps, req.body);
      return reply.code(created ? 201 : 200).send(projectOut(project));
    },
  );

  app.get<{ Querystring: { limit: number; after?: string } }>(
    '/v1/projects',
    {
      config: { access: 'read' },
      schema: {
        tags: ['projects'],
        operationId: 'listProjects',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, after: { type: 'string', maxLength: 63 } },
        },
        response: {
          200: { type: 'object', properties: { items: { type: 'array', items: ref('Project') }, next: { type: ['string', 'null'] } } },
          ...problems(400, 401),
        },
      },
    },
    async (req) => {
      const rows = await listAll(app.deps, req.query.limit, req.query.after, req.visibleProjects);
      return { items: rows.map(projectOut), next: rows.length === req.query.limit ? rows[rows.length - 1].config.name : null };
    },
  );

  app.get<{ Params: { project: string } }>(
    '/v1/projects/:project',
    {
      config: { access: 'read' },
      schema: { tags: ['projects'], operationId: 'getProject', params: nameParams, response: { 200: ref('Project'), ...problems(401, 403, 404) } },
    },
    async (req) => projectOut(await getProject(app.deps, req.params.project)),
  );
}
