import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './service.js';

/**
 * A PostgreSQL server of the test's own (initdb in a temp dir, its own port), so that a fault
 * test can stop and restart it without disturbing the shared server other test files use.
 * PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user.
 */
export interface PrivateCluster {
  url: string;
  port: number;
  start(): Promise<void>;
  /** `pg_ctl stop -m fast`: connections are terminated, as in a real restart. */
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

/** The PostgreSQL server binaries (Debian's /usr/lib/postgresql/<v>/bin), or null. */
export function findPgBin(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(base, versions[0], 'bin') : null;
}

export async function createPrivateCluster(): Promise<PrivateCluster> {
  const bin = findPgBin();
  if (!bin) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql');
  const dir = mkdtempSync(join(tmpdir(), 'ecv-pgc-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  // Asynchronous, so that the test's clients keep sending while the server stops and starts.
  const run = async (cmd: string, args: string[]) => {
    await promisify(execFile)(asRoot ? 'runuser' : join(bin, cmd), asRoot ? ['-u', 'postgres', '--', join(bin, cmd), ...args] : args, {
      cwd: dir,
      timeout: 60_000,
    });
  };
  const data = join(dir, 'data');
  await run('initdb', ['-D', data, '-A', 'trust', '-U', 'root', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c jit=off -c max_connections=50`;
  const ctl = (...args: string[]) => run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', ...args]);
  const cluster: PrivateCluster = {
    url: `postgres://root@127.0.0.1:${port}/postgres`,
    port,
    start: () => ctl('-o', opts, 'start'),
    stop: () => ctl('-m', 'fast', 'stop'),
    async destroy() {
      await ctl('-m', 'immediate', 'stop').catch(() => undefined); // may be stopped already
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await cluster.start();
  return cluster;
}
