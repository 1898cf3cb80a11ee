import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { ecv, tempRepo } from '../helpers/cli.js';
import { api, startService } from '../helpers/service.js';

const header = 'commit\tval_bpb\tmemory_gb\tstatus\tdescription\n';

describe('ecv CLI with real git repositories (embedded database)', () => {
  it('init writes ecv.json and the program.md paragraph', async () => {
    const { dir } = tempRepo();
    const r = await ecv(['init', '--project', 'demo', '--protect', 'prepare.py'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const cfg = JSON.parse(readFileSync(join(dir, 'ecv.json'), 'utf8'));
    expect(cfg).toMatchObject({ name: 'demo', metric: { name: 'val_bpb', direction: 'minimize' }, protectedPaths: ['prepare.py'] });
    expect(readFileSync(join(dir, 'program.md'), 'utf8')).toContain('ecv gate');
    // Re-run: ecv.json is kept (it is the config); options without --force would rewrite it.
    expect((await ecv(['init'], { cwd: dir })).code).toBe(0);
    expect((await ecv(['init', '--metric', 'loss'], { cwd: dir })).code).toBe(2);
  });

  it('check exits 1 when the head keep stands on a crashed commit left on the branch', async () => {
    const { dir, commit } = tempRepo();
    const data = mkdtempSync(join(tmpdir(), 'ecv-data-'));
    await ecv(['init', '--project', 'contam'], { cwd: dir });
    const base = commit('baseline', { 'train.py': 'lr = 1\n', 'prepare.py': 'split = 1\n' });
    const a = commit('A: lower lr', { 'train.py': 'lr = 0.5\n' });
    const b = commit('B: bigger batch (crashed, not reset)', { 'train.py': 'lr = 0.5\nbatch = 4096\n' });
    const c = commit('C: warmup on top of B', { 'train.py': 'lr = 0.5\nbatch = 4096\nwarmup = 10\n' });
    writeFileSync(join(dir, 'results.tsv'), `${header}${base}\t1.000\t40\tkeep\tbaseline\n${a}\t0.990\t40\tkeep\tlower lr\n${b}\t0.000\t0\tcrash\tbigger batch OOM\n${c}\t0.985\t41\tkeep\twarmup\n`);
    const summary = join(data, 'summary.md');
    const junit = join(data, 'junit.xml');
    const r = await ecv(['check', '--junit', junit, '--data-dir', data], { cwd: dir, env: { GITHUB_STEP_SUMMARY: summary } });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain('premise_hard_gated');
    expect(r.stdout).toContain(b);
    expect(readFileSync(summary, 'utf8')).toContain('## ECV check');
    const xml = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(junit, 'utf8'));
    expect(xml.testsuites['@_failures']).toBe('1');
    expect(xml.testsuites.testsuite.testcase.failure['@_type']).toBe('reject');
  });

  it('ingest is idempotent, gate exits 0/3 by threshold, bad files exit 2', { timeout: 240_000 }, async () => {
    const { dir, commit } = tempRepo();
    const data = mkdtempSync(join(tmpdir(), 'ecv-data-'));
    const base = commit('baseline', { 'train.py': 'lr = 1\n' });
    const a = commit('A', { 'train.py': 'lr = 0.5\n' });
    const file = join(dir, 'results.tsv');
    writeFileSync(file, `${header}${base}\t1.000\t40\tkeep\tbaseline\n${a}\t0.950\t40\tkeep\tlower lr\n`);
    const env = { ECV_DATA_DIR: data };
    const i1 = await ecv(['ingest', file, '--project', 'idem', '--git', dir], { cwd: dir, env });
    expect(i1.code, i1.stderr).toBe(0);
    expect(i1.stdout).toContain('2 new');
    const i2 = await ecv(['ingest', file, '--project', 'idem', '--git', dir], { cwd: dir, env });
    expect(i2.stdout).toContain('0 new, 2 unchanged');
    // No sigma0 and nothing repeated: the first gate runs the baseline again before it decides.
    const re = await ecv(['gate', a, '--project', 'idem', '--json'], { cwd: dir, env });
    expect(re.code, re.stdout + re.stderr).toBe(3);
    expect(JSON.parse(re.stdout).reasons.map((r: { code: string }) => r.code)).toContain('sigma_unknown');
    const missing = await ecv(['gate', 'nope', '--project', 'idem'], { cwd: dir, env });
    expect(missing.code).toBe(2);
    const bin = join(dir, 'garbage.tsv');
    writeFileSync(bin, Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 131) % 256)));
    const bad = await ecv(['ingest', bin, '--project', 'idem2', '--direction', 'minimize'], { cwd: dir, env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/line \d+/);
    expect(existsSync(data)).toBe(true);
    expect((await ecv(['gate'], { cwd: dir, env })).code).toBe(2);
    expect((await ecv(['bogus'], { cwd: dir, env })).code).toBe(2);
  });

  it('gate talks to a running service with --url', { timeout: 180_000 }, async () => {
    const svc = await startService({ ECV_DATA_DIR: mkdtempSync(join(tmpdir(), 'ecv-svc-')) });
    try {
      expect((await api(svc.url, 'POST', '/v1/projects', { name: 'remote', metric: { name: 'val_bpb', direction: 'minimize' }, sigma0: 0.01, nu0: 50 })).status).toBe(201);
      await api(svc.url, 'POST', '/v1/projects/remote/experiments', [
        { key: 'r0', status: 'keep', value: 1.0, replicates: [1.005, 0.995, 1.0] },
        { key: 'r1', status: 'keep', value: 0.9, premises: ['r0'] },
        { key: 'r2', status: 'crash', value: null, premises: ['r1'] },
      ]);
      const ok = await ecv(['gate', 'r1', '--project', 'remote', '--threshold', '0', '--url', svc.url]);
      expect(ok.code, ok.stderr).toBe(0);
      const crash = await ecv(['gate', 'r2', '--project', 'remote', '--json'], { env: { ECV_URL: svc.url } });
      expect(crash.code).toBe(1);
      expect(JSON.parse(crash.stdout).reasons[0].code).toBe('hard_gate_crash');
      const down = await ecv(['gate', 'r1', '--project', 'remote', '--url', 'http://127.0.0.1:9']);
      expect(down.code).toBe(2);
      expect(down.stderr).toContain('cannot reach');
    } finally {
      await svc.stop();
    }
  });
});
