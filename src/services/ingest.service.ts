import { DomainError } from '../domain/errors.js';
import { inferDirection, parseResultsTsv, type IngestWarning, type ParsedRow } from '../domain/ingest/index.js';
import type { Direction, ExperimentInput } from '../domain/types.js';
import { findProject } from '../db/projects.repository.js';
import { createProject } from './projects.service.js';
import { upsertExperiments, type UpsertResult, type Writer } from './experiments.service.js';
import type { Deps } from './deps.js';
import { reportProgress } from './progress.js';

export interface IngestOptions {
  strict?: boolean;
  /** Direction for a project created by this ingest (else inferred from the metric name). */
  direction?: Direction;
  /** Create the project when missing (metric from the header). */
  create?: boolean;
  /** Whether the caller may create projects (admin tokens, or auth off); default true. */
  mayCreate?: boolean;
  /** Recorded with each new version. */
  writer?: Writer;
}

/** A parsed row as the experiments API takes it (line and seq are parse bookkeeping). */
export function rowToInput(row: ParsedRow): ExperimentInput {
  const { line: _line, seq: _seq, ...input } = row;
  return input;
}

/**
 * Resolves the direction of a new project's metric: explicit, else a hint in the file, else
 * the documented name list (docs/api.md); otherwise a clear error asking for one.
 */
export function resolveDirection(metric: string, explicit?: Direction, hint?: Direction): Direction {
  const d = explicit ?? hint ?? inferDirection(metric);
  if (!d) {
    throw new DomainError('validation_failed', `cannot tell whether '${metric}' should go up or down: pass direction (minimize|maximize)`, {
      errors: [{ pointer: 'direction', message: `no direction given and '${metric}' is not in the known metric names` }],
    });
  }
  return d;
}

/**
 * Ingests a results.tsv (SPEC §7) in one transaction: rejected whole on a malformed file
 * (every bad line and why), idempotent on re-ingest, a longer file adds only its new rows, an
 * edited file stores new versions of the rows it changed.
 */
export async function ingestResults(deps: Deps, projectName: string, body: Uint8Array | string, opts: IngestOptions = {}): Promise<UpsertResult & { warnings: IngestWarning[]; metric: string; rows: number }> {
  const project = await findProject(deps.db.db, projectName);
  if (!project && !opts.create) throw new DomainError('not_found', `no project '${projectName}' (pass create=true with a direction to create it from the file)`);
  if (!project && opts.mayCreate === false) {
    throw new DomainError('forbidden', `no project '${projectName}', and creating a project needs an admin token (SPEC §12): ask an admin to create it`);
  }
  reportProgress('parse', 0, null, 'rows');
  const parsed = parseResultsTsv(body, {
    ...(project ? { metricName: project.config.metric.name } : {}),
    ...(opts.strict ? { strict: true } : {}),
    ...(project ? { direction: project.config.metric.direction } : opts.direction ? { direction: opts.direction } : {}),
    maxBytes: deps.config.bodyLimit,
  });
  reportProgress('parse', parsed.rows.length, parsed.rows.length, 'rows');
  if (!project) {
    const direction = resolveDirection(parsed.metric, opts.direction, parsed.direction);
    await createProject(deps, { name: projectName, metric: { name: parsed.metric, direction } });
  } else if (parsed.metric !== project.config.metric.name) {
    parsed.warnings.push({ line: 1, code: 'metric_column', message: `no column named '${project.config.metric.name}'; used '${parsed.metric}' as the metric` });
    if (opts.strict) {
      throw new DomainError('validation_failed', 'metric column not found', { errors: [{ line: 1, message: `no column named '${project.config.metric.name}'` }] });
    }
  }
  // A header-only log (a loop before its first row) is a no-op, not an error (issue 15 §1).
  if (parsed.rows.length === 0) return { created: 0, unchanged: 0, updated: 0, items: [], warnings: parsed.warnings, metric: parsed.metric, rows: 0 };
  // The file is the whole log: changed rows become new versions, rows it lost go absent (SPEC §7).
  const res = await upsertExperiments(deps, projectName, parsed.rows.map(rowToInput), { source: 'tsv', complete: true, ...(opts.writer ? { writer: opts.writer } : {}) });
  return { ...res, warnings: parsed.warnings, metric: parsed.metric, rows: parsed.rows.length };
}
