import { Ajv } from 'ajv';
import type { FastifyInstance } from 'fastify';
import { ingestResults } from '../../../services/ingest.service.js';
import type { Direction } from '../../../domain/types.js';
import { problems, ref } from '../../schemas.js';
import { nameParams } from '../projects/index.js';
import { writerOf } from '../experiments/index.js';

const queryAjv = new Ajv({ allErrors: true, coerceTypes: 'array', useDefaults: true, strict: false });

export const TSV_TYPES = ['text/tab-separated-values', 'text/tsv', 'text/plain'];

export default async function resultsRoutes(app: FastifyInstance) {
  // results.tsv bodies arrive as raw bytes; the parser decodes and checks them.
  app.addContentTypeParser(TSV_TYPES, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.post<{ Params: { project: string }; Querystring: { strict?: boolean; direction?: Direction; create?: boolean; metric?: string; statusColumn?: string }; Body: Buffer }>(
    '/v1/projects/:project/results',
    {
      config: { access: 'write' },
      schema: {
        tags: ['ingest'],
        operationId: 'ingestResults',
        summary: 'Ingest a results.tsv (text/tab-separated-values); all or nothing, idempotent; changed rows become new versions, lost rows absent',
        params: nameParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            strict: { type: 'boolean', default: false, description: 'any row warning rejects the file' },
            direction: { type: 'string', enum: ['minimize', 'maximize'], description: 'for a project created by this ingest' },
            create: { type: 'boolean', default: false, description: 'create the project when missing' },
            metric: { type: 'string', minLength: 1, maxLength: 128, description: "the metric column, for a project created by this ingest (an existing project's metric wins)" },
            statusColumn: { type: 'string', minLength: 1, maxLength: 128, description: 'the column that holds keep/discard decisions (else chosen from the header and cells)' },
          },
        },
        body: { type: 'string', description: 'results.tsv content', format: 'binary' },
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
      const res = await ingestResults(app.deps, req.params.project, req.body, { ...req.query, mayCreate, writer: writerOf(req) });
      return reply.code(res.created > 0 ? 201 : 200).send(res);
    },
  );
}
