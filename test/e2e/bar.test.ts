/**
 * `ecv bar` end to end with real processes: `ecv serve` on PGlite, a real git repository whose
 * train script prints a seed-noisy metric, one `ecv runner` reproducing what the gate asks for.
 * Before the baseline is reproduced there is no bar (exit 0, `--quiet` prints nothing); after the gate
 * accepts the baseline, the bar is the head's posterior level plus margin·σ̂ (SPEC §5). The
 * numbers are not pinned: the scoring core owns them.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ECV_BIN, ecv, tempRepo } from '../helpers/cli.js';
import { startService, type Service } from '../helpers/service.js';

const header = 'commit\tval_accuracy\tmemory_gb\tstatus\tdescription\n';
// val_accuracy = 0.9 + a deterministic noise of the seed (±0.003).
const TRAIN = `#!/bin/sh
awk -v s="\${ECV_SEED:-0}" 'BEGIN { printf "val_accuracy: %.5f\\n", 0.9 + ((s * 7919 + 13) % 601 - 300) / 100000 }'
`;

interface Bar {
  project: string;
  bar: number | null;
  head: string | null;
  level: { mean: number; sd: number } | null;
  sigma: number | null;
  direction: string;
  margin: number;
}

describe('ecv bar (real service, runner and git repository)', () => {
  let svc: Service;
  let runner: ReturnType<typeof spawn> | undefined;
  const repo = tempRepo();
  let base = '';

  beforeAll(async () => {
    svc = await startService({ ECV_DATA_DIR: mkdtempSync(join(tmpdir(), 'ecv-bar-data-')) });
    const init = await ecv(
      ['init', '--project', 'bardemo', '--metric', 'val_accuracy', '--direction', 'maximize', '--command', 'sh train.sh', '--protect', 'prepare.py'],
      { cwd: repo.dir },
    );
    expect(init.code, init.stderr).toBe(0);
    base = repo.commit('baseline', { 'train.sh': TRAIN, '.gitignore': 'results.tsv\n' });
    writeFileSync(join(repo.dir, 'results.tsv'), `${header}${base}\t0.900000\t0.0\tkeep\tbaseline\n`);
  }, 120_000);

  afterAll(async () => {
    runner?.kill('SIGTERM');
    await svc?.stop();
  });

  it('--help prints the usage and exits 0 without touching a database', async () => {
    const data = join(mkdtempSync(join(tmpdir(), 'ecv-bar-help-')), 'never');
    const r = await ecv(['bar', '--help'], { env: { ECV_DATA_DIR: data } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('usage: ecv bar');
    expect(r.stdout).toContain('--quiet');
    expect(existsSync(data)).toBe(false);
  });

  it('exits 2 without a project, on an unknown project and on conflicting flags', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'ecv-bar-none-'));
    const none = await ecv(['bar', '--url', svc.url], { cwd: empty });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('usage: ecv bar');
    const unknown = await ecv(['bar', '--project', 'no-such-project', '--url', svc.url], { cwd: empty });
    expect(unknown.code, unknown.stdout + unknown.stderr).toBe(2);
    expect(unknown.stderr).toMatch(/no-such-project|not found/i);
    const both = await ecv(['bar', '--quiet', '--json', '--url', svc.url], { cwd: repo.dir });
    expect(both.code).toBe(2);
  });

  it('has no bar before the baseline is reproduced, and the head level plus the margin after it', { timeout: 240_000 }, async () => {
    const ingest = await ecv(['ingest', 'results.tsv', '--git', '.', '--url', svc.url], { cwd: repo.dir });
    expect(ingest.code, ingest.stdout + ingest.stderr).toBe(0);

    // No accepted keep yet: exit 0, nothing on stdout with --quiet, bar null in --json.
    const q0 = await ecv(['bar', '--quiet', '--url', svc.url], { cwd: repo.dir });
    expect(q0.code, q0.stderr).toBe(0);
    expect(q0.stdout).toBe('');
    const j0 = await ecv(['bar', '--json', '--url', svc.url], { cwd: repo.dir });
    expect(j0.code, j0.stderr).toBe(0);
    const a0 = JSON.parse(j0.stdout) as Bar;
    expect(a0).toMatchObject({ project: 'bardemo', bar: null, direction: 'maximize' });
    expect([null, base]).toContain(a0.head); // no head yet, or the root not yet reproduced
    const h0 = await ecv(['bar', '--url', svc.url], { cwd: repo.dir });
    expect(h0.stdout).toContain('no bar yet');

    // The gate reproduces the baseline (a runner answers its jobs) and accepts it.
    runner = spawn(
      process.execPath,
      [ECV_BIN, 'runner', '--url', svc.url, '--repo', repo.dir, '--name', 'bar-runner', '--work-dir', mkdtempSync(join(tmpdir(), 'ecv-bar-wt-')), '--wait', '5'],
      { env: { ...process.env, ECV_URL: '', LOG_LEVEL: 'warn' }, stdio: 'ignore' },
    );
    let gate = await ecv(['gate', base, '--wait', '60', '--url', svc.url], { cwd: repo.dir });
    for (let i = 0; i < 3 && gate.code === 3; i++) gate = await ecv(['gate', base, '--wait', '60', '--url', svc.url], { cwd: repo.dir });
    expect(gate.code, gate.stdout + gate.stderr).toBe(0);

    const j1 = await ecv(['bar', '--json', '--url', svc.url], { cwd: repo.dir });
    expect(j1.code, j1.stderr).toBe(0);
    const a = JSON.parse(j1.stdout) as Bar;
    expect(a).toMatchObject({ project: 'bardemo', head: base, direction: 'maximize' });
    expect(a.bar).toEqual(expect.any(Number));
    expect(a.level!.mean).toBeGreaterThan(0.89);
    expect(a.level!.mean).toBeLessThan(0.91);
    expect(a.margin).toBeGreaterThan(0);
    expect(a.sigma).toBeGreaterThan(0);
    // Direction-aware: for a maximized metric the bar lies above the head's level, by margin·σ̂.
    expect(a.bar!).toBeGreaterThan(a.level!.mean);
    expect(a.bar!).toBeCloseTo(a.level!.mean + a.margin * a.sigma!, 9);

    // --quiet: the same number alone on stdout, for a shell loop's comparison.
    const q1 = await ecv(['bar', '--quiet', '--url', svc.url], { cwd: repo.dir });
    expect(q1.code).toBe(0);
    expect(q1.stdout.trim()).toMatch(/^-?\d+(\.\d+)?(e-?\d+)?$/);
    expect(Number(q1.stdout)).toBe(a.bar);
    const h1 = await ecv(['bar', '--url', svc.url], { cwd: repo.dir });
    expect(h1.stdout).toContain(`bar ${a.bar}`);
    expect(h1.stdout).toContain(base);
  });
});
