import { ProjectName } from '../../schemas/shared.js';
import { DomainError, type ErrorDetail } from './errors.js';
import { DEFAULTS, DEFAULT_WEIGHTS, type ProjectConfig } from './types.js';

/** Project names: SPEC §15. */
export const PROJECT_NAME = new RegExp(ProjectName.pattern);

export interface ProjectInput {
  name: string;
  metric: { name: string; direction: 'minimize' | 'maximize' };
  threshold?: number;
  weights?: Partial<ProjectConfig['weights']>;
  sigma0?: number;
  nu0?: number;
  minEffect?: number;
  anchorMin?: number;
  sMin?: number;
  sReject?: number;
  barMargin?: number;
  protectedPaths?: string[];
  reproduction?: Partial<ProjectConfig['reproduction']>;
}

/**
 * Applies defaults (SPEC §2) and checks what a JSON Schema cannot: weights summing to 1 and a
 * compilable metric pattern. Pure; throws DomainError('validation_failed') listing every problem.
 */
export function normalizeProject(input: ProjectInput): ProjectConfig {
  const errors: ErrorDetail[] = [];
  if (!PROJECT_NAME.test(input.name)) {
    errors.push({ pointer: '/name', message: 'must match [a-z0-9][a-z0-9._-]{0,62}' });
  }
  const weights = { ...DEFAULT_WEIGHTS, ...(input.weights ?? {}) };
  const sum = weights.reproduction + weights.statistics + weights.effect + weights.code;
  if (Math.abs(sum - 1) > 1e-6) {
    errors.push({ pointer: '/weights', message: `weights must sum to 1 (they sum to ${sum})` });
  }
  const r = input.reproduction ?? {};
  const metricPattern = r.metricPattern;
  if (metricPattern !== undefined) {
    try {
      const re = new RegExp(metricPattern, 'm');
      if (!/\((?!\?)/.test(re.source)) {
        errors.push({ pointer: '/reproduction/metricPattern', message: 'needs one capture group for the value' });
      }
    } catch (e) {
      errors.push({ pointer: '/reproduction/metricPattern', message: `not a valid regular expression: ${(e as Error).message}` });
    }
  }
  if (errors.length > 0) throw new DomainError('validation_failed', 'invalid project', { errors });
  const cfg: ProjectConfig = {
    name: input.name,
    metric: { name: input.metric.name, direction: input.metric.direction },
    threshold: input.threshold ?? DEFAULTS.threshold,
    weights,
    nu0: input.nu0 ?? DEFAULTS.nu0,
    minEffect: input.minEffect ?? DEFAULTS.minEffect,
    anchorMin: input.anchorMin ?? DEFAULTS.anchorMin,
    protectedPaths: input.protectedPaths ?? [],
    reproduction: {
      command: r.command ?? '',
      replicates: r.replicates ?? DEFAULTS.replicates,
      rounds: r.rounds ?? DEFAULTS.rounds,
      timeBudgetS: r.timeBudgetS ?? DEFAULTS.timeBudgetS,
      ...(metricPattern !== undefined ? { metricPattern } : {}),
      ...(r.gpuMinutesPerDay !== undefined ? { gpuMinutesPerDay: r.gpuMinutesPerDay } : {}),
    },
  };
  if (input.sigma0 !== undefined) cfg.sigma0 = input.sigma0;
  // Gate v2 settings (SPEC §5) are kept only when written, so configs stored before them keep their hash.
  for (const k of ['sMin', 'sReject', 'barMargin'] as const) if (input[k] !== undefined) cfg[k] = input[k];
  if (r.maxReproductions !== undefined) cfg.reproduction.maxReproductions = r.maxReproductions;
  return cfg;
}

/** The metric pattern runners use: the project's, else `^<metric>:\s*(\S+)` (multiline). */
export function metricPatternOf(cfg: ProjectConfig): string {
  const escaped = cfg.metric.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return cfg.reproduction.metricPattern ?? `^${escaped}:\\s*(\\S+)`;
}
