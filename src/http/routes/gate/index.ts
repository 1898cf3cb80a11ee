import type { FastifyInstance, FastifyRequest } from 'fastify';
import { effectiveThreshold, type ThresholdSource } from '../../../domain/gate/threshold.js';
import type { GateIn } from '../../../../schemas/gate.js';
import { ExperimentParams, GateCheckQuery, GateDecisionsQuery, ProjectParams } from '../../../../schemas/routes.js';
import { gate, gateLog, type GateInput } from '../../../services/gate.service.js';
import { getProject } from '../../../services/projects.service.js';
import { problems, ref } from '../../schemas.js';

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
  app.post<{ Params: ProjectParams; Body: GateIn }>(
    '/v1/projects/:project/gate',
    {
      config: { access: 'write' },
      schema: {
        tags: ['gate'],
        operationId: 'gate',
        summary: 'Gate a result before building on it: accept, reject or reanchor (recorded)',
        params: ProjectParams,
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

  app.get<{ Params: ExperimentParams; Querystring: GateCheckQuery }>(
    '/v1/projects/:project/experiments/:key/gate',
    {
      config: { access: 'read' },
      schema: {
        tags: ['gate'],
        operationId: 'gateCheck',
        summary: 'Read-only gate check: the decision without scheduling anything',
        params: ExperimentParams,
        querystring: GateCheckQuery,
        response: { 200: ref('GateAnswer'), ...problems(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const thresholdSource = await thresholdSourceOf(app, req, req.params.project, req.query.threshold);
      const input: GateInput = Object.assign({ experiment: req.params.key, thresholdSource }, req.query.threshold !== undefined ? { threshold: req.query.threshold } : {});
      return { ...(await gate(app.deps, req.params.project, input, req.caller, { readOnly: true })), thresholdSource };
    },
  );

  app.get<{ Params: ProjectParams; Querystring: GateDecisionsQuery }>(
    '/v1/projects/:project/gate-decisions',
    {
      config: { access: 'read' },
      schema: {
        tags: ['gate'],
        operationId: 'listGateDecisions',
        summary: 'Every recorded gate call (who, when, inputs, answer)',
        params: ProjectParams,
        querystring: GateDecisionsQuery,
        response: {
          200: ref('GateDecisionList'),
          ...problems(400, 401, 403, 404),
        },
      },
    },
    async (req) => gateLog(app.deps, req.params.project, req.query),
  );
}
