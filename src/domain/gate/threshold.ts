import { DomainError } from '../errors.js';

/** Who set the threshold a gate decision used (recorded with the decision, SPEC §5). */
export type ThresholdSource = 'project' | 'caller' | 'admin';

export interface ThresholdInput {
  /** The project's configured threshold on K. */
  projectThreshold: number;
  /** `threshold` of the gate call, if any. */
  requested?: number;
  /** Admin token, or auth off (where every caller holds every right). */
  isAdmin: boolean;
}

/**
 * The threshold a gate call decides with (SPEC §5): the project's, unless the call asks for
 * another. Any caller may raise it; only an admin may lower it, so the gated agent cannot lower
 * its own bar. Pure; throws DomainError('forbidden') for a non-admin asking for less.
 */
export function effectiveThreshold({ projectThreshold, requested, isAdmin }: ThresholdInput): { threshold: number; source: ThresholdSource } {
  if (requested === undefined || requested === projectThreshold) return { threshold: projectThreshold, source: 'project' };
  if (isAdmin) return { threshold: requested, source: 'admin' };
  if (requested > projectThreshold) return { threshold: requested, source: 'caller' };
  throw new DomainError(
    'forbidden',
    `threshold ${requested} is below the project's threshold ${projectThreshold}: lowering the bar needs an admin token (or change the project's threshold in ecv.json with an admin token)`,
    { errors: [{ pointer: '/threshold', message: `must be ≥ ${projectThreshold} for a non-admin token` }] },
  );
}
