import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temp git repository holding an autoresearch loop's branch, and its results.tsv. */
export interface LoopRepo {
  dir: string;
  /** results.tsv text: one row per experiment, kept rows naming their commit on the branch. */
  tsv: string;
  /** Commits on the branch (one per kept row). */
  commits: number;
  /** Appends one kept experiment: a commit on the branch and its row; returns the new results.tsv text. */
  appendKeep(value: number): string;
  remove(): void;
}

const HEADER = 'commit\tval_bpb\tmemory_gb\tstatus\tdescription';
const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@example.invalid',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@example.invalid',
};
const git = (dir: string, args: string[], input?: string) =>
  execFileSync('git', ['-C', dir, ...args], { env: gitEnv, encoding: 'utf8', maxBuffer: 1 << 30, ...(input !== undefined ? { input } : {}) });

/**
 * Builds the repository an `ecv ingest --git` reads, as a loop leaves it: each kept row is a
 * commit on `main` (one line of train.py changed), discarded and crashed rows name commits that
 * were reset away (not on the branch). One `git fast-import` writes every commit.
 * `rows` are (status, value) in loop order, as bench/lib/projects.ts generates them.
 */
export function loopRepo(rows: { status: string; value: number | null }[]): LoopRepo {
  const dir = mkdtempSync(join(tmpdir(), 'ecv-bench-git-'));
  git(dir, ['init', '-q', '-b', 'main']);
  const stream: string[] = [];
  let mark = 0;
  const t0 = 1_700_000_000;
  const commitOf = new Map<number, number>();
  rows.forEach((r, i) => {
    if (r.status !== 'keep' && i !== 0) return;
    mark++;
    commitOf.set(i, mark);
    const content = `# train.py\nlr = ${(0.001 + i * 1e-7).toFixed(7)}\nstep = ${i}\n`;
    const msg = `experiment ${i}`;
    stream.push(
      `commit refs/heads/main\nmark :${mark}\ncommitter bench <bench@example.invalid> ${t0 + i} +0000\ndata ${Buffer.byteLength(msg)}\n${msg}\n`,
      ...(mark > 1 ? [`from :${mark - 1}\n`] : []),
      `M 100644 inline train.py\ndata ${Buffer.byteLength(content)}\n${content}\n`,
    );
  });
  const marks = join(dir, '.git', 'bench-marks');
  git(dir, ['fast-import', '--quiet', `--export-marks=${marks}`], stream.join(''));
  const hashOf = new Map(
    readFileSync(marks, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' ') as [string, string])
      .map(([m, h]) => [Number(m.slice(1)), h]),
  );
  git(dir, ['reset', '-q', '--hard', 'main']);
  const lines = [HEADER];
  const row = (commit: string, value: number | null, status: string, i: number) =>
    `${commit}\t${value === null ? '0.000000' : value.toFixed(6)}\t${value === null ? '0.0' : '60.2'}\t${status}\t${i === 0 ? 'baseline' : `experiment ${i}`}`;
  rows.forEach((r, i) => {
    const m = commitOf.get(i);
    // Reset-away commits: hashes no commit of the branch has.
    const commit = m ? hashOf.get(m)!.slice(0, 7) : (0xf000000 + i * 2654435761).toString(16).slice(-7);
    lines.push(row(commit, r.value, r.status, i));
  });
  let n = rows.length;
  let head = mark;
  const repo: LoopRepo = {
    dir,
    tsv: `${lines.join('\n')}\n`,
    commits: mark,
    appendKeep(value: number) {
      const i = n++;
      writeFileSync(join(dir, 'train.py'), `# train.py\nlr = ${(0.001 + i * 1e-7).toFixed(7)}\nstep = ${i}\n`);
      git(dir, ['commit', '-q', '-a', '-m', `experiment ${i}`]);
      head++;
      repo.commits = head;
      const hash = git(dir, ['rev-parse', '--short=7', 'HEAD']).trim();
      lines.push(row(hash, value, 'keep', i));
      repo.tsv = `${lines.join('\n')}\n`;
      return repo.tsv;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  return repo;
}
