import type { FastifyInstance } from 'fastify';
import { HealthStatus as status } from '../../../../schemas/routes.js';
import { migrationsDone } from '../../../db/migrator.js';

export default async function healthRoutes(app: FastifyInstance) {
  app.get('/healthz', { config: { access: 'public' }, schema: { tags: ['ops'], operationId: 'health', summary: 'Liveness: the process answers', response: { 200: status } } }, async () => ({ status: 'ok' }));

  app.get(
    '/readyz',
    { config: { access: 'public' }, schema: { tags: ['ops'], operationId: 'ready', summary: 'Readiness: database reachable and migrations done (503 otherwise)', response: { 200: status, 503: status } } },
    async (_req, reply) => {
      const { db } = app.deps;
      try {
        await db.ping();
      } catch {
        return reply.code(503).header('retry-after', '2').send({ status: 'unavailable', database: 'unreachable', engine: db.engine });
      }
      if (!(await migrationsDone(db))) return reply.code(503).send({ status: 'unavailable', database: 'migrations pending', engine: db.engine });
      return { status: 'ready', database: 'ok', engine: db.engine };
    },
  );
}
