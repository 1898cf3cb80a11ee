import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DomainError } from '../domain/errors.js';
import { attachGitLineage, parseResultsTsv, type IngestWarning, type ParsedRow } from '../domain/ingest/index.js';
import type { Direction } from '../domain/types.js';
import { rowToInput } from '../services/ingest.service.js';
import { CLIENT_OPTIONS, openClientFromFlags, raiseProblem, type ApiClient } from './client.js';
import { ensureProject, resolveProjectName } from './config-sync.js';
import { commitDiff, readGitLog } from './git.js';
import { readProjectFile } from './project-file.js';
import { EXIT } from './main.js';
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

/** `progress`: the caller's display (undefined: one on a TTY). */
type IngestOpts = { file: string; project: string; direction?: Direction; strict?: boolean; git?: string; branch?: string; cwd: string; progress?: Progress };

/**
 * One request, with progress: in-process the services report their steps (parse, write,
 * score); over HTTP the service cannot, so the step is the request itself, with its clock.
 */
function send<T>(client: ApiClient, prog: Progress | undefined, rows: number, request: () => Promise<T>): Promise<T> {
  if (!prog) return request();
  const remote = client.describe.startsWith('http');
  const step = `service at ${client.describe}`;
  if (remote) prog.report(step, 0, rows, 'rows parsed, written and scored');
  return withProgress(prog.listener, request).then((res) => {
    if (remote) prog.report(step, rows, rows, 'rows parsed, written and scored');
    return res;
  });
}

async function ingest(client: ApiClient, opts: IngestOpts, prog: Progress | undefined): Promise<IngestRun> {
  const bytes = readFileSync(opts.file);
  const parseHere = (o: Parameters<typeof parseResultsTsv>[1]) => {
    prog?.report('read log', 0, null, 'rows');
    const r = parseResultsTsv(bytes, o);
    prog?.report('read log', r.rows.length, r.rows.length, 'rows');
    return r;
  };
  if (!opts.git) {
    const q = new URLSearchParams({ create: 'true', ...(opts.direction ? { direction: opts.direction } : {}), ...(opts.strict ? { strict: 'true' } : {}) });
    const file = readProjectFile(opts.cwd);
    if (file) await ensureProject(client, opts.project, { cwd: opts.cwd, metric: file.metric.name, direction: opts.direction });
    // Parsed here too: the rows are the answer's (`ecv check` gates the last keep of them).
    const local = parseHere({});
    if (!file && !opts.direction) await ensureProject(client, opts.project, { cwd: opts.cwd, metric: local.metric, hint: local.direction });
    const res = await send(client, prog, local.rows.length, () =>
      client.request<{ created: number; unchanged: number; updated?: number; warnings: IngestWarning[] }>('POST', `/v1/projects/${opts.project}/results?${q}`, bytes.toString('utf8'), 'text/tab-separated-values'),
    );
    if (res.status !== 200 && res.status !== 201) raiseProblem(res);
    const rows = local.rows;
    return { project: opts.project, rows, created: res.body.created, unchanged: res.body.unchanged, updated: res.body.updated ?? 0, warnings: res.body.warnings ?? [] };
  }
  const first = parseResultsTsv(bytes, { ...(opts.direction ? { direction: opts.direction } : {}) });
  const project = await ensureProject(client, opts.project, { cwd: opts.cwd, metric: first.metric, direction: opts.direction, hint: first.direction });
  const parsed = parseHere({ metricName: project.metric.name, direction: project.metric.direction, ...(opts.strict ? { strict: true } : {}) });
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
  for (const [i, r] of withDiff.entries()) {
    prog?.report('diffs', i, withDiff.length, 'kept commits');
    r.code = { ...r.code!, diff: await commitDiff(opts.git, fullCommit(r)!) };
  }
  if (withDiff.length) prog?.report('diffs', withDiff.length, withDiff.length, 'kept commits');
  let created = 0;
  let unchanged = 0;
  let updated = 0;
  const BATCH = 10_000;
  // One batch is the whole log: the service marks log rows it no longer holds absent (SPEC §7).
  const whole = rows.length <= BATCH ? '?source=tsv' : '';
  for (let i = 0; i < rows.length; i += BATCH) {
    const slice = rows.slice(i, i + BATCH);
    const res = await send(client, prog, slice.length, () => client.request<{ created: number; unchanged: number; updated?: number }>('POST', `/v1/projects/${opts.project}/experiments${whole}`, slice.map(rowToInput)));
    if (res.status !== 200 && res.status !== 201) raiseProblem(res);
    created += res.body.created;
    unchanged += res.body.unchanged;
    updated += res.body.updated ?? 0;
  }
  return { project: opts.project, rows, created, unchanged, updated, warnings };
}

/** `ecv ingest <results.tsv> [--project p] [--direction d] [--strict] [--git repo] [--branch b]`. */
export async function ingestCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      project: { type: 'string', short: 'p' },
      direction: { type: 'string' },
      strict: { type: 'boolean' },
      git: { type: 'string' },
      branch: { type: 'string' },
      progress: { type: 'boolean' },
      ...CLIENT_OPTIONS,
    },
  });
  const file = positionals[0];
  if (!file || (values.direction && !['minimize', 'maximize'].includes(values.direction))) {
    console.error('usage: ecv ingest <results.tsv> [--project p] [--direction minimize|maximize] [--strict] [--git <repo>] [--branch b] [--url URL]');
    return EXIT.usage;
  }
  const cwd = values.git ?? process.cwd();
  const project = resolveProjectName(values.project, cwd);
  const prog = createProgress({ force: values.progress });
  // Opening the embedded database (and migrating it) takes seconds on a slow disk.
  if (!(values.url ?? process.env.ECV_URL)) prog?.report('open the embedded database', 0, null, '');
  const client = await openClientFromFlags(values);
  try {
    const r = await runIngest(client, { file, project, direction: values.direction as Direction | undefined, strict: values.strict, git: values.git, branch: values.branch, cwd, progress: prog });
    prog?.end();
    console.log(`${project}: ${r.rows.length} rows, ${r.created} new, ${r.unchanged} unchanged, ${r.updated} updated (${client.describe})`);
    for (const w of r.warnings.slice(0, 20)) console.log(`  line ${w.line}: [${w.code}] ${w.message}`);
    if (r.warnings.length > 20) console.log(`  … ${r.warnings.length - 20} more warnings`);
    return EXIT.ok;
  } finally {
    prog?.end();
    await client.close();
  }
}
