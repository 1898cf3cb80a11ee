import { sql, type Selectable, type Transaction } from 'kysely';
import type { Database, TokensTable } from './schema.js';
import type { Executor } from './projects.repository.js';

export type TokenRole = 'admin' | 'loop' | 'runner' | 'reader';

/** A stored token, without its secret (only the hash is ever stored, and it stays in db/). */
export interface TokenRecord {
  id: string;
  role: TokenRole;
  /** Project names the token reaches; `['*']` = every project; `[]` for admin tokens. */
  projects: string[];
  label: string | null;
  createdAt: Date;
  revokedAt: Date | null;
}

function rowToToken(row: Omit<Selectable<TokensTable>, 'hash'>): TokenRecord {
  return {
    id: row.id,
    role: row.role as TokenRole,
    projects: Array.isArray(row.projects) ? row.projects : [],
    label: row.label,
    createdAt: new Date(row.created_at),
    revokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
  };
}

const PUBLIC_COLUMNS = ['id', 'role', 'projects', 'label', 'created_at', 'revoked_at'] as const;

/** Stores a token by the hash of its secret. */
export async function insertToken(
  db: Executor,
  t: { id: string; hash: string; role: TokenRole; projects: string[]; label?: string | null },
): Promise<TokenRecord> {
  const row = await db
    .insertInto('tokens')
    .values({
      id: t.id,
      hash: t.hash,
      role: t.role,
      projects: JSON.stringify(t.projects),
      label: t.label ?? null,
    })
    .returning(PUBLIC_COLUMNS)
    .executeTakeFirstOrThrow();
  return rowToToken(row);
}

/** The live (not revoked) token whose secret hashes to `hash`, if any. One indexed read. */
export async function findActiveTokenByHash(
  db: Executor,
  hash: string,
): Promise<TokenRecord | null> {
  const row = await db
    .selectFrom('tokens')
    .select(PUBLIC_COLUMNS)
    .where('hash', '=', hash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return row ? rowToToken(row) : null;
}

/** Tokens ordered by id, `limit` after the cursor `after` (an id). */
export async function listTokens(
  db: Executor,
  limit: number,
  after?: string,
): Promise<TokenRecord[]> {
  let q = db.selectFrom('tokens').select(PUBLIC_COLUMNS).orderBy('id').limit(limit);
  if (after) q = q.where('id', '>', after);
  return (await q.execute()).map(rowToToken);
}

/** Sets revoked_at once (a second revoke keeps the first time); null when no such token. */
export async function revokeToken(db: Executor, id: string): Promise<TokenRecord | null> {
  await db
    .updateTable('tokens')
    .set({ revoked_at: new Date() })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
  const row = await db
    .selectFrom('tokens')
    .select(PUBLIC_COLUMNS)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? rowToToken(row) : null;
}

export async function countActiveAdmins(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('tokens')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('role', '=', 'admin')
    .where('revoked_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Serialises admin bootstrap between service processes starting at once (held to commit). */
export async function lockTokensTable(trx: Transaction<Database>): Promise<void> {
  await sql`LOCK TABLE tokens IN SHARE ROW EXCLUSIVE MODE`.execute(trx);
}
