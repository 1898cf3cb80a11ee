import { execFileSync } from 'node:child_process';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import pg from 'pg';
import { ADMIN_URL } from './db.js';

export interface Machine {
  date: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  postgres: string | null;
  commit: string;
  /** Uncommitted changes under src/ when the benchmark ran (the service measured is the working tree). */
  dirtySrc: number;
  loadStart: number[];
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return '';
  }
}

/** What the numbers were measured on. */
export async function describeMachine(): Promise<Machine> {
  let postgres: string | null;
  try {
    const c = new pg.Client({ connectionString: ADMIN_URL });
    await c.connect();
    postgres = ((await c.query('SHOW server_version')).rows[0] as { server_version: string })
      .server_version;
    await c.end();
  } catch {
    postgres = null;
  }
  return {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: totalmem() / 2 ** 30,
    node: process.version,
    os: `${platform()} ${release()}`,
    postgres,
    commit: git(['rev-parse', '--short', 'HEAD']) || 'unknown',
    dirtySrc: git(['status', '--porcelain', '--', 'src', 'sql']).split('\n').filter(Boolean).length,
    loadStart: loadavg(),
  };
}
