import type { FastifyInstance } from 'fastify';
import type { CompleteIn } from '../../../../schemas/complete.js';
import { CompleteOut, HeartbeatIn, HeartbeatOut, JobParams } from '../../../../schemas/routes.js';
import type { LeaseIn } from '../../../../schemas/runner.js';
import { complete, heartbeat, lease } from '../../../services/runner.service.js';
import { problems, ref } from '../../schemas.js';

export default async function runnerRoutes(app: FastifyInstance) {
  app.post<{ Body: LeaseIn }>(
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

  app.post<{ Params: JobParams; Body: HeartbeatIn }>(
    '/v1/jobs/:id/heartbeat',
    {
      config: { access: 'runner' },
      schema: {
        tags: ['runners'],
        operationId: 'heartbeatJob',
        summary: 'Extend the lease of a job this runner holds',
        params: JobParams,
        body: HeartbeatIn,
        response: { 200: HeartbeatOut, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (req) => heartbeat(app.deps, req.params.id, req.body.runner, req.caller),
  );

  app.post<{ Params: JobParams; Body: CompleteIn }>(
    '/v1/jobs/:id/complete',
    {
      config: { access: 'runner' },
      schema: {
        tags: ['runners'],
        operationId: 'completeJob',
        summary: 'Report a job outcome (idempotent by job id)',
        params: JobParams,
        body: ref('CompleteIn'),
        response: {
          200: CompleteOut,
          ...problems(400, 401, 403, 404, 409),
        },
      },
    },
    async (req) => complete(app.deps, req.params.id, req.body, req.caller, req.visibleProjects),
  );
}
