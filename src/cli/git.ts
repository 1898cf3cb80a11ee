import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DomainError } from '../domain/errors.js';
import { gitLogArgs, parseGitLog, type GitCommit } from '../domain/ingest/index.js';

const run = promisify(execFile);

/** Runs git in a repository; a failure becomes a clear DomainError. */
export async function git(repo: string, args: string[], maxBuffer = 256 * 1024 * 1024): Promise<string> {
  try {
    const { stdout } = await run('git', ['-C', repo, ...args], { maxBuffer, encoding: 'utf8' });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new DomainError('validation_failed', `git ${args[0]} failed in ${repo}: ${(err.stderr || err.message).trim().split('\n')[0]}`);
  }
}

export async function repoRoot(dir: string): Promise<string> {
  return (await git(dir, ['rev-parse', '--show-toplevel'])).trim();
}

/** The branch's commits, oldest first, with numstat paths. */
export async function readGitLog(repo: string, branch = 'HEAD'): Promise<GitCommit[]> {
  return parseGitLog(await git(repo, gitLogArgs(branch)));
}

const cut = (text: string, maxBytes: number) => (text.length > maxBytes ? `${text.slice(0, maxBytes)}\n… diff truncated at ${maxBytes} bytes` : text);

/** Commits per `git show` call of {@link commitDiffs} (the argument list stays far below ARG_MAX). */
const DIFFS_PER_CALL = 200;
/** A record header of `--format=%x1e%H`, at a line start. */
// eslint-disable-next-line no-control-regex -- the record separator is what --format=%x1e writes
const RECORD = /(?<=^|\n)\x1e([0-9a-f]{40})\n/g;

/**
 * The unified diffs of many commits against their first parents, cut at maxBytes: exactly what
 * `git show --format= --patch <hash>` prints for each, with one `git show` per 200 commits
 * instead of one per commit (a process start is ~8 ms: 15,000 kept commits
 * took two minutes). Each commit's output starts with a record separator and its full hash,
 * then a blank line; `hashes` are full 40-digit hashes. `onProgress` gets the count done.
 */
export async function commitDiffs(repo: string, hashes: string[], maxBytes = 200_000, onProgress?: (done: number) => void): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < hashes.length; i += DIFFS_PER_CALL) {
    const chunk = [...new Set(hashes.slice(i, i + DIFFS_PER_CALL))];
    const text = await git(repo, ['show', '--format=%x1e%H', '--no-color', '--no-renames', '--patch', ...chunk]);
    const wanted = new Set(chunk.map((h) => h.toLowerCase()));
    // Record starts: a line of a separator and a requested hash (a patch line never starts with a separator).
    const starts = [...text.matchAll(RECORD)].filter((m) => wanted.has(m[1]));
    starts.forEach((m, j) => {
      const from = m.index + m[0].length;
      const body = text.slice(from, j + 1 < starts.length ? starts[j + 1].index : text.length);
      // git puts one blank line between the header and a non-empty patch.
      out.set(m[1], cut(body.startsWith('\n') ? body.slice(1) : body, maxBytes));
    });
    for (const h of chunk) if (!out.has(h.toLowerCase())) out.set(h.toLowerCase(), '');
    onProgress?.(Math.min(i + DIFFS_PER_CALL, hashes.length));
  }
  return out;
}
