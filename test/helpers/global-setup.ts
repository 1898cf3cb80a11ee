import type { TestProject } from 'vitest/node';
import pg from 'pg';
import { openDatabase } from '../../src/db/connection.js';
import { migrate } from '../../src/db/migrator.js';

export const ADMIN_URL = process.env.ECV_TEST_PG_URL ?? 'postgres://root@127.0.0.1:5432/postgres';

declare module 'vitest' {
  export interface ProvidedContext {
    pgTemplate: string | null;
  }
}

/** Migrates a template database once per run; test files clone it (graphile-worker style). */
export default async function setup(project: TestProject) {
  const engines = (process.env.ECV_TEST_ENGINES ?? 'pglite,postgres').split(',');
  if (!engines.includes('postgres')) {
    project.provide('pgTemplate', null);
    return;
  }
  const name = `ecv_tpl_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  const h = await openDatabase({ databaseUrl: url, poolSize: 1 });
  await migrate(h);
  await h.close();
  project.provide('pgTemplate', name);
  return async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  };
}
