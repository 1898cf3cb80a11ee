import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ECV_BIN = fileURLToPath(new URL('../../bin/ecv.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `ecv …` as a real child process. */
export function ecv(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [ECV_BIN, ...args],
      { cwd: opts.cwd, env: { ...process.env, ECV_URL: '', LOG_LEVEL: 'warn', ...opts.env }, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 99) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A real git repository in a temp dir, with helpers to commit files. */
export function tempRepo(): { dir: string; git: (...a: string[]) => string; commit: (msg: string, files: Record<string, string>) => string } {
  const dir = mkdtempSync(join(tmpdir(), 'ecv-repo-'));
  const git = (...a: string[]) => execFileSync('git', ['-C', dir, ...a], { encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'test@ecv.local');
  git('config', 'user.name', 'ECV test');
  const commit = (msg: string, files: Record<string, string>) => {
    for (const [p, c] of Object.entries(files)) writeFileSync(join(dir, p), c);
    git('add', '-A');
    git('commit', '-q', '-m', msg);
    return git('rev-parse', '--short=7', 'HEAD');
  };
  return { dir, git, commit };
}
