import { parseArgs } from 'node:util';
import { startServer } from '../server.js';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/connection.js';
import { migrate } from '../db/migrator.js';

/** `ecv serve [--port N] [--host H]`: the service, as `npm start`. Resolves when it stops. */
export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { port: { type: 'string' }, host: { type: 'string' } } });
  const env = { ...process.env, ...(values.port ? { PORT: values.port } : {}), ...(values.host ? { HOST: values.host } : {}) };
  const app = await startServer(env);
  // The app is already listening: hooks can no longer be added, so wait on the server itself.
  await new Promise<void>((resolve) => app.server.once('close', () => resolve()));
  return 0;
}

/** `ecv migrate`: applies pending migrations to DATABASE_URL or the embedded database. */
export async function migrateCommand(): Promise<number> {
  const config = loadConfig(process.env);
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const applied = await migrate(db);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
  } finally {
    await db.close();
  }
  return 0;
}
