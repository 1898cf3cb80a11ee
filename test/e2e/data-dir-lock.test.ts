import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  acquireDataDirLock,
  DataDirLockedError,
  LOCK_FILE,
  readLock,
} from '../../src/db/data-dir-lock.js';
import { ecv, tempRepo } from '../helpers/cli.js';
import { api, freePort, startService, type Service } from '../helpers/service.js';

// The lock guards PGlite directories only: these tests drive the embedded engine on both runs.
const header = 'commit\tval_bpb\tmemory_gb\tstatus\tdescription\n';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ecv-lock-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function service(dataDir: string): Promise<Service> {
  const svc = await startService({ ECV_DATA_DIR: dataDir }, 120_000);
  // stop() waits for an exit: a service already SIGKILLed (signalCode set) has had its exit.
  cleanups.push(() =>
    svc.proc.exitCode === null && svc.proc.signalCode === null ? svc.stop() : undefined,
  );
  return svc;
}

/** A pid that surely belongs to no process: one that has just exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(r.stdout);
}

/** A git repository with n kept experiments and their results.tsv. */
function repoWithResults(n: number): { dir: string; file: string } {
  const { dir, commit } = tempRepo();
  let tsv = header;
  for (let i = 0; i < n; i++) {
    const sha = commit(`exp ${i}`, { 'train.py': `lr = ${1 - i / 100}\n` });
    tsv += `${sha}\t${(1 - i / 1000).toFixed(3)}\t40\tkeep\texp ${i}\n`;
  }
  const file = join(dir, 'results.tsv');
  writeFileSync(file, tsv);
  return { dir, file };
}

async function experimentCount(url: string, project: string): Promise<number> {
  const res = await api<{ items: unknown[] }>(
    url,
    'GET',
    `/v1/projects/${project}/experiments?limit=1000`,
  );
  expect(res.status).toBe(200);
  return res.body.items.length;
}

describe('one owner of a PGlite data directory', () => {
  it(
    'ecv ingest on the directory of a live service goes through it; nothing is lost on restart',
    { timeout: 300_000 },
    async () => {
      const data = tempDataDir();
      const { dir, file } = repoWithResults(20);
      let svc = await service(data);
      const lock = readLock(data);
      expect(lock).toMatchObject({ pid: svc.proc.pid, hostname: hostname(), url: svc.url });
      expect(lock?.command).toContain('serve');

      const r = await ecv(['ingest', file, '--project', 'owned', '--git', dir], {
        cwd: dir,
        env: { ECV_DATA_DIR: data },
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('20 new');
      expect(r.stderr).toContain(`using the service at ${svc.url} that holds ${data}`);
      expect(r.stderr.match(/using the service/g)).toHaveLength(1);
      expect(await experimentCount(svc.url, 'owned')).toBe(20);

      await svc.stop();
      expect(existsSync(join(data, LOCK_FILE))).toBe(false); // released on SIGTERM
      svc = await service(data);
      expect(await experimentCount(svc.url, 'owned')).toBe(20);
    },
  );

  it(
    'a second ecv serve on the same directory exits 2 naming the holder',
    { timeout: 180_000 },
    async () => {
      const data = tempDataDir();
      const svc = await service(data);
      const second = await ecv(['serve'], {
        env: {
          ECV_DATA_DIR: data,
          ECV_AUTH: 'off',
          HOST: '127.0.0.1',
          PORT: String(await freePort()),
        },
      });
      expect(second.code, second.stderr).toBe(2);
      expect(second.stderr).toContain(`pid ${svc.proc.pid}`);
      expect(second.stderr).toContain('serve');
      expect(second.stderr).toContain(svc.url);
      // The holder is untouched and still answers.
      expect(readLock(data)?.pid).toBe(svc.proc.pid);
      expect((await api(svc.url, 'GET', '/healthz')).status).toBe(200);
    },
  );

  it(
    'an in-process command on a directory held by a live process without a URL exits 2 naming it',
    { timeout: 120_000 },
    async () => {
      const data = tempDataDir();
      // This test process is alive: a lock naming it (no URL, like an in-process CLI) must stand.
      writeFileSync(
        join(data, LOCK_FILE),
        JSON.stringify({
          pid: process.pid,
          hostname: hostname(),
          command: 'ecv ingest results.tsv',
          startedAt: new Date().toISOString(),
        }),
      );
      const { dir, file } = repoWithResults(1);
      const r = await ecv(['ingest', file, '--project', 'blocked', '--git', dir], {
        cwd: dir,
        env: { ECV_DATA_DIR: data },
      });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`in use by pid ${process.pid} (ecv ingest results.tsv)`);
      expect(readLock(data)?.pid).toBe(process.pid);
    },
  );

  it(
    'a stale lock of a dead pid is taken over, and released when the command ends',
    { timeout: 120_000 },
    async () => {
      const data = tempDataDir();
      const pid = deadPid();
      writeFileSync(
        join(data, LOCK_FILE),
        JSON.stringify({
          pid,
          hostname: hostname(),
          command: 'ecv serve',
          url: 'http://127.0.0.1:9',
          startedAt: '2026-01-01T00:00:00Z',
        }),
      );
      const { dir, file } = repoWithResults(2);
      const r = await ecv(['ingest', file, '--project', 'stale', '--git', dir], {
        cwd: dir,
        env: { ECV_DATA_DIR: data },
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('2 new');
      expect(r.stderr).not.toContain('using the service');
      expect(existsSync(join(data, LOCK_FILE))).toBe(false);
    },
  );

  it(
    'a SIGKILLed service leaves a lock that the next start takes over, with its acknowledged writes',
    { timeout: 240_000 },
    async () => {
      const data = tempDataDir();
      let svc = await service(data);
      const project = { name: 'killed', metric: { name: 'val_bpb', direction: 'minimize' } };
      expect((await api(svc.url, 'POST', '/v1/projects', project)).status).toBe(201);
      const rows = [
        { key: 'k0', status: 'keep', value: 1.0 },
        { key: 'k1', status: 'keep', value: 0.9, premises: ['k0'] },
      ];
      expect(
        (await api(svc.url, 'POST', '/v1/projects/killed/experiments', rows)).status,
      ).toBeLessThan(300);
      const killedPid = svc.proc.pid;
      await svc.stop('SIGKILL');
      expect(readLock(data)?.pid).toBe(killedPid);
      svc = await service(data);
      expect(readLock(data)).toMatchObject({ pid: svc.proc.pid, url: svc.url });
      expect(await experimentCount(svc.url, 'killed')).toBe(2);
    },
  );

  it('holds the lock within one process too, and frees it on release', () => {
    const data = tempDataDir();
    const lock = acquireDataDirLock(data, { command: 'test' });
    expect(() => acquireDataDirLock(data)).toThrow(DataDirLockedError);
    lock.setUrl('http://127.0.0.1:1234');
    expect(JSON.parse(readFileSync(join(data, LOCK_FILE), 'utf8'))).toMatchObject({
      pid: process.pid,
      command: 'test',
      url: 'http://127.0.0.1:1234',
    });
    lock.release();
    expect(existsSync(join(data, LOCK_FILE))).toBe(false);
    acquireDataDirLock(data).release();
  });
});
