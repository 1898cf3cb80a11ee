import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ECV_BIN } from '../helpers/cli.js';
import { listenTestApp, call } from '../helpers/http.js';
import { projectBody, type TestApp } from '../helpers/app.js';

/**
 * Issue 17 (leaks): a real `ecv runner --once` process, started with cloud keys, a database URL
 * and tokens in its environment, runs a job whose command prints its whole environment. The log
 * tail the service stores must hold the allow-listed variables and the `--pass-env` one, and
 * none of the runner's secrets.
 */
describe('the environment of a job run by `ecv runner`', () => {
  let t: TestApp & { url: string };
  let root: string;
  let dir: string;
  let commits: string[] = [];
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'ecv-runner-env-'));
    dir = join(root, 'repo');
    mkdirSync(dir);
    const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' }).trim();
    git('init', '-q', '-b', 'main');
    git('config', 'user.email', 't@example.com');
    git('config', 'user.name', 't');
    for (const n of [1, 2]) {
      writeFileSync(join(dir, 'f.txt'), String(n));
      git('add', '.');
      git('commit', '-q', '-m', `c${n}`);
      commits.push(git('rev-parse', 'HEAD'));
    }
    t = await listenTestApp('pglite', { ECV_QUEUE_MAINTENANCE_S: '3600' });
    const cmd = 'env | sort; echo "val_bpb: 0.99"';
    expect((await call(`${t.url}/v1/projects`, 'POST', projectBody('envp', { reproduction: { command: cmd, timeBudgetS: 60 } }))).status).toBe(201);
    const [base, step] = commits;
    expect((await call(`${t.url}/v1/projects/envp/experiments`, 'POST', [
      { key: base.slice(0, 10), status: 'keep', value: 1.0 },
      { key: step.slice(0, 10), status: 'keep', value: 0.99, premises: [base.slice(0, 10)] },
    ])).status).toBe(201);
    expect((await call(`${t.url}/v1/projects/envp/gate`, 'POST', { experiment: step.slice(0, 10), threshold: 0.999 })).body.decision).toBe('reanchor');
  });
  afterAll(async () => {
    await t?.close();
    if (root) rmSync(root, { recursive: true, force: true });
    commits = [];
  });

  it('holds the allow-list and --pass-env, never the runner’s secrets', { timeout: 120_000 }, async () => {
    const secrets = {
      AWS_SECRET_ACCESS_KEY: 'aws-secret-value-123',
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      DATABASE_URL: 'postgres://ecv:db-password-456@db/ecv',
      ECV_TOKEN: 'ecv_runner_token_value_789_abcdefgh',
      ECV_ADMIN_TOKEN: 'ecv_admin_token_value_000_abcdefgh',
      OPENAI_API_KEY: 'sk-openai-value',
      GITHUB_TOKEN: 'ghp_value',
    };
    const child = spawn(process.execPath, [ECV_BIN, 'runner', '--url', t.url, '--repo', dir, '--once', '--wait', '5', '--work-dir', join(root, 'wt'), '--pass-env', 'HF_*'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', CUDA_HOME: '/opt/cuda', HF_HOME_EXTRA: 'passed-by-flag', ...secrets },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code, out).toBe(0);

    const rows = await t.db.handle.db.selectFrom('reproductions').select(['log_tail', 'ok', 'value']).execute();
    expect(rows, out).toHaveLength(1);
    const tail = rows[0].log_tail ?? '';
    expect(rows[0]).toMatchObject({ ok: true, value: 0.99 });
    for (const line of ['LANG=C.UTF-8', 'LC_ALL=C.UTF-8', 'CUDA_HOME=/opt/cuda', 'HF_HOME_EXTRA=passed-by-flag', 'ECV_SEED=', `ECV_COMMIT=`, 'ECV_PROJECT=envp']) expect(tail).toContain(line);
    expect(tail).toMatch(/^PATH=/m);
    for (const [name, value] of Object.entries(secrets)) {
      expect(tail).not.toContain(`${name}=`);
      expect(tail).not.toContain(value);
    }
  });
});
