/**
 * `ecv runner` end to end with real processes: the service (`ecv serve`), two runners, a real
 * git repository whose commits print a noisy metric. A genuine improvement is accepted after
 * re-anchoring, a lucky non-improvement rejected; a runner SIGKILLed mid-job loses nothing; a
 * duplicate completion changes nothing; SIGTERM lets the running job finish.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPgDatabase, ENGINES } from '../helpers/db.js';

const ECV_BIN = fileURLToPath(new URL('../../bin/ecv.js', import.meta.url));
const NOISE_SD = 0.003; // the script's noise is uniform on ±0.003 (sd ≈ 0.0017); the project's prior says 0.003

/**
 * The training stand-in: checks it runs in the right checkout with the templated seed, prints a
 * running value first (the last match must win), then `val_bpb: level + noise(seed)`.
 */
function trainScript(level: string, extra = ''): string {
  return `#!/bin/sh
set -e
[ "$1" = "$ECV_SEED" ] || { echo "seed argument '$1' is not ECV_SEED '$ECV_SEED'"; exit 1; }
[ "$(git rev-parse HEAD)" = "$ECV_COMMIT" ] || { echo "not checked out at $ECV_COMMIT"; exit 1; }
[ -z "$ECV_TOKEN" ] || { echo "the runner token leaked into the job"; exit 1; }
LEVEL=${level}
${extra}
echo "val_bpb: 3.5"
echo "step 100 loss 1.2"
awk -v l="$LEVEL" -v s="$ECV_SEED" 'BEGIN { printf "val_bpb: %.5f\\n", l + ((s * 7919 + 13) % 601 - 300) / 100000 }'
`;
}

/** The noise the script adds for a seed (same formula). */
const noise = (seed: number) => (((seed * 7919 + 13) % 601) - 300) / 100000;

interface Proc {
  name: string;
  child: ChildProcess;
  out: string[];
  exited: Promise<number | null>;
}

function start(name: string, args: string[], env: Record<string, string | undefined>): Proc {
  const child = spawn(process.execPath, [ECV_BIN, ...args], {
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  let partial = '';
  const take = (c: Buffer) => {
    const lines = (partial + c.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    out.push(...lines);
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { name, child, out, exited };
}

async function until<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  ms: number,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Kills a process group by a member's pid (the orphaned job of a SIGKILLed runner). */
function killGroupOf(pid: number): void {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    process.kill(-pgid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

describe.each(ENGINES)('ecv runner end to end on %s', (engine) => {
  const root = mkdtempSync(join(tmpdir(), `ecv-e2e-runner-${engine}-`));
  const repo = join(root, 'repo');
  const workDir = join(root, 'worktrees');
  const slowDir = join(root, 'slow');
  const procs: Proc[] = [];
  const orphans: number[] = [];
  let dropDb: (() => Promise<void>) | undefined;
  let url = '';
  // The repository's commits (a fixture made once); every test makes its own project on them,
  // with its own runners, so that no test depends on another's jobs or reproductions.
  const keys: Record<'A' | 'B' | 'C' | 'D' | 'E', string> = { A: '', B: '', C: '', D: '', E: '' };

  const git = (...a: string[]) =>
    execFileSync('git', ['-C', repo, ...a], { encoding: 'utf8' }).trim();
  const cleanEnv = () => {
    const env: Record<string, string | undefined> = { ...process.env };
    for (const k of [
      'DATABASE_URL',
      'ECV_DATA_DIR',
      'ECV_TOKEN',
      'ECV_ADMIN_TOKEN',
      'ECV_URL',
      'PORT',
    ])
      delete env[k];
    return env;
  };

  async function api<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as T };
  }
  const experiment = async (project: string, key: string) =>
    (await api<Experiment>('GET', `/v1/projects/${project}/experiments/${key}`)).body;

  /** Runners of the test in progress (stopped after it). */
  let running: Proc[] = [];

  /** A runner serving only `project`, with its own work directory. */
  function startRunner(project: string, name: string, extra: string[] = []): Proc {
    const p = start(
      name,
      [
        'runner',
        '--url',
        url,
        '--repo',
        repo,
        '--project',
        project,
        '--name',
        name,
        '--labels',
        'gpu=none,zone=test',
        '--wait',
        '2',
        '--work-dir',
        join(workDir, project),
        '--grace',
        '1',
        // The job scripts read E2E_SLOW_DIR: outside the allow-list, so passed by name.
        '--pass-env',
        'E2E_SLOW_DIR',
        ...extra,
      ],
      {
        ...cleanEnv(),
        ECV_TOKEN: 'not-needed-with-auth-off', // must not reach the job (the script checks)
        E2E_SLOW_DIR: slowDir,
      },
    );
    procs.push(p);
    running.push(p);
    return p;
  }

  /** A project of its own on the repository's commits: A the root; B, C, D, E built on it. */
  async function setupProject(name: string): Promise<void> {
    const project = await api('POST', '/v1/projects', {
      name,
      metric: { name: 'val_bpb', direction: 'minimize' },
      threshold: 0.6,
      sigma0: NOISE_SD,
      reproduction: { command: './train.sh {seed}', replicates: 3, timeBudgetS: 30 },
    });
    expect(project.status, JSON.stringify(project.body)).toBe(201);
    const exps = await api('POST', `/v1/projects/${name}/experiments`, [
      { key: keys.A, status: 'keep', value: 1.0, description: 'baseline' },
      {
        key: keys.B,
        status: 'keep',
        value: 0.95,
        premises: [keys.A],
        description: 'real improvement',
      },
      { key: keys.C, status: 'keep', value: 0.985, premises: [keys.A], description: 'lucky run' },
      { key: keys.D, status: 'keep', value: 0.97, premises: [keys.A] },
      { key: keys.E, status: 'keep', value: 0.96, premises: [keys.A] },
    ]);
    expect(exps.status, JSON.stringify(exps.body)).toBeLessThan(300);
  }

  /** Two runners for the project of one test. */
  async function withRunners(project: string): Promise<Proc[]> {
    await setupProject(project);
    return [startRunner(project, `${project}-r1`), startRunner(project, `${project}-r2`)];
  }

  beforeAll(async () => {
    // The repository: A (root, level 1.00); B, C, D, E each built on A.
    mkdirSync(repo);
    mkdirSync(slowDir);
    execFileSync('git', ['init', '-q', '-b', 'main', repo]);
    git('config', 'user.email', 'e2e@ecv.local');
    git('config', 'user.name', 'ECV e2e');
    const commit = (name: string, script: string) => {
      writeFileSync(join(repo, 'train.sh'), script);
      chmodSync(join(repo, 'train.sh'), 0o755);
      git('add', '-A');
      git('commit', '-q', '-m', name);
      return git('rev-parse', '--short=7', 'HEAD');
    };
    keys.A = commit('A: baseline', trainScript('1.00'));
    keys.B = commit('B: a real improvement', trainScript('0.95'));
    git('checkout', '-q', '--detach', keys.A);
    keys.C = commit(
      'C: no real change (its one logged run was lucky)',
      trainScript('1.00', '# reordered imports'),
    );
    git('checkout', '-q', '--detach', keys.A);
    // D: seed 1's first run hangs (the test SIGKILLs its runner); the re-run is fast.
    keys.D = commit(
      'D: slow once',
      trainScript(
        '0.97',
        `if [ "$ECV_SEED" = 1 ] && mkdir "$E2E_SLOW_DIR/d-once" 2>/dev/null; then echo "$ECV_RUNNER $$" > "$E2E_SLOW_DIR/d-once/holder"; sleep 120; fi`,
      ),
    );
    git('checkout', '-q', '--detach', keys.A);
    // E: every run takes 3 s and says who runs it (for the graceful-shutdown check).
    keys.E = commit(
      'E: takes a while',
      trainScript('0.96', 'echo "$ECV_RUNNER" > "$E2E_SLOW_DIR/e-$ECV_SEED"; sleep 3'),
    );
    git('checkout', '-q', 'main');

    const env: Record<string, string | undefined> = {
      ...cleanEnv(),
      PORT: '0',
      HOST: '127.0.0.1',
      ECV_AUTH: 'off',
      ECV_LEASE_S: '3',
      ECV_QUEUE_MAINTENANCE_S: '1',
      LOG_LEVEL: 'info',
    };
    if (engine === 'postgres') {
      const db = await createPgDatabase();
      dropDb = db.drop;
      env.DATABASE_URL = db.url;
    } else {
      env.ECV_DATA_DIR = join(root, 'data');
    }
    const service = start('service', ['serve'], env);
    procs.push(service);
    url = await until(
      'the service to listen',
      () => {
        if (service.child.exitCode !== null)
          throw new Error(`service exited ${service.child.exitCode}:\n${service.out.join('\n')}`);
        return service.out
          .map((l) => /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(l)?.[1])
          .find(Boolean);
      },
      60_000,
    );
  }, 120_000);

  afterAll(async () => {
    if (process.env.E2E_DUMP)
      console.log(
        procs
          .map((p) => `--- ${p.name}\n${p.out.filter((l) => !l.startsWith('{')).join('\n')}`)
          .join('\n'),
      );
    for (const p of procs)
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    for (const pid of orphans) killGroupOf(pid);
    await Promise.all(
      procs.map((p) => Promise.race([p.exited, new Promise((r) => setTimeout(r, 5000))])),
    );
    await dropDb?.().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }, 30_000);

  // Stops the test's runners: SIGTERM (a job in flight finishes), then SIGKILL.
  afterEach(async () => {
    const live = running.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
    running = [];
    for (const p of live) p.child.kill('SIGTERM');
    await Promise.all(
      live.map(async (p) => {
        const t = await Promise.race([p.exited, new Promise((r) => setTimeout(() => r('timeout'), 15_000))]);
        if (t === 'timeout') p.child.kill('SIGKILL');
      }),
    );
  }, 30_000);

  const dump = () => procs.map((p) => `--- ${p.name}\n${p.out.slice(-40).join('\n')}`).join('\n');

  it('re-anchoring turns reanchor into accept for a genuine improvement', async () => {
    const P = 'anchor';
    await withRunners(P);
    // B is real (S ≈ 1) but K = C(B)·C(A) is under a threshold of 0.85: B runs again to anchor.
    const first = await api<Gate>('POST', `/v1/projects/${P}/gate`, { experiment: keys.B, threshold: 0.85 });
    expect(first.status).toBe(200);
    expect(first.body.decision, JSON.stringify(first.body)).toBe('reanchor');
    expect(first.body.compounded).toBeLessThan(0.85);
    expect(first.body.reanchor.jobs).toEqual([expect.objectContaining({ experiment: keys.B, purpose: 'anchor', seed: 1 })]);

    const done = await api<Gate>('POST', `/v1/projects/${P}/gate`, { experiment: keys.B, threshold: 0.85, wait: 90 });
    expect(done.body.decision, `${JSON.stringify(done.body)}\n${dump()}`).toBe('accept');
    expect(done.body.compounded).toBeGreaterThanOrEqual(0.85);
    expect(done.body.anchored).toBe(true);
    const b = await experiment(P, keys.B);
    expect(b.reproductions.length).toBeGreaterThanOrEqual(1);
    for (const r of b.reproductions) {
      expect(r.ok).toBe(true);
      expect(r.value).toBeCloseTo(0.95 + noise(r.seed), 6);
      expect([`${P}-r1`, `${P}-r2`]).toContain(r.runner);
    }
    expect(b.confidence.components.reproduction).toBeGreaterThan(0.5);
  }, 120_000);

  it('a lucky non-improvement ends rejected once its reproductions are in', async () => {
    const P = 'lucky';
    await withRunners(P);
    const first = await api<Gate>('POST', `/v1/projects/${P}/gate`, { experiment: keys.C });
    expect(first.body.decision, JSON.stringify(first.body)).toBe('reanchor');
    const done = await api<Gate>('POST', `/v1/projects/${P}/gate`, { experiment: keys.C, wait: 90 });
    expect(done.body.decision, `${JSON.stringify(done.body)}\n${dump()}`).toBe('reject');
    expect(done.body.reasons.map((r) => r.code)).toEqual(expect.arrayContaining([expect.stringMatching(/^(improvement_unlikely|budget_spent|futile)$/)]));
    // Its reproductions (of C, or of its premise A) landed at the true level 1.00.
    const c = await experiment(P, keys.C);
    const a = await experiment(P, keys.A);
    expect(c.reproductions.length + a.reproductions.length).toBeGreaterThanOrEqual(1);
    for (const r of [...c.reproductions, ...a.reproductions]) expect(r.value).toBeCloseTo(1.0 + noise(r.seed), 6);
    // Its claim looked as good as a keep (0.985 < 1.00), and the reproductions said otherwise.
    expect(c.confidence.components.statistics).toBeLessThan(0.5);
    expect(c.compounded!).toBeLessThan((await experiment(P, keys.B)).compounded!);
  }, 120_000);

  it('a duplicate complete changes nothing', async () => {
    // Its own project and one completion over the API (no runner process): B's anchoring run.
    const P = 'dup';
    await setupProject(P);
    const g = await api<Gate>('POST', `/v1/projects/${P}/gate`, { experiment: keys.B, threshold: 0.85 });
    expect(g.body.decision, JSON.stringify(g.body)).toBe('reanchor');
    const leased = await api<{ jobs: { id: string; experiment: string; seed: number }[] }>('POST', '/v1/runners/lease', { runner: 'api', maxJobs: 1, projects: [P] });
    expect(leased.body.jobs).toHaveLength(1);
    const job = leased.body.jobs[0];
    const value = 0.95 + noise(job.seed);
    const same = { runner: 'api', seed: job.seed, value, durationS: 1, logTail: 'first' };
    const first = await api('POST', `/v1/jobs/${job.id}/complete`, same);
    expect(first).toEqual({ status: 200, body: { duplicate: false, experiment: job.experiment, value, ok: true } });
    const before = await experiment(P, keys.B);
    const again = await api('POST', `/v1/jobs/${job.id}/complete`, { ...same, logTail: 'again' });
    expect(again).toEqual({ status: 200, body: { duplicate: true, experiment: job.experiment, value, ok: true } });
    const other = await api('POST', `/v1/jobs/${job.id}/complete`, { ...same, value: 0.5 });
    expect(other).toEqual({ status: 200, body: { duplicate: true, experiment: job.experiment, value, ok: true } });
    const after = await experiment(P, keys.B);
    expect(after.reproductions).toEqual(before.reproductions);
    expect(after.confidence).toEqual(before.confidence);
    expect(after.compounded).toBe(before.compounded);
  }, 60_000);

  it('a runner SIGKILLed mid-job loses nothing: the job is re-leased and completed exactly once', async () => {
    const P = 'kill';
    const runners = await withRunners(P);
    const g = await api<Gate>('POST', `/v1/projects/${P}/gate`, {
      experiment: keys.D,
      threshold: 0.99,
    });
    // Real but under 0.99: D runs again to anchor, one job at a time, up to 3 runs.
    expect(g.body.decision).toBe('reanchor');
    expect(g.body.reanchor.jobs.map((j) => j.seed)).toEqual([1]);
    const holderFile = join(slowDir, 'd-once', 'holder');
    const [holder, pid] = (
      await until(
        'the slow job to start',
        () => existsSync(holderFile) && readFileSync(holderFile, 'utf8').trim(),
        30_000,
      )
    ).split(' ');
    const victim = runners.find((p) => p.name === holder)!;
    const survivor = runners.find((p) => p.name !== holder)!;
    orphans.push(Number(pid));
    victim.child.kill('SIGKILL');
    killGroupOf(Number(pid)); // the whole machine died: its job with it
    expect(await victim.exited).toBeNull();

    // The decision goes on one job at a time until it is taken; then nothing more arrives.
    await until(
      'the decision on D',
      async () => (await api<Gate>('GET', `/v1/projects/${P}/experiments/${keys.D}/gate?threshold=0.99`)).body.decision !== 'reanchor',
      90_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${dump()}`);
    });
    await new Promise((r) => setTimeout(r, 1500)); // nothing else may arrive late
    const d = await experiment(P, keys.D);
    const reps = d.reproductions;
    expect(reps.length).toBeGreaterThanOrEqual(3);
    // Every job completed exactly once, the killed one (seed 1) included.
    expect(new Set(reps.map((r) => r.seed)).size).toBe(reps.length);
    expect(reps.map((r) => r.seed)).toContain(1);
    expect(reps.every((r) => r.ok)).toBe(true);
    const seed1 = d.reproductions.find((r) => r.seed === 1)!;
    expect(seed1.runner).toBe(survivor.name);
    expect(seed1.value).toBeCloseTo(0.97 + noise(1), 6);
    expect(
      survivor.out.some(
        (l) => /event=job\.reported .*seed=1 /.test(l) && l.includes(`experiment=${keys.D}`),
      ),
    ).toBe(true);

    // A runner started on the same work dir removes the dead runner's worktree.
    const left = readdirSync(join(workDir, P)).filter((n) => n.startsWith('ecv-job-'));
    expect(left.length).toBeGreaterThan(0);
    const r3 = startRunner(P, `${P}-r3`);
    await until(
      'r3 to clean up',
      () => r3.out.some((l) => l.includes('event=worktree.cleanup')),
      30_000,
    );
    expect(
      readdirSync(join(workDir, P)).filter((n) => n.startsWith('ecv-job-') && left.includes(n)),
    ).toEqual([]);
  }, 120_000);

  it('SIGTERM lets the running job finish and report, then the runner exits 0', async () => {
    const P = 'term';
    const runners = await withRunners(P);
    const g = await api<Gate>('POST', `/v1/projects/${P}/gate`, {
      experiment: keys.E,
      threshold: 0.99,
    });
    expect(g.body.reanchor.jobs).toHaveLength(1);
    const [file, name] = await until(
      'a runner to start a job of E',
      () => {
        const f = readdirSync(slowDir).find((n) => n.startsWith('e-'));
        return f && ([f, readFileSync(join(slowDir, f), 'utf8').trim()] as const);
      },
      30_000,
    );
    const seed = Number(file.slice(2));
    const stopping = runners.find((p) => p.name === name)!;
    stopping.child.kill('SIGTERM');
    expect(
      await Promise.race([
        stopping.exited,
        new Promise((r) => setTimeout(() => r('timeout'), 20_000)),
      ]),
    ).toBe(0);
    const reported = stopping.out.findIndex(
      (l) =>
        /event=job\.reported/.test(l) &&
        l.includes(`experiment=${keys.E}`) &&
        l.includes(`seed=${seed} `),
    );
    expect(reported, dump()).toBeGreaterThan(-1);
    expect(stopping.out.findIndex((l) => /event=runner\.stop /.test(l))).toBeGreaterThan(reported);

    await until(
      'the decision on E',
      async () => (await api<Gate>('GET', `/v1/projects/${P}/experiments/${keys.E}/gate?threshold=0.99`)).body.decision !== 'reanchor',
      90_000,
    );
    const e = await experiment(P, keys.E);
    expect(e.reproductions.length).toBeGreaterThanOrEqual(3);
    expect(e.reproductions.find((r) => r.seed === seed)!.runner).toBe(name);
    expect(e.reproductions.every((r) => r.ok)).toBe(true);

    // --once with nothing to do exits 0 after one long-poll.
    const once = startRunner(P, `${P}-once`, ['--once', '--wait', '1']);
    expect(
      await Promise.race([once.exited, new Promise((r) => setTimeout(() => r('timeout'), 30_000))]),
    ).toBe(0);
    for (const p of runners.filter((x) => x.child.exitCode === null && x.child.signalCode === null)) {
      p.child.kill('SIGTERM');
      expect(
        await Promise.race([p.exited, new Promise((r) => setTimeout(() => r('timeout'), 15_000))]),
      ).toBe(0);
    }
  }, 120_000);
});

interface Experiment {
  key: string;
  compounded: number | null;
  confidence: { value: number; components: Record<string, number> };
  reproductions: {
    seed: number;
    value: number | null;
    ok: boolean;
    runner: string;
    durationS?: number | null;
  }[];
}

interface Gate {
  decision: string;
  compounded: number | null;
  anchored: boolean;
  reasons: { code: string }[];
  reanchor: {
    candidate: string | null;
    jobs: { id: string; experiment: string; seed: number; state: string; purpose: string }[];
  };
}
