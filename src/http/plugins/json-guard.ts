import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { DomainError } from '../../domain/errors.js';

/** Deepest nesting a JSON body may have (free-form `metadata` included). */
export const MAX_JSON_DEPTH = 64;

const escapePointer = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1');
// String.prototype.isWellFormed (Node 20) is ES2024; tsconfig targets ES2022.
const wellFormed = (s: string) =>
  !s.includes('\u0000') && (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/**
 * Where a parsed JSON body breaks what storage and hashing can take, or null: nesting deeper
 * than `maxDepth` (recursive JSON handling would overflow the stack), or a string or key
 * holding NUL or a lone UTF-16 surrogate (PostgreSQL text and jsonb reject both). Iterative,
 * so a hostile body cannot overflow the stack here either.
 */
export function findJsonHazard(
  body: unknown,
  maxDepth = MAX_JSON_DEPTH,
): { pointer: string; message: string } | null {
  const stack: [unknown, string, number][] = [[body, '', 0]];
  while (stack.length) {
    const [v, pointer, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (!wellFormed(v))
        return { pointer: pointer || '/', message: 'string holds NUL or an unpaired surrogate' };
    } else if (v !== null && typeof v === 'object') {
      if (depth >= maxDepth)
        return { pointer: pointer || '/', message: `nested deeper than ${maxDepth} levels` };
      if (Array.isArray(v))
        for (let i = 0; i < v.length; i++) stack.push([v[i], `${pointer}/${i}`, depth + 1]);
      else
        for (const [k, x] of Object.entries(v)) {
          if (!wellFormed(k))
            return { pointer: pointer || '/', message: 'key holds NUL or an unpaired surrogate' };
          stack.push([x, `${pointer}/${escapePointer(k)}`, depth + 1]);
        }
    }
  }
  return null;
}

/** Rejects hazardous JSON bodies (see findJsonHazard) with 400 before schema validation. */
export default fp(
  async function jsonGuard(app: FastifyInstance) {
    app.addHook('preValidation', async (req) => {
      if (req.body === null || typeof req.body !== 'object') return;
      const hazard = findJsonHazard(req.body);
      if (hazard)
        throw new DomainError('validation_failed', 'request body cannot be stored as sent', {
          errors: [hazard],
        });
    });
  },
  { name: 'json-guard' },
);
