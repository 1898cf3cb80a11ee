import type { FastifyInstance } from 'fastify';
import { createProject, getProject, listAll, patchProjectConfig, replaceProjectConfig, type ConfigUpdate } from '../../../services/projects.service.js';
import { projectOut } from '../../../services/views.js';
import type { ProjectIn } from '../../../../schemas/project.js';
import { ListProjectsQuery, ProjectParams } from '../../../../schemas/routes.js';
import { loadSchemas, problems, ref, type JsonSchema } from '../../schemas.js';

type Props = Record<string, Record<string, unknown>>;

/**
 * The PATCH body: ProjectIn with nothing required and `null` allowed on every optional member
 * (merge patch: null resets it to its default). Derived, so ProjectIn stays the one source.
 */
export function projectPatchSchema(): Record<string, unknown> {
  const projectIn = loadSchemas().find((s) => s.$id === 'ProjectIn') as JsonSchema & { properties: Props };
  const nullable = (s: Record<string, unknown>) => ({ anyOf: [s, { type: 'null' }] });
  const props: Props = {};
  for (const [k, s] of Object.entries(projectIn.properties)) {
    if (k === 'name' || k === 'metric') props[k] = k === 'metric' ? { ...s, required: [] } : s;
    else if (k === 'reproduction') {
      const inner = Object.fromEntries(Object.entries(s.properties as Props).map(([ik, is]) => [ik, nullable(is)]));
      props[k] = nullable({ ...s, properties: inner });
    } else props[k] = nullable(s);
  }
  return { type: 'object', additionalProperties: false, minProperties: 1, properties: props };
}

const changeOut = (u: ConfigUpdate) => ({ project: projectOut(u.project), configVersion: u.configVersion, changed: u.changed, rescored: u.rescored });

export default async function projectRoutes(app: FastifyInstance) {
  app.post<{ Body: ProjectIn }>(
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

  app.get<{ Querystring: ListProjectsQuery }>(
    '/v1/projects',
    {
      config: { access: 'read' },
      schema: {
        tags: ['projects'],
        operationId: 'listProjects',
        summary: 'List the projects the token reaches, by name (paged)',
        querystring: ListProjectsQuery,
        response: {
          200: ref('ProjectList'),
          ...problems(400, 401),
        },
      },
    },
    async (req) => {
      const rows = await listAll(app.deps, req.query.limit, req.query.after, req.visibleProjects);
      return { items: rows.map(projectOut), next: rows.length === req.query.limit ? rows[rows.length - 1].config.name : null };
    },
  );

  app.get<{ Params: ProjectParams }>(
    '/v1/projects/:project',
    {
      config: { access: 'read' },
      schema: { tags: ['projects'], operationId: 'getProject', summary: 'A project: its config (ecv.json) and version', params: ProjectParams, response: { 200: ref('Project'), ...problems(401, 403, 404) } },
    },
    async (req) => projectOut(await getProject(app.deps, req.params.project)),
  );

  app.put<{ Params: ProjectParams; Body: ProjectIn }>(
    '/v1/projects/:project',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['projects'],
        operationId: 'replaceProject',
        summary: "Replace the project's config (ecv.json); answers the diff, rescores when a scoring input changed",
        params: ProjectParams,
        body: ref('ProjectIn'),
        response: { 200: ref('ProjectConfigChange'), ...problems(400, 401, 403, 404) },
      },
    },
    async (req) => changeOut(await replaceProjectConfig(app.deps, req.params.project, req.body)),
  );

  app.patch<{ Params: ProjectParams; Body: Record<string, unknown> }>(
    '/v1/projects/:project',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['projects'],
        operationId: 'patchProject',
        summary: "Change fields of the project's config (JSON merge patch; null resets a field); answers the diff",
        params: ProjectParams,
        body: projectPatchSchema(),
        response: { 200: ref('ProjectConfigChange'), ...problems(400, 401, 403, 404) },
      },
    },
    async (req) => changeOut(await patchProjectConfig(app.deps, req.params.project, req.body)),
  );
}
