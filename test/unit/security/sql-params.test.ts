import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * SPEC §12: parameterised SQL only. Kysely's `sql` template binds every `${…}` as a parameter;
 * what could splice text into SQL is `sql.raw`/`sql.lit`/`sql.id`, `CompiledQuery.raw` with
 * text built at run time, or a driver `query(…)` on a template string. Each place that does
 * so must be listed here with why it is safe, so a new one fails this test until reviewed.
 */
const SRC = fileURLToPath(new URL('../../../src', import.meta.url));

const ALLOWED: Record<string, string> = {
  // Migration scripts: the text of files in sql/, never request data.
  'db/connection.ts:.query(`BEGIN;\\n${text}\\n;COMMIT;`)': 'migration file text',
  // Constant transaction statements.
  "db/pglite-dialect.ts:CompiledQuery.raw('BEGIN')": 'constant',
  "db/pglite-dialect.ts:CompiledQuery.raw('COMMIT')": 'constant',
  "db/pglite-dialect.ts:CompiledQuery.raw('ROLLBACK')": 'constant',
  // LISTEN takes no bind parameter; the channel is checked against /^[a-z_][a-z0-9_]{0,62}$/ first.
  'db/pg-listen.ts:.query(`LISTEN ${channel}`)': 'identifier checked by a strict pattern',
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('SQL is parameterised', () => {
  it('splices text into SQL only at the reviewed places', () => {
    const risky = /sql\.(raw|lit|id|join)\(|CompiledQuery\.raw\([^)]*\)|\.query\(`[^`]*\$\{[^`]*`\)/g;
    const found: string[] = [];
    for (const file of files(SRC)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(risky)) found.push(`${relative(SRC, file)}:${m[0]}`);
    }
    expect(found.sort()).toEqual(Object.keys(ALLOWED).sort());
  });
});
