import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunnerApi } from '../../../src/runner/api.js';
import { openWorktrees } from '../../../src/runner/git.js';
import { runJob, type JobContext } from '../../../src/runner/job.js';
import type { JobSpec } from '../../../src/services/runner.service.js';

/** A fake ECV: records calls; heartbeats answer `heartbeatStatus`. */
let server: Server;
let url: string;
let heartbeatStatus = 200;
const calls: { path: string; body: Record<string, unknown> }[] = [];
let root: string;
let repo: string;
let sha: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      calls.push({ path: req.url!, body: JSON.parse(text) });
      const status = req.url!.endsWith('/heartbeat') ? heartbeatStatus : 200;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          status === 200
            ? { duplicate: false, leaseExpiresAt: new Date().toISOString() }
            : { code: 'conflict', detail: 'lease expired' },
        ),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  root = mkdtempSync(join(tmpdir(), 'ecv-job-test-'));
  repo = join(root, 'repo');
  execFileSync('git', ['init', '-q', repo]);
  writeFileSync(
    join(repo, 'train.sh'),
    '#!/bin/sh\necho "pid=$$"\n[ -n "$SLEEP" ] && sleep "$SLEEP"\necho "val_bpb: 0.9$ECV_SEED"\n',
    { mode: 0o755 },
  );
  execFileSync('git', ['-C', repo, 'add', '.']);
  execFileSync('git', [
    '-C',
    repo,
    '-c',
    'user.email=t@e',
    '-c',
    'user.name=t',
    'commit',
    '-q',
    '-m',
    'x',
  ]);
  sha = execFileSync('git', ['-C', repo, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(root, { recursive: true, force: true });
});

async function context(
  env: Record<string, string> = {},
  hardStop = new AbortController().signal,
): Promise<JobContext> {
  return {
    api: new RunnerApi({ url }),
    worktrees: await openWorktrees(repo, join(root, 'wt')),
    runner: 'r1',
    log: () => undefined,
    graceS: 0.5,
    fetchMissing: false,
    completeRetryMs: 5000,
    hardStop,
    env: { PATH: process.env.PATH, ...env },
    // The job script reads SLEEP: a runner variable outside the allow-list, passed on purpose.
    passEnv: ['SLEEP'],
  };
}

const job = (over: Partial<JobSpec> = {}): JobSpec => ({
  id: `00000000-0000-4000-8000-${String(Math.floor(Math.random() * 1e12)).padStart(12, '0')}`,
  project: 'p',
  experiment: 'x',
  commit: sha.slice(0, 7),
  seed: 2,
  command: './train.sh',
  metricPattern: '^val_bpb:\\s*(\\S+)',
  timeBudgetS: 30,
  leaseExpiresAt: new Date(Date.now() + 3000).toISOString(),
  heartbeatS: 1,
  ...over,
});

const completes = (id: string) => calls.filter((c) => c.path === `/v1/jobs/${id}/complete`);
const worktreesLeft = () => (existsSync(join(root, 'wt')) ? readdirSync(join(root, 'wt')) : []);
const pidOf = (text: string) => Number(/pid=(\d+)/.exec(text)?.[1]);
const alive = (pid: number) => {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('runJob', () => {
  it('reports the metric with seed, duration and log tail, and removes the worktree', async () => {
    const j = job();
    expect(await runJob(await context(), j, 0)).toBe('stored');
    const [c] = completes(j.id);
    expect(c.body).toMatchObject({
      runner: 'r1',
      seed: 2,
      value: 0.92,
      durationS: expect.any(Number),
    });
    expect(c.body.logTail).toContain('val_bpb: 0.92');
    expect(worktreesLeft()).toEqual([]);
  });

  it("completes an unknown commit with the error 'unknown commit'", async () => {
    const j = job({ commit: 'abcdef1' });
    expect(await runJob(await context(), j, 0)).toBe('stored');
    expect(completes(j.id)[0].body).toMatchObject({ seed: 2, error: 'unknown commit' });
    expect(completes(j.id)[0].body.value).toBeUndefined();
  });

  it('reports a timeout as a failed run', async () => {
    const j = job({ timeBudgetS: 1 });
    expect(await runJob(await context({ SLEEP: '100' }), j, 0)).toBe('stored');
    expect(completes(j.id)[0].body.error).toMatch(/time budget of 1s exceeded/);
    expect(worktreesLeft()).toEqual([]);
  });

  it('kills the process and does not complete when a heartbeat says the lease is lost', async () => {
    heartbeatStatus = 409;
    try {
      const j = job();
      const started = Date.now();
      expect(await runJob(await context({ SLEEP: '100' }), j, 0)).toBe('lost');
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(completes(j.id)).toEqual([]);
      expect(
        calls.some((c) => c.path === `/v1/jobs/${j.id}/heartbeat` && c.body.runner === 'r1'),
      ).toBe(true);
      expect(worktreesLeft()).toEqual([]);
    } finally {
      heartbeatStatus = 200;
    }
  });

  it('on a hard stop kills the process group and does not complete', async () => {
    const stop = new AbortController();
    const j = job();
    const ctx = await context({ SLEEP: '100' }, stop.signal);
    const run = runJob(ctx, j, 0);
    const wt = await (async () => {
      for (let i = 0; i < 100; i++) {
        const d = worktreesLeft()[0];
        if (d) return join(root, 'wt', d);
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('no worktree');
    })();
    expect(existsSync(wt)).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    stop.abort();
    expect(await run).toBe('dropped');
    expect(completes(j.id)).toEqual([]);
    expect(worktreesLeft()).toEqual([]);
  });

  it('heartbeats while the job runs, every heartbeatS', async () => {
    const j = job();
    expect(await runJob(await context({ SLEEP: '2.5' }), j, 0)).toBe('stored');
    const beats = calls.filter((c) => c.path === `/v1/jobs/${j.id}/heartbeat`).length;
    expect(beats).toBeGreaterThanOrEqual(2);
    expect(pidOf(String(completes(j.id)[0].body.logTail))).toBeGreaterThan(0);
    expect(alive(pidOf(String(completes(j.id)[0].body.logTail)))).toBe(false);
  });
});
