import { Ajv } from 'ajv';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError } from '../../../domain/errors.js';
import { ingestResults } from '../../../services/ingest.service.js';
import { ProjectParams, ResultsQuery } from '../../../../schemas/routes.js';
import { problems, ref } from '../../schemas.js';
import { writerOf } from '../experiments/index.js';

const queryAjv = new Ajv({ allErrors: true, coerceTypes: 'array', useDefaults: true, strict: false });

export const TSV_TYPES = ['text/tab-separated-values', 'text/tsv', 'text/plain'];

const unsupported = (type: string) =>
  new DomainError('unsupported_media_type', `a results body is ${TSV_TYPES[0]} (or text/plain), not ${type}`);

/**
 * Refuses a declared media type other than TSV before the body is read (a preParsing hook),
 * also on a bodyless request, which no parser sees.
 */
async function tsvOnly(req: FastifyRequest, _reply: unknown, payload: unknown) {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== '' && !TSV_TYPES.includes(type)) throw unsupported(type);
  return payload;
}

export default async function resultsRoutes(app: FastifyInstance) {
  // results.tsv bodies arrive as raw bytes; the parser decodes and checks them. The JSON and
  // other default parsers are removed in this scope, so any other media type is a 415
  // (a JSON body used to reach the TSV parser as an object: a 500).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(TSV_TYPES, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.post<{ Params: ProjectParams; Querystring: ResultsQuery; Body: Buffer }>(
    '/v1/projects/:project/results',
    {
      config: { access: 'write' },
      preParsing: tsvOnly,
      schema: {
        tags: ['ingest'],
        consumes: TSV_TYPES,
        operationId: 'ingestResults',
        summary: 'Ingest a results.tsv (text/tab-separated-values); all or nothing, idempotent; changed rows become new versions, lost rows absent',
        params: ProjectParams,
        querystring: ResultsQuery,
        body: { type: 'string', description: 'results.tsv content (UTF-8, or UTF-16 with a BOM)' },
        response: {
          200: ref('IngestResult'),
          201: ref('IngestResult'),
          ...problems(400, 401, 403, 404, 409, 413, 415, 422),
        },
      },
      // The body is bytes, not JSON: validated by the TSV parser instead of a JSON Schema.
      validatorCompiler: ({ schema, httpPart }) => {
        if (httpPart === 'body') return (data: unknown) => ({ value: data });
        const validate = queryAjv.compile(schema as object);
        return (data: unknown) => (validate(data) ? { value: data } : { error: Object.assign(new Error('validation failed'), { validation: validate.errors }) });
      },
    },
    async (req, reply) => {
      const mayCreate = req.callerRole === null || req.callerRole === 'admin';
      // A bodyless POST has no parsed body: an empty table (rejected by the parser as such).
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const res = await ingestResults(app.deps, req.params.project, body, { ...req.query, mayCreate, writer: writerOf(req) });
      return reply.code(res.created > 0 ? 201 : 200).send(res);
    },
  );
}
