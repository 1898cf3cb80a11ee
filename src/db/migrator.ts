import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DbHandle } from './connection.js';

export const SQL_DIR = fileURLToPath(new URL('../../sql/', import.meta.url));

export interface Migration {
  version: string;
  sql: string;
}

/** Reads `sql/NNNN_name.sql` files in order. */
export function readMigrations(dir = SQL_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: f.replace(/\.sql$/, ''), sql: readFileSync(`${dir}/${f}`, 'utf8') }));
}

/**
 * Applies pending migrations in one transaction holding the migration lock, so several
 * processes starting at once against one PostgreSQL all come up on the same schema.
 * Returns the versions applied by this call.
 */
export async function migrate(handle: DbHandle, migrations = readMigrations()): Promise<string[]> {
  return handle.withMigrationLock(async (exec) => {
    await exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set(
      ((await exec('SELECT version FROM schema_migrations')).rows as { version: string }[]).map((r) => r.version),
    );
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await exec(m.sql);
      await exec('INSERT INTO schema_migrations (version) VALUES ($1)', [m.version]);
      applied.push(m.version);
    }
    return applied;
  });
}

/** True when every known migration is applied (readiness). */
export async function migrationsDone(handle: DbHandle, migrations = readMigrations()): Promise<boolean> {
  try {
    const rows = (await handle.executeSql('SELECT version FROM schema_migrations')).rows as { version: string }[];
    const done = new Set(rows.map((r) => r.version));
    return migrations.every((m) => done.has(m.version));
  } catch {
    return false;
  }
}
