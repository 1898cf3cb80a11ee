import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GateAnswer } from '../services/gate.service.js';

/**
 * The step of the GitHub Action (action.yml at the repository root). It runs this package's
 * `ecv check` as a child process and turns the answer into what a workflow reads: step outputs
 * in $GITHUB_OUTPUT, `::error`/`::warning` annotations on the gated commit's row of the log, and
 * an HTML report. The Markdown step summary is `ecv check`'s own ($GITHUB_STEP_SUMMARY).
 */

const ECV_BIN = fileURLToPath(new URL('../../bin/ecv.js', import.meta.url));

/** The action's inputs; composite actions pass them explicitly as INPUT_* variables. */
export interface ActionInputs {
  url: string;
  token: string;
  project: string;
  results: string;
  wait: string;
  junit: string;
  report: string;
  failOnPending: boolean;
  workingDirectory: string;
  dataDir: string;
}

export function readInputs(env: NodeJS.ProcessEnv): ActionInputs {
  const get = (name: string) => (env[`INPUT_${name}`] ?? '').trim();
  return {
    // An empty input falls back to the job's environment, so `env: ECV_URL: …` works too.
    url: get('URL') || (env.ECV_URL ?? ''),
    token: get('TOKEN') || (env.ECV_TOKEN ?? ''),
    project: get('PROJECT'),
    results: get('RESULTS'),
    wait: get('WAIT'),
    junit: get('JUNIT'),
    report: get('REPORT'),
    failOnPending: get('FAIL_ON_PENDING').toLowerCase() !== 'false',
    workingDirectory: get('WORKING_DIRECTORY') || env.GITHUB_WORKSPACE || process.cwd(),
    dataDir: get('DATA_DIR') || join(env.RUNNER_TEMP || tmpdir(), 'ecv-data'),
  };
}

/** The client flags shared by `ecv check` and `ecv report`: a service, else the embedded database. */
function clientArgs(i: ActionInputs): string[] {
  return i.url ? ['--url', i.url] : ['--data-dir', i.dataDir];
}

export function checkArgs(i: ActionInputs, jsonOut: string): string[] {
  const args = ['check', '--json-out', jsonOut, ...clientArgs(i)];
  if (i.results) args.push('--results', i.results);
  if (i.project) args.push('--project', i.project);
  if (i.wait) args.push('--wait', i.wait);
  if (i.junit) args.push('--junit', i.junit);
  return args;
}

// Workflow-command escaping (@actions/core's escapeData / escapeProperty).
export const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
export const escapeProperty = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** One `::error|warning|notice file=…,line=…,title=…::message` line. */
export function annotation(kind: 'error' | 'warning' | 'notice', props: Record<string, string | number | undefined>, message: string): string {
  const p = Object.entries(props)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`)
    .join(',');
  return `::${kind}${p ? ` ${p}` : ''}::${escapeData(message)}`;
}

/** $GITHUB_OUTPUT lines in the multi-line form, with a delimiter that no value contains. */
export function outputLines(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([k, v]) => {
      let delim = `ecv_${randomUUID()}`;
      while (v.includes(delim)) delim = `ecv_${randomUUID()}`;
      return `${k}<<${delim}\n${v}\n${delim}\n`;
    })
    .join('');
}

/** The 1-based line of the log row whose commit column is `key` (so the annotation lands on it). */
export function rowLine(text: string, key: string): number | undefined {
  const lines = text.split(/\r?\n/);
  const i = lines.findIndex((l) => l.split('\t')[0]?.trim() === key);
  return i < 0 ? undefined : i + 1;
}

/** The annotation for a gate answer: reject is an error, reanchor a warning, accept a notice. */
export function answerAnnotation(a: GateAnswer & { project: string }, where: { file?: string; line?: number }): string {
  const reasons = a.reasons.map((r) => `${r.code}: ${r.message}`).join('\n');
  const k = a.compounded === null ? 'n/a' : a.compounded.toFixed(3);
  if (a.decision === 'reject') return annotation('error', { ...where, title: `ECV rejected ${a.experiment}` }, `${a.project}: ${a.experiment} rejected (K = ${k}, threshold ${a.threshold})\n${reasons}`);
  if (a.decision === 'reanchor') {
    const pending = `${a.reanchor.jobs.length} reproduction(s) of ${a.reanchor.candidate ?? a.experiment} pending`;
    return annotation('warning', { ...where, title: `ECV re-anchoring ${a.experiment}` }, `${a.project}: ${a.experiment} is not decided yet: ${pending} (K = ${k})\n${reasons}`);
  }
  return annotation('notice', { ...where, title: `ECV accepted ${a.experiment}` }, `${a.project}: ${a.experiment} accepted (K = ${k} ≥ ${a.threshold})`);
}

/** Runs `ecv …`; stdout goes to the job log, stderr too, and its tail is kept for annotations. */
function runEcv(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [ECV_BIN, ...args], { cwd, env, stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      process.stderr.write(d);
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.on('error', (e) => done({ code: 2, stderr: e.message }));
    child.on('close', (code) => done({ code: code ?? 2, stderr }));
  });
}

/** The whole step. Returns the exit code: `ecv check`'s (0/1/2/3), 3 → 0 when fail-on-pending is false. */
export async function runAction(env: NodeJS.ProcessEnv = process.env, log: (line: string) => void = (l) => console.log(l)): Promise<number> {
  const i = readInputs(env);
  const cwd = resolve(i.workingDirectory);
  const jsonOut = join(mkdtempSync(join(env.RUNNER_TEMP || tmpdir(), 'ecv-action-')), 'answer.json');
  // The token travels in the environment, not argv (argv shows in `ps` and in logs).
  const childEnv = { ...env, ECV_URL: i.url, ECV_TOKEN: i.token };
  const check = await runEcv(checkArgs(i, jsonOut), cwd, childEnv);
  const outputs: Record<string, string> = { 'exit-code': String(check.code), decision: '', experiment: '', compounded: '', confidence: '', threshold: '', weakest: '', reasons: '', report: '', junit: '' };
  if (existsSync(jsonOut)) {
    const a = JSON.parse(readFileSync(jsonOut, 'utf8')) as GateAnswer & { project: string };
    Object.assign(outputs, {
      decision: a.decision,
      experiment: a.experiment,
      compounded: a.compounded === null ? '' : String(a.compounded),
      confidence: a.confidence === null ? '' : String(a.confidence.value),
      threshold: String(a.threshold),
      weakest: a.weakest?.key ?? '',
      reasons: a.reasons.map((r) => `${r.code}: ${r.message}`).join('\n'),
      junit: i.junit ? resolve(cwd, i.junit) : '',
    });
    const resultsFile = resolve(cwd, i.results || 'results.tsv');
    const workspace = env.GITHUB_WORKSPACE ? resolve(env.GITHUB_WORKSPACE) : cwd;
    const rel = relative(workspace, resultsFile);
    const where = { file: rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : undefined, line: existsSync(resultsFile) ? rowLine(readFileSync(resultsFile, 'utf8'), a.experiment) : undefined };
    log(answerAnnotation(a, where));
    if (i.report) {
      const out = resolve(cwd, i.report);
      const rep = await runEcv(['report', '--project', a.project, '--format', 'html', '--out', out, ...clientArgs(i)], cwd, childEnv);
      if (rep.code === 0) outputs.report = out;
      else log(annotation('warning', { title: 'ECV report not written' }, rep.stderr.trim().split('\n').slice(-3).join('\n')));
    }
  } else if (check.code === 0) {
    outputs.decision = 'none'; // no kept experiment in the log: nothing to gate
  } else {
    outputs.decision = 'error';
    const tail = check.stderr.trim().split('\n').slice(-5).join('\n') || `ecv check exited ${check.code}`;
    log(annotation('error', { title: 'ECV check failed' }, tail));
  }
  if (env.GITHUB_OUTPUT) appendFileSync(env.GITHUB_OUTPUT, outputLines(outputs));
  else log(JSON.stringify(outputs));
  return check.code === 3 && !i.failOnPending ? 0 : check.code;
}
