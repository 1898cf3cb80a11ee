import type { FastifyInstance } from 'fastify';
import {
  createToken,
  listTokenRecords,
  revokeTokenById,
  type TokenInput,
  type TokenRecord,
} from '../../../services/tokens.service.js';
import { problems, ref } from '../../schemas.js';

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } },
} as const;

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
  app.post<{ Body: TokenInput }>(
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

  app.get<{ Querystring: { limit: number; after?: string } }>(
    '/v1/tokens',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['tokens'],
        operationId: 'listTokens',
        summary: 'List tokens (revoked ones included), without secrets',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            after: { type: 'string', maxLength: 64 },
          },
        },
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

  app.delete<{ Params: { id: string } }>(
    '/v1/tokens/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['tokens'],
        operationId: 'revokeToken',
        summary: 'Revoke a token (idempotent); it answers 401 from then on',
        params: idParams,
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
