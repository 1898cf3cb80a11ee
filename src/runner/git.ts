/**
 * Fresh git worktrees of the configured repository, one per job. Several runners (and several
 * jobs of one runner) may share a repository, so every `git worktree add/remove/prune` and
 * `git fetch` runs under a lock file in the repository's common git dir, and is retried.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, open, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { isAlive } from './process.js';

/** Runs git in `repo`; rejects with git's stderr in the message. */
export function git(repo: string, args: string[], timeoutMs = 600_000): Promise<string> {
  return new Promise((res, rej) => {
    execFile(
      'git',
      ['-C', repo, ...args],
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err)
          rej(new Error(`git ${args[0]} failed: ${(stderr || err.message).trim().slice(0, 500)}`));
        else res(stdout);
      },
    );
  });
}

/** The repository's common git dir (shared by all its worktrees), absolute. */
export async function commonGitDir(repo: string): Promise<string> {
  return resolve(repo, (await git(repo, ['rev-parse', '--git-common-dir'])).trim());
}

/** A commit reference git may be asked about: no option-like or odd input reaches git. */
const REF = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}$/;

/** The full hash of `ref` (a short hash is fine), or null when the repository has no such commit. */
export async function resolveCommit(repo: string, ref: string): Promise<string | null> {
  if (!REF.test(ref)) return null;
  try {
    const out = (await git(repo, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])).trim();
    return /^[0-9a-f]{40,64}$/.test(out) ? out : null;
  } catch {
    return null; // unknown or ambiguous
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A lock older than this is taken over even if its owner cannot be checked (another host). */
const STALE_LOCK_MS = 10 * 60_000;

/**
 * Runs `fn` holding `<gitdir>/ecv-runner.lock` (O_EXCL create). A lock whose owner process on
 * this host is gone, or that is older than STALE_LOCK_MS, is taken over.
 */
export async function withRepoLock<T>(
  gitDir: string,
  fn: () => Promise<T>,
  timeoutMs = 15 * 60_000,
): Promise<T> {
  const path = join(gitDir, 'ecv-runner.lock');
  const deadline = Date.now() + timeoutMs;
  const me = JSON.stringify({ host: hostname(), pid: process.pid, at: new Date().toISOString() });
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(me);
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (await lockIsStale(path)) {
        await unlink(path).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${path}`, { cause: e });
      await sleep(Math.min(500, 20 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random()));
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(path).catch(() => undefined);
  }
}

async function lockIsStale(path: string): Promise<boolean> {
  try {
    const [text, st] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    if (Date.now() - st.mtimeMs > STALE_LOCK_MS) return true;
    const owner = JSON.parse(text) as { host?: string; pid?: number };
    return owner.host === hostname() && typeof owner.pid === 'number' && !isAlive(owner.pid);
  } catch {
    return false; // being written or just removed: look again
  }
}

/** Worktree directories this runner makes: `<workDir>/ecv-job-XXXXXX/wt`, owner in `owner.json`. */
const PREFIX = 'ecv-job-';

export interface Worktrees {
  repo: string;
  gitDir: string;
  workDir: string;
}

/** Checks the repository and where worktrees go. Throws when `repo` is not a git repository. */
export async function openWorktrees(repo: string, workDir: string): Promise<Worktrees> {
  const abs = resolve(repo);
  const gitDir = await commonGitDir(abs).catch((e: Error) => {
    throw new Error(`--repo ${repo} is not a git repository (${e.message})`, { cause: e });
  });
  await mkdir(workDir, { recursive: true });
  return { repo: abs, gitDir, workDir: resolve(workDir) };
}

/** Resolves `ref`, fetching from the remotes once when asked to and the commit is not there yet. */
export async function findCommit(
  w: Worktrees,
  ref: string,
  fetchMissing: boolean,
): Promise<string | null> {
  const sha = await resolveCommit(w.repo, ref);
  if (sha || !fetchMissing || !REF.test(ref)) return sha;
  await withRepoLock(w.gitDir, () => git(w.repo, ['fetch', '--all', '--quiet']));
  return resolveCommit(w.repo, ref);
}

async function retry<T>(fn: () => Promise<T>, attempts: number): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= attempts) throw e;
      await sleep(200 * i);
    }
  }
}

/** A fresh detached worktree of `sha`; returns its path. */
export async function addWorktree(w: Worktrees, sha: string, jobId: string): Promise<string> {
  const dir = await mkdtemp(join(w.workDir, PREFIX));
  await writeFile(
    join(dir, 'owner.json'),
    JSON.stringify({ host: hostname(), pid: process.pid, job: jobId }),
  );
  const path = join(dir, 'wt');
  try {
    await retry(
      () =>
        withRepoLock(w.gitDir, async () => {
          await rm(path, { recursive: true, force: true });
          await git(w.repo, ['worktree', 'prune']);
          await git(w.repo, ['worktree', 'add', '--detach', path, sha]);
        }),
      3,
    );
  } catch (e) {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
  return path;
}

/** Removes a worktree made by addWorktree (`remove --force` + prune), and its directory, whatever state it is in. */
export async function removeWorktree(w: Worktrees, path: string): Promise<void> {
  try {
    await retry(
      () =>
        withRepoLock(w.gitDir, async () => {
          await git(w.repo, ['worktree', 'remove', '--force', '--force', path]).catch(
            () => undefined,
          );
          await rm(dirname(path), { recursive: true, force: true });
          await git(w.repo, ['worktree', 'prune']);
        }),
      3,
    );
  } finally {
    await rm(dirname(path), { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * Removes worktrees left by runners on this host that died mid-job (SIGKILL, power loss):
 * those under `workDir` whose owner process is gone. Returns their paths.
 */
export async function removeStaleWorktrees(w: Worktrees): Promise<string[]> {
  const listing = await git(w.repo, ['worktree', 'list', '--porcelain']);
  const stale: string[] = [];
  for (const line of listing.split('\n')) {
    if (!line.startsWith('worktree ')) continue;
    const path = line.slice('worktree '.length);
    const dir = dirname(path);
    if (basename(path) !== 'wt' || !basename(dir).startsWith(PREFIX) || dirname(dir) !== w.workDir)
      continue;
    try {
      const owner = JSON.parse(await readFile(join(dir, 'owner.json'), 'utf8')) as {
        host?: string;
        pid?: number;
      };
      if (owner.host === hostname() && typeof owner.pid === 'number' && !isAlive(owner.pid))
        stale.push(path);
    } catch {
      stale.push(path); // no owner file: its directory is already gone, or it never got one
    }
  }
  for (const path of stale) await removeWorktree(w, path);
  if (stale.length === 0) await withRepoLock(w.gitDir, () => git(w.repo, ['worktree', 'prune']));
  return stale;
}
