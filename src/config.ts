import { isAbsolute, resolve } from 'node:path';
import { DomainError } from './domain/errors.js';

/** Validated, frozen service configuration. */
export interface Config {
  port: number;
  host: string;
  /** PostgreSQL URL; absent = embedded PGlite under dataDir. */
  databaseUrl?: string;
  dataDir: string;
  adminToken?: string;
  /** When false, requests need no token (embedded quick start, in-process CLI). */
  authRequired: boolean;
  logLevel: string;
  /** Largest request body in bytes (results.tsv uploads included). */
  bodyLimit: number;
  /** Requests per minute per token (or per IP without a token). */
  rateLimitPerMinute: number;
  /**
   * Which proxies' X-Forwarded-For to believe for the client IP (per-IP rate limits): false (the
   * default: the socket's peer is the client), true (any: only behind a proxy that overwrites the
   * header), a hop count, or a comma-separated list of proxy addresses/CIDRs (Fastify's trustProxy).
   */
  trustProxy: boolean | number | string;
  /** Re-anchoring queue: lease length, re-leases before a job is dead, expiry sweep interval. */
  queue: { leaseSeconds: number; retryLimit: number; maintenanceIntervalSeconds: number };
  /** Calls with `wait` > 0 one token (or, with auth off, one client IP) may hold open at once. */
  longPollsPerToken: number;
  /** PostgreSQL pool per process: connections, and how long a request waits for one (ms). */
  dbPool: { size: number; timeoutMs: number };
  /** Serve /metrics without a token (ECV_METRICS_PUBLIC=1: the port is reachable only by Prometheus). */
  metricsPublic: boolean;
  review: { apiKey?: string; baseUrl?: string; model: string; timeoutMs: number; concurrency: number };
}

type Env = Record<string, string | undefined>;

function intVar(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new DomainError('validation_failed', `${name} must be an integer in [${min}, ${max}], got '${raw}'`);
  }
  return n;
}

function trustProxyVar(raw: string | undefined): boolean | number | string {
  const v = (raw ?? '').trim();
  if (v === '' || /^(false|off|no)$/i.test(v)) return false;
  if (/^(true|on|yes)$/i.test(v)) return true;
  if (/^\d+$/.test(v)) return Number(v);
  // Addresses or CIDRs, e.g. "10.0.0.0/8, 127.0.0.1".
  if (v.split(',').every((p) => /^[0-9a-f.:]+(\/\d{1,3})?$/i.test(p.trim()))) return v;
  throw new DomainError('validation_failed', `ECV_TRUST_PROXY must be true, false, a hop count or addresses/CIDRs separated by commas (got '${raw}')`);
}

/** Reads configuration from the environment; throws a DomainError on any bad value. Pure. */
export function loadConfig(env: Env, cwd = '.'): Config {
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new DomainError('validation_failed', `DATABASE_URL must start with postgres:// (got '${databaseUrl.slice(0, 20)}…')`);
  }
  const dataDirRaw = env.ECV_DATA_DIR || './data';
  const dataDir = dataDirRaw === 'memory://' || isAbsolute(dataDirRaw) ? dataDirRaw : resolve(cwd, dataDirRaw);
  const authMode = (env.ECV_AUTH ?? '').toLowerCase();
  if (authMode && !['on', 'off'].includes(authMode)) {
    throw new DomainError('validation_failed', `ECV_AUTH must be 'on' or 'off' (got '${env.ECV_AUTH}')`);
  }
  const cfg: Config = {
    port: intVar(env, 'PORT', 8080, 0, 65535),
    host: env.HOST || '127.0.0.1',
    databaseUrl,
    dataDir,
    adminToken: env.ECV_ADMIN_TOKEN || undefined,
    // Auth is on when explicitly asked for, when an admin token is configured, or on PostgreSQL
    // (a shared deployment). The embedded quick start on loopback needs no token.
    authRequired: authMode ? authMode === 'on' : Boolean(env.ECV_ADMIN_TOKEN || databaseUrl),
    logLevel: env.LOG_LEVEL || 'info',
    bodyLimit: intVar(env, 'ECV_BODY_LIMIT', 64 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    rateLimitPerMinute: intVar(env, 'ECV_RATE_LIMIT', 6000, 1, 10_000_000),
    trustProxy: trustProxyVar(env.ECV_TRUST_PROXY),
    queue: {
      leaseSeconds: intVar(env, 'ECV_LEASE_S', 120, 2, 86_400),
      retryLimit: intVar(env, 'ECV_LEASE_RETRIES', 2, 0, 100),
      maintenanceIntervalSeconds: intVar(env, 'ECV_QUEUE_MAINTENANCE_S', 10, 1, 3600),
    },
    longPollsPerToken: intVar(env, 'ECV_LONG_POLLS_PER_TOKEN', 64, 1, 100_000),
    dbPool: {
      size: intVar(env, 'ECV_DB_POOL_SIZE', 20, 1, 1000),
      timeoutMs: intVar(env, 'ECV_DB_POOL_TIMEOUT_MS', 10_000, 100, 600_000),
    },
    metricsPublic: /^(1|true|on|yes)$/i.test(env.ECV_METRICS_PUBLIC ?? ''),
    review: {
      apiKey: env.OPENAI_API_KEY || undefined,
      baseUrl: env.OPENAI_BASE_URL || undefined,
      model: env.ECV_REVIEW_MODEL || 'gpt-4o-mini',
      timeoutMs: intVar(env, 'ECV_REVIEW_TIMEOUT_MS', 30_000, 100, 600_000),
      concurrency: intVar(env, 'ECV_REVIEW_CONCURRENCY', 2, 1, 64),
    },
  };
  return Object.freeze(cfg);
}
