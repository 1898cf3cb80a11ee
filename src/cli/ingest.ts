import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DomainError } from '../domain/errors.js';
import { attachGitLineage, parseResultsTsv, type IngestChoices, type IngestWarning, type ParsedRow } from '../domain/ingest/index.js';
import type { Direction } from '../domain/types.js';
import { directionGuessWarning, rowToInput, withLines } from '../services/ingest.service.js';
import { CLIENT_OPTIONS, openClientFromFlags, raiseProblem, type ApiClient } from './client.js';
import { ensureProject, resolveProjectName } from './config-sync.js';
import { commitDiffs, readGitLog } from './git.js';
import { readProjectFile } from './project-file.js';
import { EXIT } from './exit.js';
import { createProgress, type Progress } from './progress.js';
import { withProgress } from '../services/progress.js';

export interface IngestRun {
  project: string;
  rows: ParsedRow[];
  created: number;
  unchanged: number;
  /** Stored rows whose content changed (each a new version; SPEC §7). */
  updated: number;
  warnings: IngestWarning[];
  /** Which columns were used, and why (issue 20). */
  metric?: string;
  direction?: Direction;
  statusColumn?: string | null;
  keyColumn?: string | null;
  choices?: IngestChoices;
}

export interface IngestOpts {
  file: string;
  project: string;
  direction?: Direction;
  /** The metric column for a project this ingest creates. */
  metric?: string;
  /** The column holding keep/discard decisions. */
  statusColumn?: string;
  strict?: boolean;
  git?: string;
  branch?: string;
  cwd: string;
  /** The caller's progress display (undefined: one on a terminal). */
  progress?: Progress;
}

/** A project name from a directory name, fitted to [a-z0-9][a-z0-9._-]{0,62}. */
export function projectNameFrom(dir: string): string {
  const n = basename(resolve(dir)).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 63);
  return n || 'default';
}

/**
 * Ingests a results.tsv. Without a repository the service parses the file (one transaction).
 * With --git the file is parsed here, premises and diffs come from the branch's commit graph,
 * and rows are sent as JSON in batches of 10,000 (each batch one transaction; re-running
 * completes an interrupted ingest, as ingestion is idempotent).
 */
export async function runIngest(client: ApiClient, opts: IngestOpts): Promise<IngestRun> {
  if (opts.progress !== undefined) return ingest(client, opts, opts.progress);
  const prog = createProgress();
  try {
    return await ingest(client, opts, prog);
  } finally {
    prog?.end();
  }
}

/**
 * One request, with progress: in-process the services report their steps (parse, write,
 * score); over HTTP the service cannot, so the step is the request itself, with its clock.
 */
function send<T>(client: ApiClient, prog: Progress | undefined, rows: number | null, request: () => Promise<T>): Promise<T> {
  if (!prog) return request();
  const remote = client.describe.startsWith('http');
  const step = `service at ${client.describe}`;
  if (remote) prog.report(step, 0, rows, 'rows parsed, written and scored');
  return withProgress(prog.listener, request).then((res) => {
    if (remote) prog.report(step, rows ?? 0, rows, 'rows parsed, written and scored');
    return res;
  });
}

async function ingest(client: ApiClient, opts: IngestOpts, prog: Progress | undefined): Promise<IngestRun> {
  const bytes = readFileSync(opts.file);
  const named = { ...(opts.statusColumn ? { statusColumn: opts.statusColumn } : {}) };
  const parseHere = (o: Parameters<typeof parseResultsTsv>[1]) => {
    prog?.report('read log', 0, null, 'rows');
    const r = parseResultsTsv(bytes, o);
    prog?.report('read log', r.rows.length, r.rows.length, 'rows');
    return r;
  };
  if (!opts.git) {
    const q = new URLSearchParams({
      create: 'true',
      ...(opts.direction ? { direction: opts.direction } : {}),
      ...(opts.strict ? { strict: 'true' } : {}),
      ...(opts.metric ? { metric: opts.metric } : {}),
      ...named,
    });
    const file = readProjectFile(opts.cwd);
    // ecv.json wins; without it the server creates the project from the file and says how it chose.
    if (file) await ensureProject(client, opts.project, { cwd: opts.cwd, metric: file.metric.name, direction: opts.direction });
    type Answer = { created: number; unchanged: number; updated?: number; warnings: IngestWarning[]; metric?: string; direction?: Direction; statusColumn?: string | null; keyColumn?: string | null; choices?: IngestChoices };
    // Parsed here too: the rows are the answer's (`ecv check` gates the last keep of them).
    const mine = { ...(opts.metric ? { metricName: opts.metric } : {}), ...(opts.direction ? { direction: opts.direction } : {}), ...named };
    const local = parseHere(mine);
    const res = await send(client, prog, local.rows.length, () => client.request<Answer>('POST', `/v1/projects/${opts.project}/results?${q}`, bytes.toString('utf8'), 'text/tab-separated-values'));
    if (res.status !== 200 && res.status !== 201) raiseProblem(res);
    const b = res.body;
    // The service's choices (an existing project's metric and direction) decide; parse again only when they differ.
    const same = (!b.metric || b.metric === local.metric) && (!b.direction || b.direction === local.direction);
    const rows = same ? local.rows : parseResultsTsv(bytes, { ...(b.metric ? { metricName: b.metric } : {}), ...(b.direction ? { direction: b.direction } : {}), ...named }).rows;
    return { project: opts.project, rows, created: b.created, unchanged: b.unchanged, updated: b.updated ?? 0, warnings: b.warnings ?? [], metric: b.metric, direction: b.direction, statusColumn: b.statusColumn, keyColumn: b.keyColumn, choices: b.choices };
  }
  const first = parseResultsTsv(bytes, { ...(opts.direction ? { direction: opts.direction } : {}), ...(opts.metric ? { metricName: opts.metric } : {}), ...named });
  const existed = (await client.request('GET', `/v1/projects/${encodeURIComponent(opts.project)}`)).status === 200;
  const project = await ensureProject(client, opts.project, { cwd: opts.cwd, metric: first.metric, direction: opts.direction, hint: first.direction, choice: first.choices.direction });
  const fromFile = !existed && !opts.direction && !readProjectFile(opts.cwd);
  const parsed = parseHere({ metricName: project.metric.name, direction: project.metric.direction, directionSource: opts.direction && !existed ? 'explicit' : 'project', ...named, ...(opts.strict ? { strict: true } : {}) });
  if (fromFile) {
    // The project was just created from the file's evidence: report that, and warn when it was a guess.
    parsed.choices.direction = first.choices.direction;
    parsed.warnings.push(...directionGuessWarning(first.choices.direction, project.metric.direction, parsed.headerLine));
    parsed.warnings.sort((a, b) => a.line - b.line);
  }
  const commits = await readGitLog(opts.git, opts.branch ?? 'HEAD');
  const lineage = attachGitLineage(parsed.rows, commits);
  const warnings = [...parsed.warnings, ...lineage.warnings];
  if (opts.strict && lineage.warnings.length > 0) {
    throw new DomainError('validation_failed', 'git lineage warnings in strict mode', { errors: lineage.warnings.map((w) => ({ line: w.line, message: w.message })) });
  }
  const rows = lineage.rows;
  const fullCommit = (r: ParsedRow) => (r.metadata?.git as { commit?: string } | undefined)?.commit;
  // Counts the kept commits whose diff is read, not rows.
  const withDiff = rows.filter((r) => r.status === 'keep' && fullCommit(r) && r.code?.paths);
  if (withDiff.length) prog?.report('diffs', 0, withDiff.length, 'kept commits');
  const diffs = await commitDiffs(opts.git, withDiff.map((r) => fullCommit(r)!), undefined, (done) => prog?.report('diffs', done, withDiff.length, 'kept commits'));
  for (const r of withDiff) r.code = { ...r.code!, diff: diffs.get(fullCommit(r)!.toLowerCase()) ?? '' };
  let created = 0;
  let unchanged = 0;
  let updated = 0;
  const BATCH = 10_000;
  // One batch is the whole log: the service marks log rows it no longer holds absent (SPEC §7).
  const whole = rows.length <= BATCH ? '?source=tsv' : '';
  for (let i = 0; i < rows.length; i += BATCH) {
    const slice = rows.slice(i, i + BATCH);
    const res = await send(client, prog, slice.length, () => client.request<{ created: number; unchanged: number; updated?: number }>('POST', `/v1/projects/${opts.project}/experiments${whole}`, slice.map(rowToInput)));
    // Problems point at rows of the batch (`/3/premises`); say which file line each came from.
    if (res.status !== 200 && res.status !== 201) {
      try {
        raiseProblem(res);
      } catch (e) {
        throw withLines(e, rows, i);
      }
    }
    created += res.body.created;
    unchanged += res.body.unchanged;
    updated += res.body.updated ?? 0;
  }
  const c = parsed.choices;
  return { project: opts.project, rows, created, unchanged, updated, warnings, metric: parsed.metric, direction: project.metric.direction, statusColumn: c.statusColumn.column, keyColumn: c.keyColumn.column, choices: c };
}

/** The lines `ecv ingest` prints about its column choices: each with its evidence, guesses marked. */
export function describeChoices(r: IngestRun): string[] {
  const c = r.choices;
  if (!c) return [];
  const mark = (guess: boolean) => (guess ? ' (guessed)' : '');
  return [
    `  metric: ${r.metric ?? c.metric.column}${mark(c.metric.guess)}: ${c.metric.evidence}`,
    `  direction: ${r.direction ?? c.direction.value ?? '?'} (${c.direction.source}${c.direction.guess ? ', guessed' : ''}): ${c.direction.evidence}`,
    `  status column: ${c.statusColumn.column ?? '(none)'}${mark(c.statusColumn.guess)}: ${c.statusColumn.evidence}`,
    `  key column: ${c.keyColumn.column ?? '(none)'}${mark(c.keyColumn.guess)}: ${c.keyColumn.evidence}`,
  ];
}

/** `ecv ingest <results.tsv> [--project p] [--direction d] [--metric m] [--status-column s] [--strict] [--git repo] [--branch b]`. */
export async function ingestCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      project: { type: 'string', short: 'p' },
      direction: { type: 'string' },
      metric: { type: 'string' },
      'status-column': { type: 'string' },
      strict: { type: 'boolean' },
      git: { type: 'string' },
      branch: { type: 'string' },
      progress: { type: 'boolean' },
      ...CLIENT_OPTIONS,
    },
  });
  const file = positionals[0];
  if (!file || (values.direction && !['minimize', 'maximize'].includes(values.direction))) {
    console.error('usage: ecv ingest <results.tsv> [--project p] [--direction minimize|maximize] [--metric column] [--status-column column] [--strict] [--progress] [--git <repo>] [--branch b] [--url URL]');
    return EXIT.usage;
  }
  const cwd = values.git ?? process.cwd();
  const project = resolveProjectName(values.project, cwd);
  const prog = createProgress({ force: values.progress });
  // Opening the embedded database (and migrating it) takes seconds on a slow disk.
  if (!(values.url ?? process.env.ECV_URL)) prog?.report('open the embedded database', 0, null, '');
  const client = await openClientFromFlags(values);
  try {
    const r = await runIngest(client, { file, project, direction: values.direction as Direction | undefined, metric: values.metric, statusColumn: values['status-column'], strict: values.strict, git: values.git, branch: values.branch, cwd, progress: prog });
    prog?.end();
    console.log(`${project}: ${r.rows.length} rows, ${r.created} new, ${r.unchanged} unchanged, ${r.updated} updated (${client.describe})`);
    for (const line of describeChoices(r)) console.log(line);
    // A contradicted direction is printed first and to stderr too: it silently ruins every gate.
    const loud = r.warnings.filter((w) => w.code === 'direction_contradicted');
    for (const w of loud) console.error(`ecv ingest: line ${w.line}: ${w.message}`);
    const rest = [...loud, ...r.warnings.filter((w) => w.code !== 'direction_contradicted')];
    for (const w of rest.slice(0, 20)) console.log(`  line ${w.line}: [${w.code}] ${w.message}`);
    if (rest.length > 20) console.log(`  … ${rest.length - 20} more warnings`);
    return EXIT.ok;
  } finally {
    prog?.end();
    await client.close();
  }
}
