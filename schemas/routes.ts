import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { ExperimentIn } from './experiment-in.js';
import { ExperimentKey, inline, ProjectName, RunnerName } from './shared.js';

/**
 * Path parameters, query strings and the small bodies and answers that only one route has.
 * They carry no `$id`: OpenAPI documents parameters inline, and these are not components.
 * Each has its type, so a route's `req.params`/`req.query`/`req.body` follows its schema.
 */

/** The largest value of a PostgreSQL `integer` column: the bound of integer parameters that reach one. */
export const MAX_INT32 = 2_147_483_647;

/** Page size of every paged listing. */
const limit = { type: 'integer', minimum: 1, maximum: 1000, default: 100 } as const;

export const ProjectParams = { type: 'object', required: ['project'], properties: { project: inline(ProjectName) } } as const satisfies JSONSchema;
export type ProjectParams = FromSchema<typeof ProjectParams>;

export const ExperimentParams = {
  type: 'object',
  required: ['project', 'key'],
  properties: { ...ProjectParams.properties, key: inline(ExperimentKey) },
} as const satisfies JSONSchema;
export type ExperimentParams = FromSchema<typeof ExperimentParams>;

export const JobParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid' } } } as const satisfies JSONSchema;
export type JobParams = FromSchema<typeof JobParams>;

export const TokenParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } },
} as const satisfies JSONSchema;
export type TokenParams = FromSchema<typeof TokenParams>;

export const PostExperimentsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    source: {
      type: 'string',
      enum: ['tsv'],
      description: "the array is the project's whole results.tsv (as `ecv ingest --git` sends it): stored log rows missing from it are marked absent",
    },
  },
} as const satisfies JSONSchema;
export type PostExperimentsQuery = FromSchema<typeof PostExperimentsQuery>;

/** Experiments one write may carry (one transaction). */
export const MAX_BATCH = 10_000;

/** The body of `POST /v1/projects/{p}/experiments`: one experiment or an array of them. */
export const ExperimentsIn = {
  oneOf: [{ $ref: 'ExperimentIn#' }, { type: 'array', minItems: 1, maxItems: MAX_BATCH, items: { $ref: 'ExperimentIn#' } }],
} as const satisfies JSONSchema;
export type ExperimentsIn = FromSchema<typeof ExperimentsIn, { references: [typeof ExperimentIn, typeof ExperimentKey] }>;

export const ListExperimentsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { type: 'array', items: { type: 'string', enum: ['keep', 'discard', 'crash', 'unknown'] }, maxItems: 4 },
    after: { type: 'integer', minimum: -1, maximum: MAX_INT32, description: 'seq of the last item of the previous page' },
    limit,
  },
} as const satisfies JSONSchema;
export type ListExperimentsQuery = FromSchema<typeof ListExperimentsQuery>;

/** Nodes per page of GET /graph: the default, and the most one page may ask for. */
export const GRAPH_DEFAULT_LIMIT = 2_000;
export const GRAPH_MAX_LIMIT = 50_000;

export const GraphQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: GRAPH_MAX_LIMIT, description: `nodes per page (default ${GRAPH_DEFAULT_LIMIT})` },
    after: { type: 'integer', minimum: -1, maximum: MAX_INT32, description: "the previous page's `next`" },
  },
} as const satisfies JSONSchema;
export type GraphQuery = FromSchema<typeof GraphQuery>;

export const EdgesOut = { type: 'object', properties: { added: { type: 'integer' }, unchanged: { type: 'integer' } } } as const satisfies JSONSchema;

export const GateCheckQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { threshold: { type: 'number', minimum: 0, maximum: 1 } },
} as const satisfies JSONSchema;
export type GateCheckQuery = FromSchema<typeof GateCheckQuery>;

export const GateDecisionsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    after: { type: 'integer', minimum: 0, maximum: MAX_INT32, description: 'id of the last item of the previous page' },
    limit,
    experiment: { type: 'string', maxLength: 128 },
  },
} as const satisfies JSONSchema;
export type GateDecisionsQuery = FromSchema<typeof GateDecisionsQuery>;

/** A page of a listing by name: `after` is the last name (up to `maxLength`) of the previous page. */
const pageByName = <N extends number>(maxLength: N) =>
  ({ type: 'object', additionalProperties: false, properties: { limit, after: { type: 'string', maxLength } } }) as const satisfies JSONSchema;

export const ListProjectsQuery = pageByName(63);
export type ListProjectsQuery = FromSchema<typeof ListProjectsQuery>;

export const ListTokensQuery = pageByName(64);
export type ListTokensQuery = FromSchema<typeof ListTokensQuery>;

export const ReportQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    format: { type: 'string', enum: ['json', 'html', 'md', 'markdown'], description: 'overrides Accept' },
    maxNodes: { type: 'integer', minimum: 10, maximum: 5000, default: 1500, description: 'most experiments drawn in the DAG' },
  },
} as const satisfies JSONSchema;
export type ReportQuery = FromSchema<typeof ReportQuery>;

export const IndexQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { format: { type: 'string', enum: ['json', 'html'], description: 'overrides Accept' } },
} as const satisfies JSONSchema;
export type IndexQuery = FromSchema<typeof IndexQuery>;

export const ResultsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    strict: { type: 'boolean', default: false, description: 'any row warning rejects the file' },
    direction: { type: 'string', enum: ['minimize', 'maximize'], description: 'for a project created by this ingest' },
    create: { type: 'boolean', default: false, description: 'create the project when missing' },
    metric: { type: 'string', minLength: 1, maxLength: 128, description: "the metric column, for a project created by this ingest (an existing project's metric wins)" },
    statusColumn: { type: 'string', minLength: 1, maxLength: 128, description: 'the column that holds keep/discard decisions (else chosen from the header and cells)' },
  },
} as const satisfies JSONSchema;
export type ResultsQuery = FromSchema<typeof ResultsQuery>;

export const HeartbeatIn = {
  type: 'object',
  additionalProperties: false,
  required: ['runner'],
  properties: { runner: inline(RunnerName) },
} as const satisfies JSONSchema;
export type HeartbeatIn = FromSchema<typeof HeartbeatIn>;

export const HeartbeatOut = { type: 'object', properties: { leaseExpiresAt: { type: 'string' } } } as const satisfies JSONSchema;

export const CompleteOut = {
  type: 'object',
  properties: { duplicate: { type: 'boolean' }, experiment: { type: 'string' }, value: { type: ['number', 'null'] }, ok: { type: 'boolean' } },
} as const satisfies JSONSchema;

export const HealthStatus = {
  type: 'object',
  properties: { status: { type: 'string' }, database: { type: 'string' }, engine: { type: 'string' } },
} as const satisfies JSONSchema;
