import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
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
  method_not_allowed: 405,
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
  method_not_allowed: 'Method not allowed',
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

const CODE_OF_STATUS: Partial<Record<number, ErrorCode>> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

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
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new DomainError('validation_failed', `malformed URL: ${fe.message}`, { errors: [{ pointer: 'path:/', message: fe.message }] });
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
  // Plugins (@fastify/static under /docs) signal client errors by status alone.
  const byStatus = fe?.statusCode !== undefined ? CODE_OF_STATUS[fe.statusCode] : undefined;
  if (byStatus) return new DomainError(byStatus, fe.message);
  if (fe?.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500) return new DomainError('validation_failed', fe.message);
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

/**
 * Fastify's `frameworkErrors` option: a URL the router cannot decode (`/v1/projects/%zz`)
 * fails before any route or hook, so it is answered here, as problem+json like the rest.
 */
export function frameworkErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply) {
  return sendProblem(req, reply, toDomainError(err));
}

/**
 * Fastify's `clientErrorHandler` option: Node could not parse the request at all (bytes past
 * the body its Content-Length announced read as a broken next request, oversized headers, a
 * header timeout). There is no request object, so the answer is written to the socket, in the
 * same problem+json form, and the connection closed (what follows on it cannot be trusted).
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket) {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const code: ErrorCode = status === 431 ? 'payload_too_large' : 'validation_failed';
  const detail =
    status === 431 ? 'request headers are larger than the limit' : status === 408 ? 'request headers did not arrive in time' : `malformed HTTP request (${err.code ?? 'parse error'}); bytes past a body's Content-Length are read as a next request`;
  const body = JSON.stringify({ type: `https://ecv.dev/problems/${code}`, title: STATUS_CODES[status], status, detail, code });
  if (socket.writable)
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  socket.destroy(err);
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** One error handler for the whole app: every failure leaves as problem+json with a stable code. */
export default fp(
  async function problemErrors(app: FastifyInstance) {
    app.setErrorHandler((err, req, reply) => {
      const e = toDomainError(err);
      if (e.code === 'internal') req.log.error({ err }, 'unhandled error');
      else if (e.code === 'unavailable') req.log.warn({ err: (err as Error).message }, isPoolBusy(err) ? 'database pool busy' : 'database unavailable');
      return sendProblem(req, reply, e);
    });
    // A path that exists under other methods answers 405 with Allow (RFC 9110 §15.5.6), not 404.
    app.setNotFoundHandler((req, reply) => {
      const path = req.url.split('?')[0];
      const allow = METHODS.filter((method) => app.findRoute({ method, url: path }) !== null);
      if (allow.length > 0 && !allow.includes(req.method)) {
        reply.header('allow', allow.join(', '));
        return sendProblem(req, reply, new DomainError('method_not_allowed', `${req.method} is not allowed on ${path}; allowed: ${allow.join(', ')}`));
      }
      return sendProblem(req, reply, new DomainError('not_found', `no route ${req.method} ${path}`));
    });
  },
  { name: 'problem-errors' },
);
