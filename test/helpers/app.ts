import { expect } from 'vitest';
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

/** Listens on a free loopback port; answers the base URL. */
export async function listenLoopback(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  return `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
}

/** POSTs through `app.inject` and expects a 2xx; answers the JSON body. */
export async function postOk(app: FastifyInstance, url: string, payload: unknown): Promise<unknown> {
  const res = await app.inject({ method: 'POST', url, payload: payload as object });
  expect(res.statusCode, res.body).toBeLessThan(300);
  return res.json();
}
