import type { FastifyInstance } from 'fastify';
import { complete, heartbeat, lease, type CompleteInput, type LeaseInput } from '../../../services/runner.service.js';
import { problems, ref } from '../../schemas.js';

const jobParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid' } } } as const;

export default async function runnerRoutes(app: FastifyInstance) {
  app.post<{ Body: LeaseInput & { projects?: string[] } }>(
    '/v1/runners/lease',
    {
      config: { access: 'runner' },
      schema: {
        tags: ['runners'],
        operationId: 'leaseJobs',
        summary: 'Lease re-anchoring jobs (long-polls up to `wait` seconds)',
        body: ref('LeaseIn'),
        response: { 200: ref('LeaseOut'), ...problems(400, 401, 403, 429, 503) },
      },
    },
    async (req, reply) => {
      // Bounded per token; stops polling when the client goes away.
      const signal = (req.body.wait ?? 0) > 0 ? app.longPolls.begin(req, reply, 'lease') : undefined;
      // Scoped tokens fetch only from their projects' queues: never another project's job; a
      // runner started with --project narrows that further.
      const asked = req.body.projects;
      const visible = asked ? new Set(asked.filter((p) => req.visibleProjects === null || req.visibleProjects.has(p))) : req.visibleProjects;
      return { jobs: await lease(app.deps, req.body, req.caller, signal, visible) };
    },
  );

  app.post<{ Params: { id: string }; Body: { runner: string } }>(
    '/v1/jobs/:id/heartbeat',
    {
      config: { access: 'runner' },
      schema: {
        tags: ['runners'],
        operationId: 'heartbeatJob',
        summary: 'Extend the lease of a job this runner holds',
        params: jobParams,
        body: { type: 'object', additionalProperties: false, required: ['runner'], properties: { runner: { type: 'string', pattern: '^[A-Za-z0-9._:@-]{1,128}$' } } },
        response: { 200: { type: 'object', properties: { leaseExpiresAt: { type: 'string' } } }, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (req) => heartbeat(app.deps, req.params.id, req.body.runner, req.caller),
  );

  app.post<{ Params: { id: string }; Body: CompleteInput }>(
    '/v1/jobs/:id/complete',
    {
      config: { access: 'runner' },
      schema: {
        tags: ['runners'],
        operationId: 'completeJob',
        summary: 'Report a job outcome (idempotent by job id)',
        params: jobParams,
        body: ref('CompleteIn'),
        response: {
          200: { type: 'object', properties: { duplicate: { type: 'boolean' }, experiment: { type: 'string' }, value: { type: ['number', 'null'] }, ok: { type: 'boolean' } } },
          ...problems(400, 401, 403, 404, 409),
        },
      },
    },
    async (req) => complete(app.deps, req.params.id, req.body, req.caller, req.visibleProjects),
  );
}
