import type { FastifyServerOptions } from 'fastify';
// Pino's own option type, as Fastify (which depends on pino) re-exports it: ECV has no pino dependency.
import type { PinoLoggerOptions as LoggerOptions } from 'fastify/types/logger.js';

const R = '[redacted]';

// Credential-shaped text. ECV secrets are `ecv_` + 43 base64url characters; the rule is looser
// (8+) so that a truncated or mistyped token is hidden too.
const PATTERNS: [RegExp, string][] = [
  [/\becv_[A-Za-z0-9_-]{8,}/g, `ecv_${R}`],
  [/\b(Bearer|Basic)\s+[^\s"',;]+/gi, `$1 ${R}`],
  // user:password@ in URLs (postgres://u:p@host, https://u:p@host).
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi, `$1${R}@`],
  // key=value and "key": "value" pairs whose key names a secret.
  [/\b((?:[a-z0-9_-]*)(?:password|passwd|pwd|token|secret|api[_-]?key|access[_-]?key|auth)[a-z0-9_-]*)=[^\s&"',;]+/gi, `$1=${R}`],
  [/("(?:[a-z0-9_-]*)(?:password|passwd|token|secret|api[_-]?key|access[_-]?key|authorization)[a-z0-9_-]*"\s*:\s*)"[^"]*"/gi, `$1"${R}"`],
];

/** `text` with every credential-shaped value replaced by `[redacted]`. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const [re, to] of PATTERNS) out = out.replace(re, to);
  return out;
}

/** A URL path with its query's values redacted (the names stay: they help reading a log). */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return redactSecrets(url);
  const names = url
    .slice(q + 1)
    .split('&')
    .filter(Boolean)
    .map((kv) => `${kv.split('=')[0]}=${R}`);
  return `${redactSecrets(url.slice(0, q))}?${redactSecrets(names.join('&'))}`;
}

/** Plain objects and arrays, their strings redacted; anything else (requests, errors) as is. */
function redactDeep(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return redactSecrets(v);
  if (depth > 6 || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => redactDeep(x, depth + 1));
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = redactDeep(x, depth + 1);
  return out;
}

interface ReqLike {
  method: string;
  url: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

interface ErrLike {
  type?: string;
  message?: string;
  stack?: string;
  code?: unknown;
  statusCode?: unknown;
}

/**
 * The logger options with redaction: request URLs lose their query values, the Authorization
 * header never appears, and every logged string (messages, error messages and stacks, fields)
 * has credential-shaped values hidden. A refused `?token=ecv_…` must not land in the log.
 */
export function redactingLogger(opt: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (!opt) return opt;
  const base = (opt === true ? {} : opt) as LoggerOptions;
  const options: LoggerOptions = {
    ...base,
    serializers: {
      ...base.serializers,
      req: (req: ReqLike) => ({ method: req.method, url: redactUrl(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort }),
      err: (err: ErrLike) => ({
        type: err?.type ?? (err as Error)?.constructor?.name,
        message: redactSecrets(String(err?.message ?? err)),
        stack: err?.stack ? redactSecrets(err.stack) : undefined,
        code: err?.code,
        statusCode: err?.statusCode,
      }),
    },
    redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization'], censor: R },
    formatters: { ...base.formatters, log: (obj) => redactDeep(obj) as Record<string, unknown> },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? redactSecrets(a) : a)) as Parameters<typeof method>);
      },
    },
  };
  return options as FastifyServerOptions['logger'];
}
