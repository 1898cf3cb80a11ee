import type { FastifyInstance } from 'fastify';
import {
  createToken,
  listTokenRecords,
  revokeTokenById,
  type TokenRecord,
} from '../../../services/tokens.service.js';
import { ListTokensQuery, TokenParams } from '../../../../schemas/routes.js';
import type { TokenIn } from '../../../../schemas/token-in.js';
import { problems, ref } from '../../schemas.js';

const tokenOut = (t: TokenRecord) => ({
  id: t.id,
  role: t.role,
  projects: t.projects,
  label: t.label,
  createdAt: t.createdAt.toISOString(),
  revokedAt: t.revokedAt ? t.revokedAt.toISOString() : null,
});

/** Token management (SPEC §12, §15): admin only. Secrets are shown once, at creation. */
export default async function tokenRoutes(app: FastifyInstance) {
  app.post<{ Body: TokenIn }>(
    '/v1/tokens',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['tokens'],
        operationId: 'createToken',
        summary: 'Create an API token; the secret is in this answer only',
        body: ref('TokenIn'),
        response: { 201: ref('TokenCreated'), ...problems(400, 401, 403, 429) },
      },
    },
    async (req, reply) => {
      const { record, token } = await createToken(app.deps, req.body);
      const { revokedAt: _revoked, ...out } = tokenOut(record);
      return reply.code(201).send({ ...out, token });
    },
  );

  app.get<{ Querystring: ListTokensQuery }>(
    '/v1/tokens',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['tokens'],
        operationId: 'listTokens',
        summary: 'List tokens (revoked ones included), without secrets',
        querystring: ListTokensQuery,
        response: {
          200: ref('TokenList'),
          ...problems(400, 401, 403, 429),
        },
      },
    },
    async (req) => {
      const rows = await listTokenRecords(app.deps, req.query.limit, req.query.after);
      return {
        items: rows.map(tokenOut),
        next: rows.length === req.query.limit ? rows[rows.length - 1].id : null,
      };
    },
  );

  app.delete<{ Params: TokenParams }>(
    '/v1/tokens/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['tokens'],
        operationId: 'revokeToken',
        summary: 'Revoke a token (idempotent); it answers 401 from then on',
        params: TokenParams,
        response: {
          204: { description: 'Revoked', type: 'null' },
          ...problems(401, 403, 404, 429),
        },
      },
    },
    async (req, reply) => {
      await revokeTokenById(app.deps, req.params.id);
      return reply.code(204).send();
    },
  );
}
