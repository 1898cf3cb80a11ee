import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Engine } from '../../src/db/connection.js';
import { createTestDb, type TestDb } from './db.js';

export interface TestApp {
  app: FastifyInstance;
  db: TestDb;
  config: Config;
  close(): Promise<void>;
}

/** The app on a fresh database of the given engine, for `app.inject` tests. */
export async function buildTestApp(engine: Engine, env: Record<string, string> = {}): Promise<TestApp> {
  const db = await createTestDb(engine);
  const config = loadConfig({ ECV_AUTH: 'off', ...env });
  const app = await buildApp({ db: db.handle, config }, { swaggerUi: false });
  await app.ready();
  return {
    app,
    db,
    config,
    async close() {
      await app.close();
      await db.drop();
    },
  };
}

/** A minimal valid project body. */
export const projectBody = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  metric: { name: 'val_bpb', direction: 'minimize' },
  ...extra,
});
