import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EdgesIn } from '../../../../schemas/edges-in.js';
import { EdgesOut, ExperimentParams, ExperimentsIn, GRAPH_DEFAULT_LIMIT, GraphQuery, ListExperimentsQuery, PostExperimentsQuery, ProjectParams } from '../../../../schemas/routes.js';
import { addEdges, experimentVersions, getExperiment, listProjectExperiments, upsertExperiments, type Writer } from '../../../services/experiments.service.js';
import { getGraph } from '../../../services/graph.service.js';
import { problems, ref } from '../../schemas.js';

/** Who a version is recorded as written by: the token (null with auth off) and the caller name. */
export const writerOf = (req: FastifyRequest): Writer => ({ tokenId: req.callerRole === null ? null : req.caller, caller: req.caller });

export default async function experimentRoutes(app: FastifyInstance) {
  app.post<{ Params: ProjectParams; Querystring: PostExperimentsQuery; Body: ExperimentsIn }>(
    '/v1/projects/:project/experiments',
    {
      config: { access: 'write' },
      schema: {
        tags: ['experiments'],
        operationId: 'postExperiments',
        summary: 'Store one experiment or an array (≤ 10,000) in one transaction; idempotent; changed content is a new version',
        params: ProjectParams,
        querystring: PostExperimentsQuery,
        body: ExperimentsIn,
        response: { 200: ref('UpsertResult'), 201: ref('UpsertResult'), ...problems(400, 401, 403, 404, 409, 413, 422) },
      },
    },
    async (req, reply) => {
      const list = Array.isArray(req.body) ? req.body : [req.body];
      const res = await upsertExperiments(app.deps, req.params.project, list, {
        writer: writerOf(req),
        ...(req.query.source === 'tsv' ? { source: 'tsv', complete: true } : {}),
      });
      return reply.code(res.created > 0 ? 201 : 200).send(res);
    },
  );

  app.get<{ Params: ProjectParams; Querystring: ListExperimentsQuery }>(
    '/v1/projects/:project/experiments',
    {
      config: { access: 'read' },
      schema: {
        tags: ['experiments'],
        operationId: 'listExperiments',
        summary: 'List experiments in row order, optionally by status (paged)',
        params: ProjectParams,
        querystring: ListExperimentsQuery,
        response: {
          200: ref('ExperimentList'),
          ...problems(400, 401, 403, 404),
        },
      },
    },
    async (req) => listProjectExperiments(app.deps, req.params.project, req.query),
  );

  app.get<{ Params: ExperimentParams }>(
    '/v1/projects/:project/experiments/:key',
    {
      config: { access: 'read' },
      schema: { tags: ['experiments'], operationId: 'getExperiment', summary: 'An experiment with its confidence, cascade and reproductions', params: ExperimentParams, response: { 200: ref('Experiment'), ...problems(401, 403, 404) } },
    },
    async (req) => getExperiment(app.deps, req.params.project, req.params.key),
  );

  app.get<{ Params: ExperimentParams }>(
    '/v1/projects/:project/experiments/:key/versions',
    {
      config: { access: 'read' },
      schema: {
        tags: ['experiments'],
        operationId: 'getExperimentVersions',
        summary: "An experiment's versions, oldest first: when, by which token, what changed, content",
        params: ExperimentParams,
        response: { 200: ref('ExperimentVersions'), ...problems(401, 403, 404) },
      },
    },
    async (req) => experimentVersions(app.deps, req.params.project, req.params.key),
  );

  app.post<{ Params: ProjectParams; Body: EdgesIn }>(
    '/v1/projects/:project/edges',
    {
      config: { access: 'write' },
      schema: {
        tags: ['experiments'],
        operationId: 'postEdges',
        summary: 'Add premise edges (from = premise, to = the experiment built on it)',
        params: ProjectParams,
        body: ref('EdgesIn'),
        response: {
          200: EdgesOut,
          ...problems(400, 401, 403, 404, 409, 422),
        },
      },
    },
    async (req) => addEdges(app.deps, req.params.project, req.body.edges),
  );

  app.get<{ Params: ProjectParams; Querystring: GraphQuery }>(
    '/v1/projects/:project/graph',
    {
      config: { access: 'read' },
      schema: {
        tags: ['experiments'],
        operationId: 'getGraph',
        summary: `The premise DAG in pages of experiments in row order (default ${GRAPH_DEFAULT_LIMIT.toLocaleString('en-US')}): nodes with confidence, the edges premise → experiment into them, and the next cursor`,
        params: ProjectParams,
        querystring: GraphQuery,
        response: { 200: ref('Graph'), ...problems(400, 401, 403, 404) },
      },
    },
    async (req) => getGraph(app.deps, req.params.project, req.query),
  );
}
