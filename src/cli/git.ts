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

/** Unified diff of one commit against its first parent, cut at maxBytes. */
export async function commitDiff(repo: string, hash: string, maxBytes = 200_000): Promise<string> {
  const text = await git(repo, ['show', '--format=', '--no-color', '--no-renames', '--patch', hash]);
  return text.length > maxBytes ? `${text.slice(0, maxBytes)}\n… diff truncated at ${maxBytes} bytes` : text;
}
