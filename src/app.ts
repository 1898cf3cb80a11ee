import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import './http/types.js';
import { createContext, type BaseDeps, type Deps } from './services/deps.js';
import problemErrors, { clientErrorHandler, frameworkErrors } from './http/plugins/problem-errors.js';
import swaggerPlugin from './http/plugins/swagger.js';
import rateLimitPlugin from './http/plugins/rate-limit.js';
import authPlugin from './http/plugins/auth.js';
import jsonGuard from './http/plugins/json-guard.js';
import tokenRoutes from './http/routes/tokens/index.js';
import { loadSchemas } from './http/schemas.js';
import { makeValidatorCompiler } from './http/validation.js';
import healthRoutes from './http/routes/health/index.js';
import projectRoutes from './http/routes/projects/index.js';
import experimentRoutes from './http/routes/experiments/index.js';
import gateRoutes from './http/routes/gate/index.js';
import resultsRoutes from './http/routes/results/index.js';
import runnerRoutes from './http/routes/runners/index.js';
import queuePlugin from './http/plugins/queue.js';
import longPollPlugin from './http/plugins/long-poll.js';
import metricsPlugin from './http/plugins/metrics.js';
import { redactingLogger } from './http/log-redact.js';

export interface BuildOptions {
  logger?: FastifyServerOptions['logger'];
  /** The app's logger when the caller built it (server.ts: the context's log); instead of `logger`. */
  loggerInstance?: FastifyServerOptions['loggerInstance'];
  swaggerUi?: boolean;
  /** Start the job queues (default true; openapi generation skips it). Only with bare deps: a context says it itself. */
  queue?: boolean;
}

/** A built context, or the bare database and config a context is built from (tests, bench, CLI). */
export type AppDeps = Deps | (Omit<BaseDeps, 'log'> & { log?: Deps['log'] });

const isContext = (d: AppDeps): d is Deps => 'notifier' in d && 'gateWriter' in d;

const trustHops = (hops: number) => (_addr: string, i: number) => i < hops;

/**
 * Builds the Fastify app around its context (services/deps.ts), or around a context it builds
 * from bare deps (logging to the app's logger). Never listens; the caller does.
 */
export async function buildApp(deps: AppDeps, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    // Query values and credential-shaped strings never reach the log (log-redact.ts).
    ...(opts.loggerInstance ? { loggerInstance: opts.loggerInstance } : { logger: redactingLogger(opts.logger ?? false) }),
    bodyLimit: deps.config.bodyLimit,
    // A hop count trusts that many proxies in front of the service (Fastify types take it as a function).
    trustProxy: typeof deps.config.trustProxy === 'number' ? trustHops(deps.config.trustProxy) : deps.config.trustProxy,
    requestTimeout: 0,
    ajv: { customOptions: { removeAdditional: false } },
    // Malformed URLs and unparsable requests answer problem+json too (issue 17).
    frameworkErrors,
    clientErrorHandler,
    // Keys are up to 128 characters, ×3 when percent-encoded; the default (100) answered 414.
    routerOptions: { maxParamLength: 512 },
  });
  const ctx = isContext(deps) ? deps : createContext({ ...deps, log: deps.log ?? app.log }, { queue: opts.queue });
  app.decorate('deps', ctx);
  // Each call is answered after its row commits, so a listening server's close (which waits for
  // in-flight answers) has nothing left to write; this drains rows of calls still in flight
  // (app.inject, clients gone), before the caller closes the database.
  app.addHook('onClose', async () => ctx.gateWriter.close());
  app.decorateRequest('visibleProjects', null);
  app.decorateRequest('caller', 'anonymous');
  app.decorateRequest('callerRole', null);

  const shared = loadSchemas();
  for (const s of shared) app.addSchema(s);
  app.setValidatorCompiler(makeValidatorCompiler(shared));

  await app.register(problemErrors);
  // Before any route, so the auth hooks see every route (and 404s) and record their rules.
  await app.register(rateLimitPlugin);
  await app.register(authPlugin);
  await app.register(jsonGuard);
  await app.register(longPollPlugin);
  await app.register(swaggerPlugin, { ui: opts.swaggerUi });
  // After swagger (its route is documented), before the routes (its onResponse hook sees them all).
  await app.register(metricsPlugin);
  if (ctx.queue) await app.register(queuePlugin);
  await app.register(healthRoutes);
  await app.register(projectRoutes);
  await app.register(experimentRoutes);
  await app.register(gateRoutes);
  await app.register(import('./http/routes/bar/index.js'));
  await app.register(import('./http/routes/report/index.js'));
  await app.register(import('./http/routes/home/index.js'));
  await app.register(resultsRoutes);
  await app.register(runnerRoutes);
  await app.register(tokenRoutes);
  return app;
}
