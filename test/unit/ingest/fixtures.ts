import { expect } from 'vitest';
import { DomainError } from '../../../src/domain/errors.js';
import type { ParsedResults } from '../../../src/domain/ingest/index.js';

export const HEADER = 'commit\tval_bpb\tmemory_gb\tstatus\tdescription';
export const tsv = (...lines: string[]): string => lines.join('\n') + '\n';
export const KARPATHY = tsv(
  HEADER,
  'baseline\t0.997900\t44.0\tkeep\tbaseline',
  'bea057b\t0.986041\t43.9\tkeep\thalve batch',
  'c0ffee1\t0.990000\t43.9\tdiscard\twider mlp',
  'dead123\t0.000000\t0.0\tcrash\tOOM',
  '7f2a65c\t0.981773\t60.2\tkeep\tdepth 9',
);

/** Runs `fn` and returns the DomainError it throws (fails the test otherwise). */
export function rejection(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    return e as DomainError;
  }
  throw new Error('expected a DomainError');
}
export const codes = (r: ParsedResults) => r.warnings.map((w) => `${w.line}:${w.code}`);
