import { DomainError, type ErrorDetail } from '../errors.js';
import type { ChangedPath } from '../types.js';

/** A changed path from `--numstat`; binary files (`-\t-`) count 0 lines and are flagged. */
export interface GitChangedPath extends ChangedPath {
  binary?: true;
}

export interface GitCommit {
  /** Full hash, lower-case. */
  hash: string;
  parents: string[];
  subject: string;
  paths: GitChangedPath[];
}

/** `--format` of {@link gitLogArgs}: record separator, then hash, parents, subject split by unit separators. */
export const GIT_LOG_FORMAT = '%x1e%H%x1f%P%x1f%s';

/**
 * Arguments for the git call whose output {@link parseGitLog} reads, oldest commit first:
 *
 * `git -c core.quotePath=false log --reverse --topo-order --no-renames --no-color
 *   --format=%x1e%H%x1f%P%x1f%s --numstat <branch> --`
 *
 * Run it with execFile (no shell) in the repository. `--no-renames` reports a rename as
 * delete + add so every path is a plain path; `core.quotePath=false` keeps non-ASCII
 * paths readable (paths with TAB, newline or quotes still come C-quoted and are decoded).
 * @throws DomainError `validation_failed` for a branch name git could read as an option.
 */
export function gitLogArgs(branch: string): string[] {
  if (branch === '' || branch.startsWith('-') || /[\s\0]/.test(branch)) {
    throw new DomainError('validation_failed', `invalid branch name '${branch}'`, {
      errors: [
        { pointer: 'branch', message: 'must not be empty, start with - or contain whitespace' },
      ],
    });
  }
  return [
    '-c',
    'core.quotePath=false',
    'log',
    '--reverse',
    '--topo-order',
    '--no-renames',
    '--no-color',
    `--format=${GIT_LOG_FORMAT}`,
    '--numstat',
    branch,
    '--',
  ];
}

const HASH = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;
const NUMSTAT = /^(\d+|-)\t(\d+|-)\t(.*)$/;

/** Decodes a C-quoted git path (`"dir/\303\251t\303\251.txt"`). */
function unquoteGitPath(p: string): string {
  if (!(p.length >= 2 && p.startsWith('"') && p.endsWith('"'))) return p;
  const bytes: number[] = [];
  const esc: Record<string, number> = {
    n: 10,
    t: 9,
    r: 13,
    b: 8,
    f: 12,
    v: 11,
    a: 7,
    '"': 34,
    '\\': 92,
  };
  const body = p.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch !== '\\') {
      bytes.push(...new TextEncoder().encode(ch));
      continue;
    }
    const next = body[i + 1] ?? '';
    if (/[0-7]/.test(next)) {
      const oct = /^[0-7]{1,3}/.exec(body.slice(i + 1))?.[0] ?? '0';
      bytes.push(parseInt(oct, 8) & 0xff);
      i += oct.length;
    } else {
      bytes.push(esc[next] ?? next.charCodeAt(0));
      i++;
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** The new side of a rename in numstat form (`a => b`, `dir/{a => b}/f`), when renames were not turned off. */
function renamedPath(p: string): string {
  const braced = /^(.*)\{(.*) => (.*)\}(.*)$/.exec(p);
  if (braced) return (braced[1] + braced[3] + braced[4]).replace(/\/\//g, '/');
  const plain = /^(.*) => (.*)$/.exec(p);
  return plain ? plain[2] : p;
}

/**
 * Parses the output of the command in {@link gitLogArgs}: one record per commit, in the
 * order git printed them, each with its numstat paths.
 * @throws DomainError `validation_failed` listing every line that is not part of that format.
 */
export function parseGitLog(text: string): GitCommit[] {
  const commits: GitCommit[] = [];
  const errors: ErrorDetail[] = [];
  let current: GitCommit | undefined;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    const records = raw.split('\x1e');
    records.forEach((part, r) => {
      if (r > 0) {
        const [hash = '', parents = '', ...subject] = part.split('\x1f');
        if (!HASH.test(hash)) {
          errors.push({
            line,
            pointer: `line ${line}`,
            message: `'${hash.slice(0, 80)}' is not a commit hash`,
          });
          current = undefined;
          return;
        }
        current = {
          hash,
          parents: parents.split(' ').filter(Boolean),
          subject: subject.join('\x1f'),
          paths: [],
        };
        commits.push(current);
        return;
      }
      if (part.trim() === '') return;
      const m = NUMSTAT.exec(part);
      if (!m || current === undefined) {
        errors.push({
          line,
          pointer: `line ${line}`,
          message: `unexpected line '${part.slice(0, 80)}'`,
        });
        return;
      }
      const binary = m[1] === '-' || m[2] === '-';
      const path: GitChangedPath = {
        path: renamedPath(unquoteGitPath(m[3])),
        added: m[1] === '-' ? 0 : Number(m[1]),
        removed: m[2] === '-' ? 0 : Number(m[2]),
      };
      if (binary) path.binary = true;
      current.paths.push(path);
    });
  });
  if (errors.length > 0)
    throw new DomainError('validation_failed', 'unreadable git log output', { errors });
  return commits;
}
