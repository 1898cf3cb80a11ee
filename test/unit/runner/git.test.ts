import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  addWorktree,
  openWorktrees,
  removeStaleWorktrees,
  removeWorktree,
  resolveCommit,
  withRepoLock,
  type Worktrees,
} from '../../../src/runner/git.js';

let root: string;
let repo: string;
const commits: string[] = [];
const git = (...args: string[]) =>
  execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();

/** A pid that surely is not running any more. */
const deadPid = () => spawnSync('true').pid!;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'ecv-git-test-'));
  repo = join(root, 'repo');
  execFileSync('git', ['init', '-q', repo]);
  git('config', 'user.email', 't@example.com');
  git('config', 'user.name', 'test');
  for (const level of ['1.00', '0.95']) {
    writeFileSync(join(repo, 'level.txt'), `${level}\n`);
    git('add', '.');
    git('commit', '-q', '-m', `level ${level}`);
    commits.push(git('rev-parse', 'HEAD'));
  }
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const open = (name: string) => openWorktrees(repo, join(root, name));
const worktreeCount = () =>
  git('worktree', 'list', '--porcelain')
    .split('\n')
    .filter((l) => l.startsWith('worktree ')).length;

describe('resolveCommit', () => {
  it('resolves full and short hashes to the full hash', async () => {
    expect(await resolveCommit(repo, commits[0])).toBe(commits[0]);
    expect(await resolveCommit(repo, commits[1].slice(0, 7))).toBe(commits[1]);
    expect(await resolveCommit(repo, 'HEAD')).toBe(commits[1]);
  });
  it('answers null for unknown commits and input that is not a reference', async () => {
    expect(await resolveCommit(repo, 'deadbeef')).toBeNull();
    expect(await resolveCommit(repo, 'baseline')).toBeNull();
    expect(await resolveCommit(repo, '--all')).toBeNull();
    expect(await resolveCommit(repo, 'a b')).toBeNull();
    expect(await resolveCommit(repo, '')).toBeNull();
  });
});

describe('worktrees', () => {
  it('refuses a directory that is not a git repository', async () => {
    await expect(openWorktrees(root, join(root, 'w0'))).rejects.toThrow(/not a git repository/);
  });

  it('checks out each commit in a fresh worktree and removes it completely', async () => {
    const w = await open('w1');
    const a = await addWorktree(w, commits[0], 'job-a');
    const b = await addWorktree(w, commits[1], 'job-b');
    expect(readFileSync(join(a, 'level.txt'), 'utf8')).toBe('1.00\n');
    expect(readFileSync(join(b, 'level.txt'), 'utf8')).toBe('0.95\n');
    writeFileSync(join(a, 'level.txt'), 'dirty'); // a job may leave its worktree dirty
    writeFileSync(join(a, 'untracked.bin'), 'x');
    await removeWorktree(w, a);
    await removeWorktree(w, b);
    expect(existsSync(dirname(a))).toBe(false);
    expect(existsSync(dirname(b))).toBe(false);
    expect(worktreeCount()).toBe(1);
  });

  it('is safe with several runners adding and removing at once on one repository', async () => {
    const runners: Worktrees[] = await Promise.all([open('wa'), open('wb'), open('wc')]);
    const paths = await Promise.all(
      Array.from({ length: 12 }, (_, i) => addWorktree(runners[i % 3], commits[i % 2], `job-${i}`)),
    );
    expect(new Set(paths).size).toBe(12);
    paths.forEach((p, i) =>
      expect(readFileSync(join(p, 'level.txt'), 'utf8')).toBe(i % 2 ? '0.95\n' : '1.00\n'),
    );
    expect(worktreeCount()).toBe(13);
    await Promise.all(paths.map((p, i) => removeWorktree(runners[i % 3], p)));
    expect(worktreeCount()).toBe(1);
    expect(existsSync(join(runners[0].gitDir, 'ecv-runner.lock'))).toBe(false);
  });

  it('removes worktrees left by a runner that died, and keeps live ones', async () => {
    const w = await open('w2');
    const dead = await addWorktree(w, commits[0], 'job-dead');
    const live = await addWorktree(w, commits[1], 'job-live');
    writeFileSync(
      join(dirname(dead), 'owner.json'),
      JSON.stringify({ host: hostname(), pid: deadPid(), job: 'job-dead' }),
    );
    expect(await removeStaleWorktrees(w)).toEqual([dead]);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    await removeWorktree(w, live);
    expect(worktreeCount()).toBe(1);
  });
});

describe('withRepoLock', () => {
  it('serializes critical sections', async () => {
    const w = await open('w3');
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 6 }, () =>
        withRepoLock(w.gitDir, async () => {
          most = Math.max(most, ++inside);
          await new Promise((r) => setTimeout(r, 20));
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
  });

  it('takes over a lock whose owner on this host is gone', async () => {
    const w = await open('w4');
    writeFileSync(
      join(w.gitDir, 'ecv-runner.lock'),
      JSON.stringify({ host: hostname(), pid: deadPid() }),
    );
    expect(await withRepoLock(w.gitDir, async () => 'ran', 2000)).toBe('ran');
  });

  it('waits for a live holder, then gives up at its deadline', async () => {
    const w = await open('w5');
    writeFileSync(
      join(w.gitDir, 'ecv-runner.lock'),
      JSON.stringify({ host: hostname(), pid: process.pid }),
    );
    await expect(withRepoLock(w.gitDir, async () => 'ran', 300)).rejects.toThrow(/timed out/);
    rmSync(join(w.gitDir, 'ecv-runner.lock'));
  });
});
