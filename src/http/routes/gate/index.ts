import type { FastifyInstance } from 'fastify';
import { gate, gateLog, type GateInput } from '../../../services/gate.service.js';
import { problems, ref } from '../../schemas.js';
import { nameParams } from '../projects/index.js';

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
        response: { 200: ref('GateAnswer'), ...problems(400, 401, 403, 404, 503) },
      },
    },
    async (req) => gate(app.deps, req.params.project, req.body, req.caller),
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
    async (req) =>
      gate(app.deps, req.params.project, { experiment: req.params.key, ...(req.query.threshold !== undefined ? { threshold: req.query.threshold } : {}) }, req.caller, { readOnly: true }),
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
            after: { type: 'integer', minimum: 0 },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            experiment: { type: 'string', maxLength: 128 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'integer' },
                    experiment: { type: 'string' },
                    caller: { type: ['string', 'null'] },
                    inputs: { type: 'object', additionalProperties: true },
                    decision: { type: 'string' },
                    answer: { type: 'object', additionalProperties: true },
                    createdAt: { type: 'string' },
                  },
                },
              },
              next: { type: ['integer', 'null'] },
            },
          },
          ...problems(400, 401, 403, 404),
        },
      },
    },
    async (req) => gateLog(app.deps, req.params.project, req.query),
  );
}
