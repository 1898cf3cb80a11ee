import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commitDiffs } from '../../src/cli/git.js';

const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.invalid' };
const dir = mkdtempSync(join(tmpdir(), 'ecv-git-diffs-'));
const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { env, encoding: 'utf8' });

describe('commitDiffs (issue 19: one git call per 200 commits)', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives every commit exactly the diff `git show --format= --patch` prints for it alone', async () => {
    git('init', '-q', '-b', 'main');
    writeFileSync(join(dir, 'train.py'), 'lr = 1\n');
    writeFileSync(join(dir, 'blob.bin'), Buffer.from([0, 1, 2, 3]));
    git('add', '.');
    git('commit', '-q', '-m', 'root');
    // Text that looks like the record separator and a hash, inside a patch; an empty commit; binary; a deletion.
    const root = git('rev-parse', 'HEAD').trim();
    writeFileSync(join(dir, 'notes.txt'), `\x1e${root}\n\x1e${root}\nplain\n`);
    git('add', '.');
    git('commit', '-q', '-m', 'notes');
    git('commit', '-q', '--allow-empty', '-m', 'empty');
    writeFileSync(join(dir, 'blob.bin'), Buffer.from([0, 9, 9]));
    git('rm', '-q', 'notes.txt');
    git('commit', '-q', '-a', '-m', 'binary and deletion');
    for (let i = 0; i < 205; i++) {
      writeFileSync(join(dir, 'train.py'), `lr = ${i}\n${'x\n'.repeat(i % 7)}`);
      git('commit', '-q', '-a', '-m', `step ${i}`);
    }
    const hashes = git('rev-list', '--reverse', 'HEAD').trim().split('\n');
    let progress = 0;
    const diffs = await commitDiffs(dir, hashes, 200_000, (done) => (progress = done));
    expect(progress).toBe(hashes.length);
    expect(diffs.size).toBe(hashes.length);
    for (const h of hashes) expect(diffs.get(h), h).toBe(git('show', '--format=', '--no-color', '--no-renames', '--patch', h));
    expect(diffs.get(hashes[1])).toContain(`+\x1e${root}`);
    expect(diffs.get(hashes[2])).toBe('');
  });

  it('cuts a diff longer than maxBytes and says so', async () => {
    const head = git('rev-parse', 'HEAD').trim();
    const d = (await commitDiffs(dir, [head], 40)).get(head)!;
    expect(d).toBe(`${git('show', '--format=', '--no-color', '--no-renames', '--patch', head).slice(0, 40)}\n… diff truncated at 40 bytes`);
  });
});
