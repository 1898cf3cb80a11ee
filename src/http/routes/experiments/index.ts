import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ExperimentInput, ExperimentStatus } from '../../../domain/types.js';
import { addEdges, experimentVersions, getExperiment, listProjectExperiments, upsertExperiments, type Writer } from '../../../services/experiments.service.js';
import { GRAPH_DEFAULT_LIMIT, GRAPH_MAX_LIMIT, getGraph } from '../../../services/graph.service.js';
import { MAX_INT32, problems, ref } from '../../schemas.js';
import { nameParams } from '../projects/index.js';

const keyParams = {
  type: 'object',
  required: ['project', 'key'],
  properties: { ...nameParams.properties, key: { type: 'string', pattern: '^[A-Za-z0-9._~:@/+-]{1,128}$' } },
} as const;

export const MAX_BATCH = 10_000;

/** Who a version is recorded as written by: the token (null with auth off) and the caller name. */
export const writerOf = (req: FastifyRequest): Writer => ({ tokenId: req.callerRole === null ? null : req.caller, caller: req.caller });

export default async function experimentRoutes(app: FastifyInstance) {
  app.post<{ Params: { project: string }; Querystring: { source?: 'tsv' }; Body: ExperimentInput | ExperimentInput[] }>(
    '/v1/projects/:project/experiments',
    {
      config: { access: 'write' },
      schema: {
        tags: ['experiments'],
        operationId: 'postExperiments',
        summary: 'Store one experiment or an array (≤ 10,000) in one transaction; idempotent; changed content is a new version',
        params: nameParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            source: {
              type: 'string',
              enum: ['tsv'],
              description: "the array is the project's whole results.tsv (as `ecv ingest --git` sends it): stored log rows missing from it are marked absent",
            },
          },
        },
        body: { oneOf: [ref('ExperimentIn'), { type: 'array', minItems: 1, maxItems: MAX_BATCH, items: ref('ExperimentIn') }] },
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

  app.get<{ Params: { project: string }; Querystring: { status?: ExperimentStatus[]; after?: number; limit: number } }>(
    '/v1/projects/:project/experiments',
    {
      config: { access: 'read' },
      schema: {
        tags: ['experiments'],
        operationId: 'listExperiments',
        summary: 'List experiments in row order, optionally by status (paged)',
        params: nameParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { type: 'array', items: { type: 'string', enum: ['keep', 'discard', 'crash', 'unknown'] }, maxItems: 4 },
            after: { type: 'integer', minimum: -1, maximum: MAX_INT32, description: 'seq of the last item of the previous page' },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
        response: {
          200: ref('ExperimentList'),
          ...problems(400, 401, 403, 404),
        },
      },
    },
    async (req) => listProjectExperiments(app.deps, req.params.project, req.query),
  );

  app.get<{ Params: { project: string; key: string } }>(
    '/v1/projects/:project/experiments/:key',
    {
      config: { access: 'read' },
      schema: { tags: ['experiments'], operationId: 'getExperiment', summary: 'An experiment with its confidence, cascade and reproductions', params: keyParams, response: { 200: ref('Experiment'), ...problems(401, 403, 404) } },
    },
    async (req) => getExperiment(app.deps, req.params.project, req.params.key),
  );

  app.get<{ Params: { project: string; key: string } }>(
    '/v1/projects/:project/experiments/:key/versions',
    {
      config: { access: 'read' },
      schema: {
        tags: ['experiments'],
        operationId: 'getExperimentVersions',
        summary: "An experiment's versions, oldest first: when, by which token, what changed, content",
        params: keyParams,
        response: { 200: ref('ExperimentVersions'), ...problems(401, 403, 404) },
      },
    },
    async (req) => experimentVersions(app.deps, req.params.project, req.params.key),
  );

  app.post<{ Params: { project: string }; Body: { edges: { from: string; to: string }[] } }>(
    '/v1/projects/:project/edges',
    {
      config: { access: 'write' },
      schema: {
        tags: ['experiments'],
        operationId: 'postEdges',
        summary: 'Add premise edges (from = premise, to = the experiment built on it)',
        params: nameParams,
        body: ref('EdgesIn'),
        response: {
          200: { type: 'object', properties: { added: { type: 'integer' }, unchanged: { type: 'integer' } } },
          ...problems(400, 401, 403, 404, 409, 422),
        },
      },
    },
    async (req) => addEdges(app.deps, req.params.project, req.body.edges),
  );

  app.get<{ Params: { project: string }; Querystring: { limit?: number; after?: number } }>(
    '/v1/projects/:project/graph',
    {
      config: { access: 'read' },
      schema: {
        tags: ['experiments'],
        operationId: 'getGraph',
        summary: `The premise DAG in pages of experiments in row order (default ${GRAPH_DEFAULT_LIMIT.toLocaleString('en-US')}): nodes with confidence, the edges premise → experiment into them, and the next cursor`,
        params: nameParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: GRAPH_MAX_LIMIT, description: `nodes per page (default ${GRAPH_DEFAULT_LIMIT})` },
            after: { type: 'integer', minimum: -1, maximum: MAX_INT32, description: "the previous page's `next`" },
          },
        },
        response: { 200: ref('Graph'), ...problems(400, 401, 403, 404) },
      },
    },
    async (req) => getGraph(app.deps, req.params.project, req.query),
  );
}
