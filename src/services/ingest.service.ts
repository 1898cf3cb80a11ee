import { DomainError, type ErrorDetail } from '../domain/errors.js';
import { inferDirection, parseResultsTsv, type DirectionChoice, type IngestChoices, type IngestWarning, type ParsedResults, type ParsedRow } from '../domain/ingest/index.js';
import type { Direction, ExperimentInput } from '../domain/types.js';
import { createHash } from 'node:crypto';
import { findProject, type ProjectRecord } from '../db/projects.repository.js';
import { findIngestState, ingestStateAnswer, logStamp, saveIngestState } from '../db/ingest-states.repository.js';
import { createProject } from './projects.service.js';
import { upsertExperiments, type UpsertResult, type Writer } from './experiments.service.js';
import { inProjectTx } from './project-tx.js';
import type { Deps } from './deps.js';
import { reportProgress } from './progress.js';

export interface IngestOptions {
  strict?: boolean;
  /** Direction for a project created by this ingest (else inferred from the metric name). */
  direction?: Direction;
  /** Create the project when missing (metric from the header). */
  create?: boolean;
  /** The metric column of a project created by this ingest (else chosen from the file). */
  metric?: string;
  /** The column holding keep/discard decisions (else chosen from the header and cells). */
  statusColumn?: string;
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
export function resolveDirection(metric: string, explicit?: Direction, hint?: Direction, choice?: DirectionChoice): Direction {
  // The file's evidence (keep chain, then name) when the parse chose one (issue 20).
  const d = explicit ?? hint ?? choice?.value ?? inferDirection(metric);
  if (!d) {
    const why = choice ? choice.evidence : `'${metric}' is not in the known metric names`;
    throw new DomainError('validation_failed', `cannot tell whether '${metric}' should go up or down (${why}): pass direction=minimize or direction=maximize`, {
      errors: [{ pointer: 'direction', message: `no direction given, and ${why}; pass minimize (lower is better) or maximize (higher is better)` }],
    });
  }
  return d;
}

/** A warning when a new project's direction rests on a guess (name only, or data the name does not confirm). */
export function directionGuessWarning(choice: DirectionChoice, used: Direction, line: number): IngestWarning[] {
  if (!choice.guess || choice.value !== used || choice.source === 'none') return [];
  return [{ line, code: 'direction_guessed', message: `direction guessed for the new project: ${used} (${choice.evidence}); pass direction to set it` }];
}

/** What an ingest answer says about the columns it used (issue 20). */
export interface IngestReport {
  warnings: IngestWarning[];
  metric: string;
  direction?: Direction;
  statusColumn: string | null;
  keyColumn: string | null;
  choices: IngestChoices;
  /** Lines skipped as no rows of the table. */
  skipped: number;
  rows: number;
}

export function ingestReport(parsed: ParsedResults, direction: Direction | undefined): IngestReport {
  return {
    warnings: parsed.warnings,
    metric: parsed.metric,
    ...(direction ? { direction } : {}),
    statusColumn: parsed.choices.statusColumn.column,
    keyColumn: parsed.choices.keyColumn.column,
    choices: parsed.choices,
    skipped: parsed.skippedLines.length,
    rows: parsed.rows.length,
  };
}

/** Rewrites `/<i>/…` pointers into the rows sent (from `offset`) to the file lines they came from. */
export function withLines(e: unknown, rows: readonly ParsedRow[], offset = 0): unknown {
  if (!(e instanceof DomainError) || !e.errors) return e;
  const errors: ErrorDetail[] = e.errors.map((d) => {
    const m = /^\/(\d+)(\/.*)?$/.exec(d.pointer ?? '');
    const row = m ? rows[offset + Number(m[1])] : undefined;
    if (!row) return d;
    return { ...d, line: row.line, pointer: `line ${row.line}`, message: `${d.message}${m?.[2] ? ` (${m[2].slice(1)})` : ''}` };
  });
  return new DomainError(e.code, e.message, { errors, ...(e.extra ? { extra: e.extra } : {}) });
}

/**
 * Bump when the parser would read a stored file differently: stored ingest states of older
 * parsers then no longer match, and the next ingest of each project parses in full.
 */
const PARSER_VERSION = 1;

/** Everything besides the bytes that decides how a file is read into rows. */
function parseOptionsKey(project: ProjectRecord, opts: IngestOptions, maxBytes: number): string {
  const m = project.config.metric;
  return JSON.stringify([PARSER_VERSION, m.name, m.direction, opts.statusColumn ?? null, opts.strict === true, maxBytes]);
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * The answer to a file already ingested, when nothing stored changed since (sql/0007): what
 * a full ingest of it would answer, without parsing it or writing anything.
 */
async function unchangedAnswer(deps: Deps, project: ProjectRecord, bytes: Uint8Array, options: string): Promise<(UpsertResult & IngestReport) | undefined> {
  const state = await findIngestState(deps.db.db, project.id);
  if (!state || state.stamp !== state.current || state.options !== options || state.bytes !== bytes.length || state.sha256 !== sha256(bytes)) return undefined;
  // Read by the stamp just checked: a state replaced since is not answered from.
  const answer = await ingestStateAnswer(deps.db.db, project.id, state.stamp);
  if (!answer) return undefined;
  const report = answer.report as unknown as IngestReport;
  deps.metrics.ingestRows('tsv', 'unchanged', answer.keys.length);
  return { created: 0, unchanged: answer.keys.length, updated: 0, absent: 0, restored: 0, items: answer.keys.map((key) => ({ key, created: false })), ...report };
}

/**
 * Ingests a results.tsv (SPEC §7) in one transaction: rejected whole on a malformed file
 * (every bad line and why), idempotent on re-ingest, a longer file adds only its new rows, an
 * edited file stores new versions of the rows it changed. The same file again, with nothing
 * stored changed since, is answered from the ingest state without parsing (issue 19).
 */
export async function ingestResults(deps: Deps, projectName: string, body: Uint8Array | string, opts: IngestOptions = {}): Promise<UpsertResult & IngestReport> {
  const project = await findProject(deps.db.db, projectName);
  if (!project && !opts.create) throw new DomainError('not_found', `no project '${projectName}' (pass create=true with a direction to create it from the file)`);
  if (!project && opts.mayCreate === false) {
    throw new DomainError('forbidden', `no project '${projectName}', and creating a project needs an admin token (SPEC §12): ask an admin to create it`);
  }
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  if (project) {
    const same = await unchangedAnswer(deps, project, bytes, parseOptionsKey(project, opts, deps.config.bodyLimit));
    if (same) return same;
  }
  // An existing project's config (metric, direction) wins; else what the caller names; else the file decides.
  reportProgress('parse', 0, null, 'rows');
  const parsed = parseResultsTsv(bytes, {
    ...(project ? { metricName: project.config.metric.name } : opts.metric ? { metricName: opts.metric } : {}),
    ...(opts.strict ? { strict: true } : {}),
    ...(project ? { direction: project.config.metric.direction, directionSource: 'project' as const } : opts.direction ? { direction: opts.direction } : {}),
    ...(opts.statusColumn ? { statusColumn: opts.statusColumn } : {}),
    maxBytes: deps.config.bodyLimit,
  });
  reportProgress('parse', parsed.rows.length, parsed.rows.length, 'rows');
  let direction: Direction;
  if (!project) {
    direction = resolveDirection(parsed.metric, opts.direction, parsed.direction, parsed.choices.direction);
    const guessed = directionGuessWarning(parsed.choices.direction, direction, parsed.headerLine);
    if (opts.strict && guessed.length > 0) {
      throw new DomainError('validation_failed', 'results table has 1 problem(s) (strict mode)', { errors: guessed.map((w) => ({ line: w.line, pointer: `line ${w.line}`, code: w.code, message: w.message })) });
    }
    parsed.warnings.push(...guessed);
    parsed.warnings.sort((a, b) => a.line - b.line);
    await createProject(deps, { name: projectName, metric: { name: parsed.metric, direction } });
  } else direction = project.config.metric.direction;
  const report = ingestReport(parsed, direction);
  // A header-only log (a loop before its first row) is a no-op, not an error (issue 15 §1).
  if (parsed.rows.length === 0) return { created: 0, unchanged: 0, updated: 0, items: [], ...report };
  // The file is the whole log: changed rows become new versions, rows it lost go absent (SPEC §7).
  try {
    const res = await inProjectTx(deps, projectName, async (trx, p) => {
      const out = await upsertExperiments(deps, projectName, parsed.rows.map(rowToInput), { source: 'tsv', complete: true, trx, ...(opts.writer ? { writer: opts.writer } : {}) });
      // The next ingest of these bytes is answered from here. Not for a project this ingest created:
      // the next full parse reads it with the project's direction, and reports that choice differently.
      const options = project && parseOptionsKey(project, opts, deps.config.bodyLimit);
      if (options && options === parseOptionsKey(p, opts, deps.config.bodyLimit)) {
        const keys = out.items.map((i) => i.key);
        await saveIngestState(trx, p.id, { bytes: bytes.length, sha256: sha256(bytes), options, stamp: await logStamp(trx, p.id), report: { ...report }, keys });
      }
      return out;
    });
    for (const outcome of ['created', 'updated', 'unchanged'] as const) deps.metrics.ingestRows('tsv', outcome, res[outcome]);
    return { ...res, ...report };
  } catch (e) {
    throw withLines(e, parsed.rows);
  }
}
