import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ecv, tempRepo } from '../helpers/cli.js';
import { api, startService, type Service } from '../helpers/service.js';

/**
 * Issue 15 §1 with the real CLI, a real git repository and a real service: a loop obeys a
 * reject by `git reset --hard` to the previous keep and re-marks the row discard; the reverted
 * commit leaves the branch and the premises of later rows move. `ecv ingest --git` and
 * `ecv check` keep working (exit 0 / a gate decision, never the usage-or-error exit 2).
 */
const HEADER = 'commit\tval_bpb\tmemory_gb\tstatus\tdescription\n';

interface Experiment {
  key: string;
  status: string;
  premises: string[];
  version: number;
  absent: boolean;
}

describe('a loop that reverts a rejected keep (real git, real CLI)', () => {
  let svc: Service;
  const dirs: string[] = [];
  beforeAll(async () => {
    const data = mkdtempSync(join(tmpdir(), 'ecv-revert-'));
    dirs.push(data);
    svc = await startService({ ECV_DATA_DIR: data });
  }, 120_000);
  afterAll(async () => {
    await svc?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const get = async (key: string) => (await api<Experiment>(svc.url, 'GET', `/v1/projects/rev/experiments/${key}`)).body;

  it('ingests and checks after git reset --hard and a discard, and hard-gates on a discarded premise left on the branch', { timeout: 300_000 }, async () => {
    const { dir, git, commit } = tempRepo();
    dirs.push(dir);
    const env = { ECV_URL: svc.url };
    const cli = (...args: string[]) => ecv(args, { cwd: dir, env });
    // results.tsv stays untracked, as in the loops: a reset leaves it alone.
    const base = commit('baseline', { '.gitignore': 'results.tsv\n', 'train.py': 'lr = 1\n' });
    const a = commit('A: lower lr', { 'train.py': 'lr = 0.5\n' });
    const b = commit('B: bigger batch', { 'train.py': 'lr = 0.5\nbatch = 4096\n' });
    const log = join(dir, 'results.tsv');
    const rows = [`${base}\t1.000\t40\tkeep\tbaseline`, `${a}\t0.950\t40\tkeep\tlower lr`, `${b}\t0.948\t41\tkeep\tbigger batch`];
    const write = () => writeFileSync(log, `${HEADER}${rows.join('\n')}\n`);
    write();
    const first = await cli('ingest', log, '--project', 'rev', '--direction', 'minimize', '--git', dir);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect((await get(b)).premises).toEqual([a]);
    const gated = await cli('gate', b, '--project', 'rev');
    expect([0, 1, 3], gated.stdout + gated.stderr).toContain(gated.code);

    // The loop rejects B: reset to A, mark B discard, go on with C on top of A.
    git('reset', '-q', '--hard', a);
    rows[2] = rows[2].replace('\tkeep\t', '\tdiscard\t');
    const c = commit('C: warmup', { 'train.py': 'lr = 0.5\nwarmup = 10\n' });
    rows.push(`${c}\t0.940\t40\tkeep\twarmup`);
    write();
    const again = await cli('ingest', log, '--project', 'rev', '--git', dir);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toMatch(/1 new, \d+ unchanged, 1 updated/);
    expect(await get(b)).toMatchObject({ status: 'discard', version: 2, absent: false });
    expect((await get(c)).premises).toEqual([a]);
    const versions = (await api<{ items: { version: number; changed: string[] }[] }>(svc.url, 'GET', `/v1/projects/rev/experiments/${b}/versions`)).body;
    expect(versions.items.map((v) => v.version)).toEqual([1, 2]);
    expect(versions.items[1].changed).toContain('status');
    const check = await cli('check', '--project', 'rev');
    expect([0, 1, 3], check.stdout + check.stderr).toContain(check.code);
    expect(check.stdout).toContain('## ECV check');
    // Idempotent: the same log and branch again change nothing.
    expect((await cli('ingest', log, '--project', 'rev', '--git', dir)).stdout).toContain('0 new, 4 unchanged, 0 updated');

    // A keep the loop re-marks discard without reverting it stays in the head's code: what stands
    // on it is hard-gated, with a reason naming it.
    rows[1] = rows[1].replace('\tkeep\t', '\tdiscard\t');
    write();
    const marked = await cli('ingest', log, '--project', 'rev', '--git', dir);
    expect(marked.code, marked.stdout + marked.stderr).toBe(0);
    expect((await get(c)).premises).toEqual([a]);
    const child = await cli('gate', c, '--project', 'rev', '--json');
    expect(child.code, child.stdout + child.stderr).toBe(1);
    const answer = JSON.parse(child.stdout) as { decision: string; reasons: { code: string; message: string }[] };
    expect(answer.decision).toBe('reject');
    expect(answer.reasons.some((r) => r.message.includes(a)), JSON.stringify(answer.reasons)).toBe(true);
  });
});
