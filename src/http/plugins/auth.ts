import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../../domain/errors.js';
import { resolveToken, type TokenRole } from '../../services/tokens.service.js';
import type { Access } from '../types.js';

/** A registered route and the access rule it declared (undefined = none: admin only). */
export interface RouteAccess {
  method: string;
  url: string;
  access: Access | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered after the auth plugin, with its access rule (for audits and tests). */
    routeAccess: RouteAccess[];
  }
}

const GRANTS: Record<Exclude<TokenRole, 'admin'>, ReadonlySet<Access>> = {
  loop: new Set<Access>(['public', 'read', 'write']),
  reader: new Set<Access>(['public', 'read']),
  // Runners lease, heartbeat and complete jobs; they read nothing else.
  runner: new Set<Access>(['public', 'runner']),
};

/** Whether a role may call a route with this access rule. Routes without a rule are admin-only (fail closed). */
export function roleAllows(role: TokenRole, access: Access | undefined): boolean {
  if (role === 'admin') return true;
  return access !== undefined && GRANTS[role].has(access);
}

/** Whether the caller's token reaches `project` (always true with auth off or for admins). */
export function canAccessProject(req: FastifyRequest, project: string): boolean {
  return req.visibleProjects === null || req.visibleProjects.has(project);
}

/**
 * Throws `not_found` (the answer for a project that does not exist) when the caller's token
 * does not reach `project`, so a scoped token cannot even learn whether another project
 * exists. For routes without a `:project` param (runner job routes), call it once the
 * resource's project is known.
 */
export function assertProjectAccess(req: FastifyRequest, project: string): void {
  if (!canAccessProject(req, project))
    throw new DomainError('not_found', `no project '${project}'`);
}

// The generated API description and its UI are public; the plugins that serve them declare
// no access rule of their own.
const isDocsRoute = (url: string) =>
  url === '/openapi.json' || url === '/docs' || url.startsWith('/docs/');

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/** The secret of an `Authorization: Bearer <token>` header, or null. */
export function bearerOf(header: string | undefined): string | null {
  const m = /^Bearer[ ]+([^\s]{1,512})\s*$/i.exec(header ?? '');
  return m ? m[1] : null;
}

/**
 * Authentication, authorisation and rate limiting for every request, 404s included.
 *
 * Auth off (ECV_AUTH=off): everyone is `anonymous` and sees every project; non-loopback
 * clients are still rate limited per IP. Auth on: public routes pass untouched; other
 * requests need a live bearer token (401 otherwise, charged to the client IP), are charged
 * to the token's bucket (429), must hold a role granting the route's access (403), and reach
 * a `:project` only within the token's scope (404, as for a project that does not exist).
 */
export default fp(
  async function authPlugin(app: FastifyInstance) {
    const { config } = app.deps;
    const routes: RouteAccess[] = [];
    app.decorate('routeAccess', routes);

    app.addHook('onRoute', (route) => {
      if (route.config?.access === undefined && isDocsRoute(route.url))
        route.config = { ...route.config, access: 'public' };
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods)
        routes.push({ method, url: route.url, access: route.config?.access });
    });
    app.addHook('onReady', async () => {
      const open = routes.filter((r) => r.access === undefined).map((r) => `${r.method} ${r.url}`);
      if (open.length) app.log.warn({ routes: open }, 'routes without config.access: admin only');
    });

    const charge = (key: string) => {
      const wait = app.rateLimit.take(key);
      if (wait > 0)
        throw new DomainError(
          'rate_limited',
          `rate limit of ${config.rateLimitPerMinute} requests per minute exceeded; retry in ${wait} s`,
          { extra: { retryAfter: wait } },
        );
    };

    app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      if (!config.authRequired) {
        if (!LOOPBACK.test(req.ip)) charge(`ip:${req.ip}`);
        return;
      }
      const access = req.routeOptions.config?.access;
      if (access === 'public') return;

      const secret = bearerOf(req.headers.authorization);
      const principal = secret ? await resolveToken(app.deps, secret) : null;
      if (!principal) {
        charge(`ip:${req.ip}`);
        reply.header(
          'www-authenticate',
          secret ? 'Bearer realm="ecv", error="invalid_token"' : 'Bearer realm="ecv"',
        );
        throw new DomainError(
          'unauthorized',
          secret
            ? 'the bearer token is unknown or revoked'
            : 'this route needs `Authorization: Bearer <token>`',
        );
      }
      charge(`token:${principal.id}`);
      req.caller = principal.id;
      req.callerRole = principal.role;
      req.visibleProjects = principal.projects;

      // Any valid token may learn that a route does not exist.
      if (req.is404) return;
      if (!roleAllows(principal.role, access)) {
        throw new DomainError(
          'forbidden',
          access === undefined
            ? 'this route is reserved to admin tokens'
            : `a ${principal.role} token cannot call ${access} routes`,
        );
      }
      const project = (req.params as { project?: unknown } | undefined)?.project;
      if (typeof project === 'string') assertProjectAccess(req, project);
    });
  },
  { name: 'auth', dependencies: ['rate-limit', 'problem-errors'] },
);
