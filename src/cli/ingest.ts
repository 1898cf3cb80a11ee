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

export interface IngestRun {
  project: string;
  rows: ParsedRow[];
  created: number;
  unchanged: number;
  /** Stored rows whose content changed (each a new version; SPEC §7). */
  updated: number;
  warnings: IngestWarning[];
}

const progress = (msg: string) => {
  if (process.stderr.isTTY) process.stderr.write(`\r${msg}\x1b[K`);
};

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
export async function runIngest(client: ApiClient, opts: { file: string; project: string; direction?: Direction; strict?: boolean; git?: string; branch?: string; cwd: string }): Promise<IngestRun> {
  const bytes = readFileSync(opts.file);
  if (!opts.git) {
    const q = new URLSearchParams({ create: 'true', ...(opts.direction ? { direction: opts.direction } : {}), ...(opts.strict ? { strict: 'true' } : {}) });
    const file = readProjectFile(opts.cwd);
    if (file) await ensureProject(client, opts.project, { cwd: opts.cwd, metric: file.metric.name, direction: opts.direction });
    else if (!opts.direction) {
      const probe = parseResultsTsv(bytes, {});
      await ensureProject(client, opts.project, { cwd: opts.cwd, metric: probe.metric, hint: probe.direction });
    }
    const res = await client.request<{ created: number; unchanged: number; updated?: number; warnings: IngestWarning[] }>('POST', `/v1/projects/${opts.project}/results?${q}`, bytes.toString('utf8'), 'text/tab-separated-values');
    if (res.status !== 200 && res.status !== 201) raiseProblem(res);
    const rows = parseResultsTsv(bytes, {}).rows;
    return { project: opts.project, rows, created: res.body.created, unchanged: res.body.unchanged, updated: res.body.updated ?? 0, warnings: res.body.warnings ?? [] };
  }
  const first = parseResultsTsv(bytes, { ...(opts.direction ? { direction: opts.direction } : {}) });
  const project = await ensureProject(client, opts.project, { cwd: opts.cwd, metric: first.metric, direction: opts.direction, hint: first.direction });
  const parsed = parseResultsTsv(bytes, { metricName: project.metric.name, direction: project.metric.direction, ...(opts.strict ? { strict: true } : {}) });
  const commits = await readGitLog(opts.git, opts.branch ?? 'HEAD');
  const lineage = attachGitLineage(parsed.rows, commits);
  const warnings = [...parsed.warnings, ...lineage.warnings];
  if (opts.strict && lineage.warnings.length > 0) {
    throw new DomainError('validation_failed', 'git lineage warnings in strict mode', { errors: lineage.warnings.map((w) => ({ line: w.line, message: w.message })) });
  }
  const rows = lineage.rows;
  for (const [i, r] of rows.entries()) {
    const full = (r.metadata?.git as { commit?: string } | undefined)?.commit;
    if (r.status === 'keep' && full && r.code?.paths) {
      progress(`diffs ${i + 1}/${rows.length}`);
      r.code = { ...r.code, diff: await commitDiff(opts.git, full) };
    }
  }
  let created = 0;
  let unchanged = 0;
  let updated = 0;
  const BATCH = 10_000;
  // One batch is the whole log: the service marks log rows it no longer holds absent (SPEC §7).
  const whole = rows.length <= BATCH ? '?source=tsv' : '';
  for (let i = 0; i < rows.length; i += BATCH) {
    progress(`sending rows ${i + 1}-${Math.min(rows.length, i + BATCH)} of ${rows.length}`);
    const res = await client.request<{ created: number; unchanged: number; updated?: number }>('POST', `/v1/projects/${opts.project}/experiments${whole}`, rows.slice(i, i + BATCH).map(rowToInput));
    if (res.status !== 200 && res.status !== 201) raiseProblem(res);
    created += res.body.created;
    unchanged += res.body.unchanged;
    updated += res.body.updated ?? 0;
  }
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
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
  const client = await openClientFromFlags(values);
  try {
    const r = await runIngest(client, { file, project, direction: values.direction as Direction | undefined, strict: values.strict, git: values.git, branch: values.branch, cwd });
    console.log(`${project}: ${r.rows.length} rows, ${r.created} new, ${r.unchanged} unchanged, ${r.updated} updated (${client.describe})`);
    for (const w of r.warnings.slice(0, 20)) console.log(`  line ${w.line}: [${w.code}] ${w.message}`);
    if (r.warnings.length > 20) console.log(`  … ${r.warnings.length - 20} more warnings`);
    return EXIT.ok;
  } finally {
    await client.close();
  }
}
