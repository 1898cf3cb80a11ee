import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DomainError } from '../domain/errors.js';
import type { DbHandle } from '../db/connection.js';
import {
  countActiveAdmins,
  findActiveTokenByHash,
  insertToken,
  listTokens,
  lockTokensTable,
  revokeToken,
  type TokenRecord,
  type TokenRole,
} from '../db/tokens.repository.js';
import type { Deps } from './deps.js';

export type { TokenRecord, TokenRole };

/** Scope entry meaning "every project" (e.g. a runner fleet serving all projects). */
export const ALL_PROJECTS = '*';

/** Who a bearer token is: its id (recorded as the caller), role and the projects it reaches. */
export interface Principal {
  id: string;
  role: TokenRole;
  /** null = every project (admin, or a token scoped to `*`). */
  projects: Set<string> | null;
}

export interface TokenInput {
  role: TokenRole;
  projects?: string[];
  label?: string;
}

/** Caller id of the configured ECV_ADMIN_TOKEN (it has no row in `tokens`). */
export const ENV_ADMIN_ID = 'admin';

/** sha256 of a token secret, hex: the only form in which secrets are stored. */
export function hashToken(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A new secret: `ecv_` + 32 random bytes, base64url (256 bits; not guessable, no salt needed). */
export function generateSecret(): string {
  return `ecv_${randomBytes(32).toString('base64url')}`;
}

const newTokenId = () => randomBytes(6).toString('hex');

// Positive lookups are cached per database for a few seconds: auth then costs no query on
// the hot path. Revocation clears this process's cache at once; other service processes
// notice within CACHE_TTL_MS.
const CACHE_TTL_MS = 5_000;
const CACHE_MAX = 10_000;
const caches = new WeakMap<DbHandle, Map<string, { principal: Principal; until: number }>>();

function cacheOf(db: DbHandle) {
  let c = caches.get(db);
  if (!c) caches.set(db, (c = new Map()));
  return c;
}

function principalOf(t: TokenRecord): Principal {
  const all = t.role === 'admin' || t.projects.includes(ALL_PROJECTS);
  return { id: t.id, role: t.role, projects: all ? null : new Set(t.projects) };
}

function equalSecrets(a: string, b: string): boolean {
  // Compare fixed-length digests so neither the content nor the length leaks through timing.
  return timingSafeEqual(
    createHash('sha256').update(a).digest(),
    createHash('sha256').update(b).digest(),
  );
}

/** The principal a presented secret stands for, or null (unknown or revoked). */
export async function resolveToken(
  deps: Pick<Deps, 'db' | 'config'>,
  secret: string,
): Promise<Principal | null> {
  const admin = deps.config.adminToken;
  if (admin && equalSecrets(secret, admin))
    return { id: ENV_ADMIN_ID, role: 'admin', projects: null };
  const hash = hashToken(secret);
  const cache = cacheOf(deps.db);
  const now = Date.now();
  const hit = cache.get(hash);
  if (hit && hit.until > now) return hit.principal;
  const row = await findActiveTokenByHash(deps.db.db, hash);
  if (!row) {
    cache.delete(hash);
    return null;
  }
  if (cache.size >= CACHE_MAX) cache.clear();
  const principal = principalOf(row);
  cache.set(hash, { principal, until: now + CACHE_TTL_MS });
  return principal;
}

/** Checks role/scope consistency and normalises the project list (sorted, unique). */
function normalizeScope(input: TokenInput): string[] {
  const projects = [...new Set(input.projects ?? [])].sort();
  if (input.role === 'admin') {
    if (projects.length > 0) {
      throw new DomainError(
        'validation_failed',
        'admin tokens reach every project; leave `projects` empty',
        {
          errors: [{ pointer: '/projects', message: 'must be empty for role admin' }],
        },
      );
    }
    return [];
  }
  if (projects.length === 0) {
    throw new DomainError(
      'validation_failed',
      `a ${input.role} token needs at least one project (or '${ALL_PROJECTS}' for all)`,
      {
        errors: [{ pointer: '/projects', message: 'must name at least one project' }],
      },
    );
  }
  return projects.includes(ALL_PROJECTS) ? [ALL_PROJECTS] : projects;
}

/** Creates a token; the secret is returned here once and never stored (only its hash). */
export async function createToken(
  deps: Pick<Deps, 'db'>,
  input: TokenInput,
): Promise<{ record: TokenRecord; token: string }> {
  const projects = normalizeScope(input);
  const token = generateSecret();
  const record = await insertToken(deps.db.db, {
    id: newTokenId(),
    hash: hashToken(token),
    role: input.role,
    projects,
    label: input.label ?? null,
  });
  return { record, token };
}

export async function listTokenRecords(
  deps: Pick<Deps, 'db'>,
  limit: number,
  after?: string,
): Promise<TokenRecord[]> {
  return listTokens(deps.db.db, limit, after);
}

/** Revokes a token (idempotent); it answers 401 from then on. */
export async function revokeTokenById(deps: Pick<Deps, 'db'>, id: string): Promise<TokenRecord> {
  const record = await revokeToken(deps.db.db, id);
  if (!record) throw new DomainError('not_found', `no token '${id}'`);
  // The cache is keyed by hash, which this process may not know for the id: drop it all.
  caches.get(deps.db)?.clear();
  return record;
}

/**
 * With auth on and no ECV_ADMIN_TOKEN, makes sure an admin token exists: when no live admin
 * token is stored (first start, or every admin token revoked) it generates one, stores its
 * hash and prints the secret once. Serialised by a table lock, so concurrent service
 * processes create one token between them.
 */
export async function ensureAdminToken(
  deps: Pick<Deps, 'db' | 'config'>,
  print: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<{ id: string; token: string } | null> {
  if (!deps.config.authRequired || deps.config.adminToken) return null;
  const created = await deps.db.db.transaction().execute(async (trx) => {
    await lockTokensTable(trx);
    if ((await countActiveAdmins(trx)) > 0) return null;
    const token = generateSecret();
    const record = await insertToken(trx, {
      id: newTokenId(),
      hash: hashToken(token),
      role: 'admin',
      projects: [],
      label: 'bootstrap admin (generated at first start)',
    });
    return { id: record.id, token };
  });
  if (created) print(`ECV admin token (shown once): ${created.token}`);
  return created;
}
