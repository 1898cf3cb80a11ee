import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../../../src/domain/errors.js';
import {
  attachGitLineage,
  gitLogArgs,
  parseGitLog,
  parseResultsTsv,
  type GitCommit,
  type ParsedRow,
} from '../../../src/domain/ingest/index.js';

const hasGit = (() => {
  try {
    execFileSync('git', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/**
 * A branch `exp`: base → A → R (a discard committed on the branch) → B → C, plus a side
 * branch S off B that is not part of `exp`.
 */
describe.skipIf(!hasGit)('git lineage from a real repository', () => {
  let dir = '';
  const sha: Record<string, string> = {};
  let log = '';
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: dir,
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 't',
        GIT_AUTHOR_EMAIL: 't@example.com',
        GIT_COMMITTER_NAME: 't',
        GIT_COMMITTER_EMAIL: 't@example.com',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
      },
    });
  const commit = (name: string, files: Record<string, string | Uint8Array>) => {
    for (const [path, content] of Object.entries(files)) writeFileSync(join(dir, path), content);
    git('add', '-A');
    git('-c', 'commit.gpgsign=false', 'commit', '-q', '-m', `${name}: change`);
    sha[name] = git('rev-parse', 'HEAD').trim();
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ecv-git-'));
    git('init', '-q', '-b', 'exp');
    commit('base', { 'train.py': 'lr = 1\n', 'README.md': 'x\n' });
    commit('A', { 'train.py': 'lr = 2\nwd = 0\n' });
    commit('R', { 'train.py': 'lr = 3\nwd = 0\n' });
    commit('B', {
      'train.py': 'lr = 2\nwd = 1\n',
      'weights.bin': new Uint8Array([0, 1, 2, 0, 255]),
      'tab\there é.txt': 'q\n',
    });
    git('checkout', '-q', '-b', 'side');
    commit('S', { 'side.py': 'y\n' });
    git('checkout', '-q', 'exp');
    commit('C', { 'train.py': 'lr = 2\nwd = 2\n' });
    log = git(...gitLogArgs('exp'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('parses the documented git log command', () => {
    const commits = parseGitLog(log);
    expect(commits.map((c) => c.hash)).toEqual([sha.base, sha.A, sha.R, sha.B, sha.C]);
    expect(commits[0].parents).toEqual([]);
    expect(commits[1]).toMatchObject({
      parents: [sha.base],
      subject: 'A: change',
      paths: [{ path: 'train.py', added: 2, removed: 1 }],
    });
    const b = commits[3];
    expect(b.paths).toContainEqual({ path: 'weights.bin', added: 0, removed: 0, binary: true });
    expect(b.paths).toContainEqual({ path: 'tab\there é.txt', added: 1, removed: 0 });
  });

  it('takes kept rows’ premises from the graph and attaches changed paths', () => {
    const s = (k: string) => sha[k].slice(0, 7);
    const parsed = parseResultsTsv(
      [
        'commit\tval_bpb\tmemory_gb\tstatus\tdescription',
        'baseline\t1.00\t1\tkeep\tbase',
        `${s('A')}\t0.98\t1\tkeep\tA`,
        `${s('R')}\t0.99\t1\tdiscard\tR (committed, later undone)`,
        'deadbee\t0.99\t1\tdiscard\tnever committed',
        `${s('B')}-dirty\t0.97\t1\tkeep\tB`,
        `${s('S')}\t0.96\t1\tkeep\tS on a side branch`,
        `${sha.C}\t0.95\t1\tkeep\tC (full hash)`,
      ].join('\n'),
    );
    const { rows, warnings } = attachGitLineage(parsed.rows, parseGitLog(log));
    const byDesc = (d: string) => rows.find((r) => r.description?.startsWith(d)) as ParsedRow;
    expect(byDesc('base').premises).toEqual([]);
    // A's graph ancestors carry no kept row: it keeps its keep-chain premise on the unmatched baseline.
    expect(byDesc('A').premises).toEqual(['baseline']);
    // R stayed on the branch (no reset), so B is built on R's code: R is B's premise even though
    // it was discarded — the cascade then hard-gates B (contamination).
    expect(byDesc('B')).toMatchObject({ premises: [s('R')], baseline: 0.99 });
    expect(byDesc('B').code?.paths).toContainEqual({ path: 'weights.bin', added: 0, removed: 0 });
    expect(byDesc('B').metadata).toMatchObject({
      git: { commit: sha.B, binaryPaths: ['weights.bin'] },
      premiseSource: 'git',
    });
    // S is not on the branch: keep chain, with a warning.
    expect(byDesc('S').premises).toEqual([`${s('B')}-dirty`]);
    expect(warnings).toContainEqual(expect.objectContaining({ line: 7, code: 'commit_not_found' }));
    // The keep chain would say S; the graph says B.
    expect(byDesc('C')).toMatchObject({
      premises: [`${s('B')}-dirty`],
      baseline: 0.97,
      code: { paths: [{ path: 'train.py', added: 1, removed: 1 }] },
    });
    // Discards keep their keep-chain premises; unmatched rows get nothing from git.
    expect(byDesc('R')).toMatchObject({ premises: [s('A')], metadata: { git: { commit: sha.R } } });
    expect(byDesc('never').metadata?.git).toBeUndefined();
    // The input is not mutated.
    expect(parsed.rows.find((r) => r.description === 'C (full hash)')?.premises).toEqual([
      byDesc('S').key,
    ]);
  });
});

const H = (c: string) => c.repeat(40);

describe('parseGitLog', () => {
  it('reads records, merges without numstat, renames and quoted paths', () => {
    const text = [
      `\x1e${H('a')}\x1f\x1finit`,
      '',
      '3\t0\tREADME.md',
      `\x1e${H('b')}\x1f${H('a')}\x1fmove {old => new}`,
      '',
      '1\t1\tsrc/{old => new}/f.py',
      '0\t0\ta.txt => b.txt',
      '2\t0\t"dir/\\303\\251t\\303\\251.txt"',
      `\x1e${H('c')}\x1f${H('a')} ${H('b')}\x1fMerge branch`,
      '',
    ].join('\n');
    expect(parseGitLog(text)).toEqual([
      {
        hash: H('a'),
        parents: [],
        subject: 'init',
        paths: [{ path: 'README.md', added: 3, removed: 0 }],
      },
      {
        hash: H('b'),
        parents: [H('a')],
        subject: 'move {old => new}',
        paths: [
          { path: 'src/new/f.py', added: 1, removed: 1 },
          { path: 'b.txt', added: 0, removed: 0 },
          { path: 'dir/été.txt', added: 2, removed: 0 },
        ],
      },
      { hash: H('c'), parents: [H('a'), H('b')], subject: 'Merge branch', paths: [] },
    ]);
    expect(parseGitLog('')).toEqual([]);
  });

  it('rejects output that is not in the documented format, with line numbers', () => {
    const err = (() => {
      try {
        parseGitLog(`\x1e${H('a')}\x1f\x1fok\n\nnot numstat\n\x1ezzz\x1f\x1fbad`);
      } catch (e) {
        return e as DomainError;
      }
    })();
    expect(err).toBeInstanceOf(DomainError);
    expect(err?.errors?.map((e) => e.line)).toEqual([3, 4]);
  });

  it('refuses branch names git could read as options', () => {
    expect(gitLogArgs('autoresearch/mar8')).toContain('autoresearch/mar8');
    expect(() => gitLogArgs('--output=/tmp/x')).toThrow(DomainError);
    expect(() => gitLogArgs('')).toThrow(DomainError);
  });
});

describe('attachGitLineage on a synthetic graph', () => {
  const commitOf = (hash: string, parents: string[]): GitCommit => ({
    hash,
    parents,
    subject: hash[0],
    paths: [],
  });
  const row = (
    key: string,
    status: ParsedRow['status'],
    seq: number,
    premises: string[] = [],
  ): ParsedRow => ({
    key,
    status,
    value: seq,
    premises,
    line: seq + 2,
    seq,
  });

  it('takes every nearest kept ancestor of a merge, pruning ancestors of others', () => {
    const [r, a, b, m, n] = ['1', '2', '3', '4', '5'].map(H);
    const commits = [
      commitOf(r, []),
      commitOf(a, [r]),
      commitOf(b, [r]),
      commitOf(m, [a, b]),
      commitOf(n, [m, a]),
    ];
    const rows = [
      row(r.slice(0, 7), 'keep', 0),
      row(a.slice(0, 7), 'keep', 1),
      row(b.slice(0, 7), 'keep', 2),
      row(m.slice(0, 8), 'keep', 3),
      row(n, 'keep', 4),
    ];
    const out = attachGitLineage(rows, commits).rows;
    expect(out.map((x) => x.premises)).toEqual([
      [],
      [r.slice(0, 7)],
      [r.slice(0, 7)],
      [a.slice(0, 7), b.slice(0, 7)],
      [m.slice(0, 8)],
    ]);
    expect(out[3].code).toBeUndefined(); // a merge has no single diff
  });

  it('leaves rows sharing one commit on the keep chain and reports ambiguous prefixes', () => {
    const x = H('a');
    const y = 'abcdef1' + '0'.repeat(33);
    const z = 'abcdef1' + '1'.repeat(33);
    const rows = [
      row('aaaaaaa', 'keep', 0),
      row('aaaaaaa~2', 'keep', 1, ['aaaaaaa']),
      row('abcdef1', 'keep', 2, ['aaaaaaa~2']),
    ];
    rows[1].metadata = { commit: 'aaaaaaa' };
    const { rows: out, warnings } = attachGitLineage(rows, [
      commitOf(x, []),
      commitOf(y, [x]),
      commitOf(z, [x]),
    ]);
    expect(out.map((o) => o.premises)).toEqual([[], ['aaaaaaa'], ['aaaaaaa~2']]);
    expect(out[1].code).toBeUndefined();
    expect(warnings.map((w) => w.code)).toEqual(['shared_commit', 'ambiguous_commit']);
  });
});
