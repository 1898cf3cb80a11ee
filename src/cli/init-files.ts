import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';

/** Closes the paragraph `ecv init` writes, so that a re-run can replace it (project or metric changed). */
export const PROGRAM_END = '<!-- /ecv:gate -->';

/**
 * Puts `paragraph` (which starts with a newline and `marker`) into dir/program.md: appended when
 * absent, replaced when an earlier `ecv init` wrote a different one. Returns what it did.
 */
export function syncProgramMd(dir: string, marker: string, paragraph: string): string {
  const path = join(dir, 'program.md');
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const block = `${paragraph.slice(paragraph.indexOf(marker))}${PROGRAM_END}\n`;
  const start = current.indexOf(marker);
  if (start < 0) {
    appendFileSync(path, `${current && !current.endsWith('\n') ? '\n' : ''}${paragraph.slice(0, paragraph.indexOf(marker))}${block}`);
    return `added the ECV gate paragraph to ${path}`;
  }
  const end = current.indexOf(PROGRAM_END, start);
  if (end < 0) {
    // Written before the end marker existed: replaceable only when it is exactly the paragraph.
    const rest = current.slice(start);
    if (!rest.startsWith(block.slice(0, -PROGRAM_END.length - 1))) return `program.md has an ECV paragraph without ${PROGRAM_END}: check by hand that it names this project`;
    writeFileSync(path, `${current.slice(0, start)}${block}${rest.slice(block.length - PROGRAM_END.length - 1)}`);
    return 'program.md already has the ECV paragraph';
  }
  let tail = current.slice(end + PROGRAM_END.length);
  if (tail.startsWith('\n')) tail = tail.slice(1);
  const old = current.slice(start, end + PROGRAM_END.length + 1);
  if (old === block) return 'program.md already has the ECV paragraph';
  writeFileSync(path, `${current.slice(0, start)}${block}${tail}`);
  return `updated the ECV gate paragraph in ${path} to match ecv.json`;
}

function gitStatus(dir: string, args: string[]): { code: number; out: string } {
  try {
    return { code: 0, out: execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }) };
  } catch (e) {
    return { code: (e as { status?: number }).status ?? 1, out: '' };
  }
}

/**
 * An embedded database inside the experiment repository must never be committed (a loop's
 * `git add -A` would commit it, `git clean` would wipe it): adds it to dir/.gitignore unless
 * git already ignores it. Returns what it did, or null when the directory is outside.
 */
export function ignoreDataDir(dir: string, dataDir: string): string | null {
  const rel = relative(dir, dataDir);
  if (dataDir === 'memory://' || rel === '' || rel.startsWith('..') || isAbsolute(rel)) return null;
  const inRepo = gitStatus(dir, ['rev-parse', '--git-dir']).code === 0;
  if (inRepo && gitStatus(dir, ['check-ignore', '-q', rel]).code === 0) return null;
  const gitignore = join(dir, '.gitignore');
  const entry = `/${rel.split('\\').join('/')}/`;
  const current = existsSync(gitignore) ? readFileSync(gitignore, 'utf8') : '';
  if (current.split('\n').includes(entry)) return null;
  appendFileSync(gitignore, `${current && !current.endsWith('\n') ? '\n' : ''}# ECV's embedded database (ecv init)\n${entry}\n`);
  return `added ${entry} (the embedded database) to ${gitignore}`;
}

/** Files of `files` that git does not have committed as they are (all of them outside a repository). */
export function uncommitted(dir: string, files: string[]): string[] {
  const present = files.filter((f) => existsSync(join(dir, f)));
  const st = gitStatus(dir, ['status', '--porcelain', '--', ...present]);
  if (st.code !== 0) return present;
  const dirty = st.out.split('\n').filter(Boolean).map((l) => l.slice(3));
  return present.filter((f) => dirty.some((d) => d === f || d.endsWith(`/${f}`)));
}
