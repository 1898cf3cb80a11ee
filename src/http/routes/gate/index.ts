import type { FastifyInstance, FastifyRequest } from 'fastify';
import { effectiveThreshold, type ThresholdSource } from '../../../domain/gate/threshold.js';
import { gate, gateLog, type GateInput } from '../../../services/gate.service.js';
import { getProject } from '../../../services/projects.service.js';
import { MAX_INT32, problems, ref } from '../../schemas.js';
import { nameParams } from '../projects/index.js';

/**
 * Who sets the threshold of this call (SPEC §5): a loop token may raise the project's, never
 * lower it (403). Admin tokens, and every caller with auth off, hold every right.
 */
async function thresholdSourceOf(app: FastifyInstance, req: FastifyRequest, project: string, requested: number | undefined): Promise<ThresholdSource> {
  if (requested === undefined) return 'project';
  const { config } = await getProject(app.deps, project);
  const isAdmin = req.callerRole === null || req.callerRole === 'admin';
  return effectiveThreshold({ projectThreshold: config.threshold, requested, isAdmin }).source;
}

export default async function gateRoutes(app: FastifyInstance) {
  app.post<{ Params: { project: string }; Body: GateInput }>(
    '/v1/projects/:project/gate',
    {
      config: { access: 'write' },
      schema: {
        tags: ['gate'],
        operationId: 'gate',
        summary: 'Gate a result before building on it: accept, reject or reanchor (recorded)',
        params: nameParams,
        body: ref('GateIn'),
        response: { 200: ref('GateAnswer'), ...problems(400, 401, 403, 404, 429, 503) },
      },
    },
    async (req, reply) => {
      const thresholdSource = await thresholdSourceOf(app, req, req.params.project, req.body.threshold);
      // Recorded with the decision (inputs.thresholdSource → gate_decisions.threshold_source).
      const input: GateInput = Object.assign({}, req.body, { thresholdSource });
      // Bounded per token; stops waiting when the client goes away.
      const signal = (req.body.wait ?? 0) > 0 ? app.longPolls.begin(req, reply, 'gate') : undefined;
      return { ...(await gate(app.deps, req.params.project, input, req.caller, { signal })), thresholdSource };
    },
  );

  app.get<{ Params: { project: string; key: string }; Querystring: { threshold?: number } }>(
    '/v1/projects/:project/experiments/:key/gate',
    {
      config: { access: 'read' },
      schema: {
        tags: ['gate'],
        operationId: 'gateCheck',
        summary: 'Read-only gate check: the decision without scheduling anything',
        params: { type: 'object', required: ['project', 'key'], properties: { ...nameParams.properties, key: { type: 'string', pattern: '^[A-Za-z0-9._~:@/+-]{1,128}$' } } },
        querystring: { type: 'object', additionalProperties: false, properties: { threshold: { type: 'number', minimum: 0, maximum: 1 } } },
        response: { 200: ref('GateAnswer'), ...problems(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const thresholdSource = await thresholdSourceOf(app, req, req.params.project, req.query.threshold);
      const input: GateInput = Object.assign({ experiment: req.params.key, thresholdSource }, req.query.threshold !== undefined ? { threshold: req.query.threshold } : {});
      return { ...(await gate(app.deps, req.params.project, input, req.caller, { readOnly: true })), thresholdSource };
    },
  );

  app.get<{ Params: { project: string }; Querystring: { after?: number; limit: number; experiment?: string } }>(
    '/v1/projects/:project/gate-decisions',
    {
      config: { access: 'read' },
      schema: {
        tags: ['gate'],
        operationId: 'listGateDecisions',
        summary: 'Every recorded gate call (who, when, inputs, answer)',
        params: nameParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            after: { type: 'integer', minimum: 0, maximum: MAX_INT32, description: 'id of the last item of the previous page' },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            experiment: { type: 'string', maxLength: 128 },
          },
        },
        response: {
          200: ref('GateDecisionList'),
          ...problems(400, 401, 403, 404),
        },
      },
    },
    async (req) => gateLog(app.deps, req.params.project, req.query),
  );
}
