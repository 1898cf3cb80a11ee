import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ecv, tempRepo } from '../helpers/cli.js';
import { startService, type Service } from '../helpers/service.js';

const header = 'commit\tval_bpb\tmemory_gb\tstatus\tdescription\n';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const COMMANDS = ['serve', 'migrate', 'ingest', 'gate', 'check', 'init', 'token', 'runner', 'report', 'bar'];

describe('ecv as a person meets it (issue 15 §5)', () => {
  it('--help on every command prints options, defaults, an example and exit codes, and touches nothing', async () => {
    const data = join(mkdtempSync(join(tmpdir(), 'ecv-help-')), 'never');
    const cwd = mkdtempSync(join(tmpdir(), 'ecv-help-cwd-'));
    for (const c of COMMANDS) {
      for (const flag of ['--help', '-h']) {
        const r = await ecv([c, flag], { cwd, env: { ECV_DATA_DIR: data } });
        expect(r.code, `${c} ${flag}: ${r.stderr}`).toBe(0);
        expect(r.stdout).toContain(`usage: ecv ${c}`);
        expect(r.stdout, c).toMatch(/example/);
        expect(r.stdout, c).toMatch(/exit/);
        if (c !== 'migrate') expect(r.stdout, c).toMatch(/default/);
      }
    }
    // `ecv migrate --help` does not migrate; a command's own options still reach it after help.
    expect(existsSync(data)).toBe(false);
    expect(existsSync(join(cwd, 'data'))).toBe(false);
    expect(existsSync(join(cwd, 'ecv.json'))).toBe(false);
  });

  it('`npx ecv` works inside the clone', () => {
    const out = execFileSync('npx', ['--no-install', 'ecv', '--help'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ECV_URL: '' } });
    expect(out).toContain('usage: ecv <command>');
  });

  it('has no default project name from the directory: ingest and check exit 2 and say how to name it', async () => {
    const { dir, commit } = tempRepo();
    const data = mkdtempSync(join(tmpdir(), 'ecv-data-'));
    const base = commit('baseline', { 'train.py': 'lr = 1\n' });
    writeFileSync(join(dir, 'results.tsv'), `${header}${base}\t1.000\t40\tkeep\tbaseline\n`);
    for (const args of [['ingest', 'results.tsv', '--git', '.'], ['check']]) {
      const r = await ecv([...args, '--data-dir', data], { cwd: dir });
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(r.stderr).toMatch(/no project name: pass --project <name>.*ecv init/);
    }
  });

  it('init keeps the embedded database out of git, says to commit program.md, and stays consistent when re-run', { timeout: 180_000 }, async () => {
    const { dir, git, commit } = tempRepo();
    commit('baseline', { 'train.py': 'lr = 1\n', 'prepare.py': 'split = 1\n' });
    const first = await ecv(['init', '--project', 'demo'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/Commit .*program\.md/);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toContain('/data/');
    const program = () => readFileSync(join(dir, 'program.md'), 'utf8');
    expect(program()).toContain('demo');

    // The first ingest opens the embedded database in the repository: git ignores it.
    const base = git('rev-parse', '--short=7', 'HEAD');
    writeFileSync(join(dir, 'results.tsv'), `${header}${base}\t1.000\t40\tkeep\tbaseline\n`);
    const ing = await ecv(['ingest', 'results.tsv', '--git', '.'], { cwd: dir });
    expect(ing.code, ing.stderr).toBe(0);
    expect(ing.stdout).toContain('demo: 1 rows, 1 new');
    expect(existsSync(join(dir, 'data'))).toBe(true);
    expect(git('status', '--porcelain')).not.toMatch(/data/);

    // Re-run without options: ecv.json kept, program.md unchanged, nothing to commit once committed.
    const before = program();
    git('add', 'ecv.json', 'program.md', '.gitignore');
    git('commit', '-q', '-m', 'ECV gate');
    const again = await ecv(['init'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('kept');
    expect(again.stdout).not.toMatch(/Commit /);
    expect(program()).toBe(before);
    // Options with an existing ecv.json need --force; with it, program.md follows ecv.json.
    expect((await ecv(['init', '--project', 'demo2'], { cwd: dir })).code).toBe(2);
    const forced = await ecv(['init', '--project', 'demo2', '--force'], { cwd: dir });
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'ecv.json'), 'utf8')).name).toBe('demo2');
    expect(program()).toContain('demo2');
    expect(program().split('<!-- ecv:gate -->')).toHaveLength(2);
    expect(program().split('<!-- /ecv:gate -->')).toHaveLength(2);
    expect(forced.stdout).toMatch(/Commit .*ecv\.json/);
  });
});

describe('ecv.json is the project config, over real HTTP with auth on (issue 15 §2, §3)', () => {
  const ADMIN = 'cli-config-admin-token-0123456789';
  let svc: Service;
  let loop = '';
  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(`${svc.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: await res.json() };
  };

  beforeAll(async () => {
    svc = await startService({ ECV_AUTH: 'on', ECV_ADMIN_TOKEN: ADMIN, ECV_DATA_DIR: mkdtempSync(join(tmpdir(), 'ecv-cfg-svc-')) });
    // Made earlier by curl: no protected paths.
    expect((await call('POST', '/v1/projects', ADMIN, { name: 'cfgsync', metric: { name: 'val_bpb', direction: 'minimize' } })).status).toBe(201);
    loop = (await call('POST', '/v1/tokens', ADMIN, { role: 'loop', projects: ['cfgsync'] })).body.token;
  }, 120_000);
  afterAll(async () => svc?.stop());

  it('reports a differing service config, updates it with an admin token, and fails with exit 2 without one', { timeout: 240_000 }, async () => {
    const { dir, commit } = tempRepo();
    const base = commit('baseline', { 'train.py': 'lr = 1\n', 'prepare.py': 'split = 1\n' });
    const hack = commit('A: "better" split', { 'prepare.py': 'split = 0\n' });
    writeFileSync(join(dir, 'results.tsv'), `${header}${base}\t1.000\t40\tkeep\tbaseline\n${hack}\t0.900\t40\tkeep\tedit the split\n`);
    const asLoop = { ECV_URL: svc.url, ECV_TOKEN: loop };
    const asAdmin = { ECV_URL: svc.url, ECV_TOKEN: ADMIN };

    const init = await ecv(['init', '--project', 'cfgsync', '--protect', 'prepare.py'], { cwd: dir, env: asLoop });
    expect(init.code, init.stdout + init.stderr).toBe(2);
    expect(init.stderr).toContain('protectedPaths: [] → ["prepare.py"]');
    expect(init.stderr).toMatch(/needs an admin token/);
    expect(existsSync(join(dir, 'ecv.json'))).toBe(true);
    expect(existsSync(join(dir, '.gitignore'))).toBe(false); // a service: no database in the repository

    const denied = await ecv(['ingest', 'results.tsv', '--git', '.'], { cwd: dir, env: asLoop });
    expect(denied.code, denied.stdout + denied.stderr).toBe(2);
    expect(denied.stderr).toMatch(/ecv\.json differs .*admin token/s);
    expect((await call('GET', '/v1/projects/cfgsync/experiments', ADMIN)).body.items).toEqual([]);

    const synced = await ecv(['ingest', 'results.tsv', '--git', '.'], { cwd: dir, env: asAdmin });
    expect(synced.code, synced.stdout + synced.stderr).toBe(0);
    expect(synced.stderr).toContain('protectedPaths: [] → ["prepare.py"]');
    expect(synced.stderr).toMatch(/configVersion 2/);
    expect((await call('GET', '/v1/projects/cfgsync', loop)).body).toMatchObject({ configVersion: 2, protectedPaths: ['prepare.py'] });

    // In sync now: the loop token ingests and gates; the protected edit is rejected, not re-anchored.
    const quiet = await ecv(['ingest', 'results.tsv', '--git', '.'], { cwd: dir, env: asLoop });
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toMatch(/differs/);
    const gate = await ecv(['gate', hack, '--json'], { cwd: dir, env: asLoop });
    expect(gate.code, gate.stdout + gate.stderr).toBe(1);
    expect(JSON.parse(gate.stdout).reasons.map((r: { code: string }) => r.code)).toContain('hard_gate_protected_path');
    const check = await ecv(['check'], { cwd: dir, env: asLoop });
    expect(check.code, check.stdout + check.stderr).toBe(1);

    // The gated agent cannot lower its own bar; raising it is recorded as the caller's.
    const lower = await ecv(['gate', base, '--threshold', '0'], { cwd: dir, env: asLoop });
    expect(lower.code).toBe(2);
    expect(lower.stderr).toMatch(/admin token/);
    const raise = await ecv(['gate', base, '--threshold', '0.99', '--json'], { cwd: dir, env: asLoop });
    expect([0, 1, 3], raise.stderr).toContain(raise.code);
    expect(JSON.parse(raise.stdout)).toMatchObject({ threshold: 0.99, thresholdSource: 'caller' });
  });
});
