import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { DomainError } from '../../domain/errors.js';

/** Deepest nesting a JSON body may have (free-form `metadata` included). */
export const MAX_JSON_DEPTH = 64;

const escapePointer = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1');
// String.prototype.isWellFormed (Node 20) is ES2024; tsconfig targets ES2022.
const wellFormed = (s: string) =>
  !s.includes('\u0000') && (s as unknown as { isWellFormed(): boolean }).isWellFormed();

interface Frame {
  value: unknown;
  depth: number;
  parent: Frame | null;
  key: string;
}

/** JSON pointer of a frame, built only when a hazard is reported. */
function pointerOf(f: Frame): string {
  const parts: string[] = [];
  for (let cur: Frame | null = f; cur?.parent; cur = cur.parent) parts.push(escapePointer(cur.key));
  return parts.length ? `/${parts.reverse().join('/')}` : '/';
}

/** What JSON.parse produces: arrays and plain objects (not Buffers or other parsed bodies). */
const isJsonContainer = (v: object) => {
  if (Array.isArray(v)) return true;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/**
 * Where a parsed JSON body breaks what storage and hashing can take, or null: nesting deeper
 * than `maxDepth` (recursive JSON handling would overflow the stack), a string or key
 * holding NUL or a lone UTF-16 surrogate (PostgreSQL text and jsonb reject both), or a
 * number too large for a double (`1e309` parses as Infinity). Iterative,
 * so a hostile body cannot overflow the stack here either. Values other than JSON.parse
 * output (a Buffer from a text/binary parser) are not inspected.
 */
export function findJsonHazard(
  body: unknown,
  maxDepth = MAX_JSON_DEPTH,
): { pointer: string; message: string } | null {
  const stack: Frame[] = [{ value: body, depth: 0, parent: null, key: '' }];
  while (stack.length) {
    const f = stack.pop()!;
    const v = f.value;
    if (typeof v === 'string') {
      if (!wellFormed(v))
        return { pointer: pointerOf(f), message: 'string holds NUL or an unpaired surrogate' };
    } else if (typeof v === 'number') {
      // JSON.parse reads 1e309 as Infinity, which JSON.stringify writes back as null: a value
      // stored that way would silently become "no value".
      if (!Number.isFinite(v))
        return { pointer: pointerOf(f), message: 'number is not finite (outside the range of a double)' };
    } else if (v !== null && typeof v === 'object' && isJsonContainer(v)) {
      if (f.depth >= maxDepth)
        return { pointer: pointerOf(f), message: `nested deeper than ${maxDepth} levels` };
      const depth = f.depth + 1;
      if (Array.isArray(v))
        for (let i = 0; i < v.length; i++)
          stack.push({ value: v[i], depth, parent: f, key: String(i) });
      else
        for (const key of Object.keys(v)) {
          if (!wellFormed(key))
            return { pointer: pointerOf(f), message: 'key holds NUL or an unpaired surrogate' };
          stack.push({ value: (v as Record<string, unknown>)[key], depth, parent: f, key });
        }
    }
  }
  return null;
}

/** Rejects hazardous JSON bodies (see findJsonHazard) with 400 before schema validation. */
export default fp(
  async function jsonGuard(app: FastifyInstance) {
    app.addHook('preValidation', async (req) => {
      if (req.body === null || typeof req.body !== 'object' || !isJsonContainer(req.body)) return;
      const hazard = findJsonHazard(req.body);
      if (hazard)
        throw new DomainError('validation_failed', 'request body cannot be stored as sent', {
          errors: [hazard],
        });
    });
  },
  { name: 'json-guard' },
);
