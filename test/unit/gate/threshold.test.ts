import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../src/domain/errors.js';
import { effectiveThreshold } from '../../../src/domain/gate/threshold.js';

describe('effectiveThreshold (SPEC §5: the gated agent cannot lower its own bar)', () => {
  it("uses the project's threshold when the call names none or the same one", () => {
    expect(effectiveThreshold({ projectThreshold: 0.6, isAdmin: false })).toEqual({ threshold: 0.6, source: 'project' });
    expect(effectiveThreshold({ projectThreshold: 0.6, requested: 0.6, isAdmin: false })).toEqual({ threshold: 0.6, source: 'project' });
    expect(effectiveThreshold({ projectThreshold: 0.6, requested: 0.6, isAdmin: true })).toEqual({ threshold: 0.6, source: 'project' });
  });

  it('lets any caller raise it', () => {
    expect(effectiveThreshold({ projectThreshold: 0.6, requested: 0.9, isAdmin: false })).toEqual({ threshold: 0.9, source: 'caller' });
    expect(effectiveThreshold({ projectThreshold: 0, requested: 1, isAdmin: false })).toEqual({ threshold: 1, source: 'caller' });
  });

  it('lets only an admin lower it (or raise it, recorded as admin)', () => {
    expect(effectiveThreshold({ projectThreshold: 0.6, requested: 0, isAdmin: true })).toEqual({ threshold: 0, source: 'admin' });
    expect(effectiveThreshold({ projectThreshold: 0.6, requested: 0.8, isAdmin: true })).toEqual({ threshold: 0.8, source: 'admin' });
  });

  it('refuses a lower threshold from a non-admin with a forbidden error naming both values', () => {
    let err: unknown;
    try {
      effectiveThreshold({ projectThreshold: 0.6, requested: 0.59, isAdmin: false });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe('forbidden');
    expect((err as DomainError).message).toMatch(/0\.59.*0\.6.*admin token/);
    expect((err as DomainError).errors?.[0].pointer).toBe('/threshold');
    expect(() => effectiveThreshold({ projectThreshold: 0.6, requested: 0, isAdmin: false })).toThrow(/admin/);
  });
});
