import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ECV_BIN, tempRepo } from '../helpers/cli.js';
import { api, startService } from '../helpers/service.js';

const ACTION_BIN = fileURLToPath(new URL('../../bin/ecv-action.js', import.meta.url));
const ACTION_YML = fileURLToPath(new URL('../../action.yml', import.meta.url));
const CI_MD = fileURLToPath(new URL('../../docs/ci.md', import.meta.url));

/** The ```yaml blocks of docs/ci.md, parsed: [GitHub workflow, GitLab job]. */
function ciDocBlocks(): [Record<string, any>, Record<string, any>] { // eslint-disable-line @typescript-eslint/no-explicit-any
  const blocks = [...readFileSync(CI_MD, 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parse(m[1]));
  expect(blocks).toHaveLength(2);
  return blocks as [Record<string, any>, Record<string, any>]; // eslint-disable-line @typescript-eslint/no-explicit-any
}
const header = 'commit\tval_bpb\tmemory_gb\tstatus\tdescription\n';

/** Runs the action's step as GitHub runs it: INPUT_* variables, a fake $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY. */
function runStep(workspace: string, inputs: Record<string, string>) {
  const runnerTemp = mkdtempSync(join(tmpdir(), 'ecv-runner-temp-'));
  const output = join(runnerTemp, 'github_output');
  const summary = join(runnerTemp, 'step_summary');
  writeFileSync(output, '');
  const env: Record<string, string> = { ...(process.env as Record<string, string>), ECV_URL: '', ECV_TOKEN: '', LOG_LEVEL: 'warn', GITHUB_WORKSPACE: workspace, RUNNER_TEMP: runnerTemp, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase().replace(/-/g, '_')}`] = v;
  return new Promise<{ code: number; stdout: string; stderr: string; outputs: Record<string, string>; summary: string }>((resolve) => {
    execFile(process.execPath, [ACTION_BIN], { cwd: workspace, env, timeout: 180_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 99) : 0;
      resolve({ code, stdout, stderr, outputs: parseOutputs(readFileSync(output, 'utf8')), summary: existsSync(summary) ? readFileSync(summary, 'utf8') : '' });
    });
  });
}

/** Reads $GITHUB_OUTPUT as the runner does: `name<<DELIM` … `DELIM` blocks, or `name=value` lines. */
function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([\w-]+)<<(.+)$/.exec(lines[i]);
    if (m) {
      const end = lines.indexOf(m[2], i + 1);
      expect(end, `unterminated output ${m[1]}`).toBeGreaterThan(i);
      out[m[1]] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (lines[i].includes('=')) {
      out[lines[i].slice(0, lines[i].indexOf('='))] = lines[i].slice(lines[i].indexOf('=') + 1);
    }
  }
  return out;
}

describe('the GitHub Action (action.yml + bin/ecv-action.js) on real repositories', () => {
  it('action.yml is a composite action whose step passes every input and declares every output the script writes', () => {
    const action = parse(readFileSync(ACTION_YML, 'utf8'));
    expect(action.runs.using).toBe('composite');
    const step = action.runs.steps.find((s: { id?: string }) => s.id === 'check');
    expect(step.run).toContain('bin/ecv-action.js');
    for (const name of Object.keys(action.inputs)) {
      if (name === 'node-version') continue; // used by setup-node
      expect(step.env[`INPUT_${name.toUpperCase().replace(/-/g, '_')}`]).toBe(`\${{ inputs.${name} }}`);
    }
    for (const [name, o] of Object.entries(action.outputs as Record<string, { value: string }>)) expect(o.value).toBe(`\${{ steps.check.outputs.${name} }}`);
    for (const needed of ['url', 'token', 'project', 'results', 'wait', 'junit']) expect(action.inputs).toHaveProperty(needed);
    for (const needed of ['decision', 'experiment', 'compounded', 'confidence', 'report']) expect(action.outputs).toHaveProperty(needed);
  });

  it("docs/ci.md's workflow triggers on a PR from an autoresearch branch, and uses only the action's inputs", () => {
    const [gh, gl] = ciDocBlocks();
    // `pull_request: branches:` filters the base branch: the doc's workflow must not use it.
    expect(gh.on.pull_request?.branches).toBeUndefined();
    expect(gh.on.push.branches).toContain('autoresearch/**');
    expect(gh.jobs.gate.if).toContain("startsWith(github.head_ref, 'autoresearch/')");
    expect(gh.jobs.gate.steps[0].with['fetch-depth']).toBe(0);
    const use = gh.jobs.gate.steps.find((s: { uses?: string }) => s.uses?.includes('/ecv@'));
    const inputs = Object.keys(parse(readFileSync(ACTION_YML, 'utf8')).inputs);
    for (const k of Object.keys(use.with)) expect(inputs).toContain(k);
    expect(JSON.stringify(gh)).not.toMatch(/--wait/); // waits only through the action with a url
    expect(gl['ecv-check'].allow_failure.exit_codes).toEqual([3]);
    expect(gl['ecv-check'].script.join('\n')).toContain(`--junit ${gl['ecv-check'].artifacts.reports.junit}`);
  });

  it('embedded: a head standing on a crashed commit → exit 1, outputs, an ::error on its row, summary, JUnit and report', { timeout: 240_000 }, async () => {
    const { dir, commit } = tempRepo();
    writeFileSync(join(dir, 'ecv.json'), JSON.stringify({ name: 'act', metric: { name: 'val_bpb', direction: 'minimize' } }));
    const base = commit('baseline', { 'train.py': 'lr = 1\n' });
    const a = commit('A: lower lr', { 'train.py': 'lr = 0.5\n' });
    const b = commit('B: bigger batch (crashed, not reset)', { 'train.py': 'lr = 0.5\nbatch = 4096\n' });
    const c = commit('C: warmup on top of B', { 'train.py': 'lr = 0.5\nbatch = 4096\nwarmup = 10\n' });
    writeFileSync(join(dir, 'results.tsv'), `${header}${base}\t1.000\t40\tkeep\tbaseline\n${a}\t0.990\t40\tkeep\tlower lr\n${b}\t0.000\t0\tcrash\tbigger batch OOM\n${c}\t0.985\t41\tkeep\twarmup\n`);
    const r = await runStep(dir, { junit: 'ecv-junit.xml', report: 'ecv-report.html', 'fail-on-pending': 'true' });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.outputs).toMatchObject({ decision: 'reject', experiment: c, 'exit-code': '1', report: join(dir, 'ecv-report.html'), junit: join(dir, 'ecv-junit.xml') });
    expect(Number(r.outputs.compounded)).toBeGreaterThanOrEqual(0);
    expect(r.outputs.reasons).toContain('premise_hard_gated');
    // The annotation names the gated commit, lands on its row (line 5: header + 4 rows) and carries the reason.
    const err = r.stdout.split('\n').find((l) => l.startsWith('::error '));
    expect(err).toBeDefined();
    expect(err).toContain(`file=results.tsv,line=5,title=ECV rejected ${c}::`);
    expect(err).toContain('premise_hard_gated');
    expect(err).toContain(b);
    expect(err).not.toMatch(/\n/);
    expect(r.summary).toContain(`## ECV check: ❌ reject — \`${c}\``);
    const xml = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(join(dir, 'ecv-junit.xml'), 'utf8'));
    expect(xml.testsuites['@_failures']).toBe('1');
    expect(readFileSync(join(dir, 'ecv-report.html'), 'utf8')).toMatch(/^<!doctype html>/i);
  });

  it('no log in the checkout → exit 2, decision error and an ::error saying the log must be committed or downloaded', { timeout: 120_000 }, async () => {
    const { dir, commit } = tempRepo();
    writeFileSync(join(dir, 'ecv.json'), JSON.stringify({ name: 'act', metric: { name: 'val_bpb', direction: 'minimize' } }));
    commit('baseline', { 'train.py': 'lr = 1\n' });
    const r = await runStep(dir, { junit: '', report: '' });
    expect(r.code).toBe(2);
    expect(r.outputs).toMatchObject({ decision: 'error', experiment: '', 'exit-code': '2' });
    const err = r.stdout.split('\n').find((l) => l.startsWith('::error '));
    expect(err).toMatch(/^::error title=ECV check failed::.*no results file.*committed on the branch or downloaded/);
  });

  it('a service with auth: the token input reaches it, re-anchoring is a warning, fail-on-pending=false exits 0', { timeout: 240_000 }, async () => {
    const admin = 'ecv_action_test_admin_token_0123456789';
    const svc = await startService({ ECV_DATA_DIR: mkdtempSync(join(tmpdir(), 'ecv-svc-')), ECV_AUTH: 'on', ECV_ADMIN_TOKEN: admin });
    try {
      const { dir, commit } = tempRepo();
      writeFileSync(join(dir, 'ecv.json'), JSON.stringify({ name: 'remote', metric: { name: 'val_bpb', direction: 'minimize' } }));
      const base = commit('baseline', { 'train.py': 'lr = 1\n' });
      const a = commit('A: lower lr', { 'train.py': 'lr = 0.5\n' });
      writeFileSync(join(dir, 'results.tsv'), `${header}${base}\t1.000\t40\tkeep\tbaseline\n${a}\t0.950\t40\tkeep\tlower lr\n`);
      // Without the token the service answers 401: the check fails with exit 2.
      const denied = await runStep(dir, { url: svc.url, junit: '', report: '' });
      expect(denied.code, denied.stdout + denied.stderr).toBe(2);
      expect(denied.outputs.decision).toBe('error');
      const r = await runStep(dir, { url: svc.url, token: admin, junit: 'j.xml', report: 'r.html', 'fail-on-pending': 'false' });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      // No sigma0 and nothing repeated: the first gate schedules a run of the baseline (SPEC §5).
      expect(r.outputs).toMatchObject({ decision: 'reanchor', experiment: a, 'exit-code': '3', report: join(dir, 'r.html') });
      expect(r.stdout).toMatch(new RegExp(`^::warning file=results.tsv,line=3,title=ECV re-anchoring ${a}::remote: ${a} is not decided yet: 1 reproduction`, 'm'));
      expect(r.summary).toContain('⏳ reanchor');
      const jobs = await fetch(`${svc.url}/v1/projects/remote/gate-decisions`, { headers: { authorization: `Bearer ${admin}` } });
      expect(((await jobs.json()) as { items: { experiment: string }[] }).items.map((d) => d.experiment)).toContain(a);
      // Same answer, fail-on-pending left at its default: exit 3.
      const pending = await runStep(dir, { url: svc.url, token: admin, junit: '', report: '' });
      expect(pending.code).toBe(3);
      expect((await api(svc.url, 'GET', '/v1/projects/remote')).status).toBe(401);
      // The GitLab job's check line, run as written (its wait shortened), exits 3: allowed to fail.
      const [, gl] = ciDocBlocks();
      const job = gl['ecv-check'];
      const line = (job.script as string[]).find((l) => l.startsWith('ecv check'))!.replace('--wait 1800', '--wait 1');
      const bin = mkdtempSync(join(tmpdir(), 'ecv-bin-'));
      writeFileSync(join(bin, 'ecv'), `#!/bin/sh\nexec "${process.execPath}" "${ECV_BIN}" "$@"\n`, { mode: 0o755 });
      const gitlab = await new Promise<number>((done) =>
        execFile('sh', ['-c', line], { cwd: dir, env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, ECV_URL: svc.url, ECV_TOKEN: admin, LOG_LEVEL: 'warn' }, timeout: 120_000 }, (e) => done(e ? Number((e as { code?: number }).code) : 0)),
      );
      expect(job.allow_failure.exit_codes).toContain(gitlab);
      expect(readFileSync(join(dir, job.artifacts.reports.junit), 'utf8')).toContain('<skipped message="re-anchoring pending">');
      expect(JSON.parse(readFileSync(join(dir, job.artifacts.paths[0]), 'utf8'))).toMatchObject({ project: 'remote', decision: 'reanchor', experiment: a });
    } finally {
      await svc.stop();
    }
  });
});
