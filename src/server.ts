import { loadConfig } from './config.js';
import { openDatabase } from './db/connection.js';
import { migrate } from './db/migrator.js';
import { pino, type LoggerOptions } from 'pino';
import { buildApp } from './app.js';
import { createContext } from './services/deps.js';
import { ensureAdminToken } from './services/tokens.service.js';
import { redactSecrets, redactingLogger } from './http/log-redact.js';

/**
 * Entry: config → database (migrated under a lock) → context → app → listen; closes gracefully
 * on SIGINT/SIGTERM (in-flight requests finish, then the pool closes).
 */
export async function startServer(env: Record<string, string | undefined> = process.env) {
  const config = loadConfig(env);
  const level = config.logLevel;
  const db = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.dbPool.size,
    poolTimeoutMs: config.dbPool.timeoutMs,
    onPoolError: (err) => console.error(JSON.stringify({ level: 50, msg: 'pool error', err: redactSecrets(err.message) })),
  });
  const applied = await migrate(db);
  await ensureAdminToken({ db, config });
  // One logger for the services and the app (Fastify adds its request serializers to a child).
  const log = pino(redactingLogger({ level }) as LoggerOptions);
  const ctx = createContext({ db, config, log });
  const app = await buildApp(ctx, { loggerInstance: log });
  // onClose hooks run last-added first: this one runs before the app's own, so it drains the
  // gate-decision writer itself (rows of calls still in flight) before the pool closes.
  app.addHook('onClose', async () => {
    await ctx.gateWriter.close();
    await db.close();
  });
  if (applied.length) app.log.info({ applied }, 'migrations applied');
  app.log.info({ engine: db.engine, dataDir: db.engine === 'pglite' ? config.dataDir : undefined }, 'database ready');
  await app.listen({ port: config.port, host: config.host });
  // The lock on a PGlite directory tells CLI commands where to find this service (SPEC §8).
  const address = app.server.address();
  if (db.dataDirLock && address && typeof address === 'object') db.dataDirLock.setUrl(reachableUrl(address.address, address.port));
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => process.exit(1), 10_000);
    timer.unref();
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  return app;
}

/** The URL a local client reaches a listening address at (the unspecified address → loopback). */
export function reachableUrl(address: string, port: number): string {
  const host = address === '0.0.0.0' ? '127.0.0.1' : address === '::' ? '::1' : address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  startServer().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
