import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, type ErrorCode, type ErrorDetail } from '../../domain/errors.js';

export const STATUS_OF: Record<ErrorCode, number> = {
  validation_failed: 400,
  not_found: 404,
  conflict: 409,
  conflict_cycle: 409,
  unknown_premise: 422,
  unauthorized: 401,
  forbidden: 403,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

const TITLES: Record<ErrorCode, string> = {
  validation_failed: 'Validation failed',
  not_found: 'Not found',
  conflict: 'Conflict',
  conflict_cycle: 'Premise cycle',
  unknown_premise: 'Unknown premise',
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  rate_limited: 'Too many requests',
  unavailable: 'Service unavailable',
  internal: 'Internal error',
};

/** Connection-level failures of PostgreSQL: the database is down or restarting → 503. */
const UNAVAILABLE_PG = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', '53300']);
const UNAVAILABLE_NET = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  if (!e) return false;
  if (e.code && (UNAVAILABLE_PG.has(e.code) || UNAVAILABLE_NET.has(e.code))) return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|terminating connection/i.test(
    e.message ?? '',
  );
}

export function isPoolBusy(err: unknown): boolean {
  return (err as { message?: string } | null)?.message === 'timeout exceeded when trying to connect';
}

/** Maps any error to a DomainError (5xx detail hidden). */
export function toDomainError(err: unknown): DomainError {
  if (err instanceof DomainError) return err;
  const fe = err as FastifyError & { validation?: { instancePath?: string; message?: string; params?: Record<string, unknown> }[]; validationContext?: string };
  if (fe?.validation) {
    const ctx = fe.validationContext ?? 'body';
    const errors: ErrorDetail[] = fe.validation.map((v) => {
      const extra = v.params?.additionalProperty ? ` ('${String(v.params.additionalProperty)}')` : '';
      return { pointer: `${ctx === 'body' ? '' : `${ctx}:`}${v.instancePath || '/'}`, message: `${v.message ?? 'invalid'}${extra}` };
    });
    return new DomainError('validation_failed', `request ${ctx} does not match its schema`, { errors });
  }
  switch (fe?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new DomainError('payload_too_large', 'request body is larger than the limit');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new DomainError('unsupported_media_type', fe.message);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new DomainError('validation_failed', fe.message);
    case '23505':
      return new DomainError('conflict', 'a concurrent write created the same record; retry');
    case '40001':
    case '40P01':
      return new DomainError('unavailable', 'concurrent update; retry');
    // Backstop for values the schemas let through but PostgreSQL cannot store (text it cannot
    // encode, a number out of a column's range, a statement too large): the request's fault.
    case '22P05':
    case '22021':
    case '22003':
    case '54001':
      return new DomainError('validation_failed', `the database cannot store a value of this request (${fe.code}): ${fe.message}`);
  }
  // pg-pool's checkout from a full pool timed out: the database is fine, this process has every
  // connection busy (ECV_DB_POOL_SIZE, ECV_DB_POOL_TIMEOUT_MS). A handshake that times out says
  // "Connection terminated due to connection timeout" instead: the database is unreachable.
  if (isPoolBusy(err)) return new DomainError('unavailable', 'every database connection of this service process is busy (pool exhausted); the database is up: retry shortly', { extra: { retryAfter: 1 } });
  if (isUnavailable(err)) return new DomainError('unavailable', 'the database is unavailable; retry shortly');
  if (fe?.statusCode === 400 || (err instanceof SyntaxError && (fe as { statusCode?: number }).statusCode === 400)) {
    return new DomainError('validation_failed', fe.message);
  }
  if (fe?.statusCode === 429) return new DomainError('rate_limited', fe.message);
  return new DomainError('internal', 'internal error');
}

export function problemBody(req: FastifyRequest, e: DomainError) {
  const status = STATUS_OF[e.code];
  return {
    type: `https://ecv.dev/problems/${e.code}`,
    title: TITLES[e.code],
    status,
    detail: e.message,
    instance: req.url,
    code: e.code,
    ...(e.errors ? { errors: e.errors } : {}),
    ...(e.extra ?? {}),
  };
}

export function sendProblem(req: FastifyRequest, reply: FastifyReply, e: DomainError) {
  const body = problemBody(req, e);
  if (e.code === 'unavailable' || e.code === 'rate_limited') reply.header('retry-after', String(e.extra?.retryAfter ?? 2));
  return reply.code(body.status).type('application/problem+json').serializer(JSON.stringify).send(body);
}

/** One error handler for the whole app: every failure leaves as problem+json with a stable code. */
export default fp(
  async function problemErrors(app: FastifyInstance) {
    app.setErrorHandler((err, req, reply) => {
      const e = toDomainError(err);
      if (e.code === 'internal') req.log.error({ err }, 'unhandled error');
      else if (e.code === 'unavailable') req.log.warn({ err: (err as Error).message }, isPoolBusy(err) ? 'database pool busy' : 'database unavailable');
      return sendProblem(req, reply, e);
    });
    app.setNotFoundHandler((req, reply) => sendProblem(req, reply, new DomainError('not_found', `no route ${req.method} ${req.url.split('?')[0]}`)));
  },
  { name: 'problem-errors' },
);
