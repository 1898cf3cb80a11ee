/*
 * Baseline only: ECV's first gate design (v1), copied verbatim from our own code at git commit
 * 3b67ef4 (src/domain/scoring/glob.ts) so the obey-mode bench can run the previous design as a policy
 * in process after the service moved to gate v2. Not used by the service; do not edit except
 * to keep it compiling.
 */
/**
 * A small gitignore-flavoured glob matcher for protected paths.
 *
 * - `*` matches any run of characters except `/`; `?` one character except `/`;
 *   `**` as a whole segment matches zero or more segments (`a/**`, `**\/b`, `a/**\/b`).
 *   Every other character is literal (no `[...]` classes, no braces).
 * - A glob without `/` (`prepare.py`, `*.lock`) matches that name at any depth.
 *   A glob with a `/` (`eval/**`, `src/bench.py`), or one starting with `/`, is anchored
 *   at the repository root.
 * - A glob that matches a directory matches everything below it (`eval` and `eval/`
 *   protect `eval/metric.py`), so a protection cannot be side-stepped by going one level
 *   deeper.
 * Paths are normalized first: `\` → `/`, leading `./` and `/` dropped, `a/./b` → `a/b`.
 * Matching is case-sensitive.
 */

const regexCache = new Map<string, RegExp>();

function escapeRegex(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

/** Normalize a repository path for matching. */
export function normalizePath(p: string): string {
  const segs = p
    .replace(/\\/g, '/')
    .split('/')
    .filter((s) => s !== '' && s !== '.');
  return segs.join('/');
}

/** Regex for a sequence of glob segments, matched against a whole path. */
function segmentsToRegex(segs: readonly string[]): string {
  let out = '';
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    const last = i === segs.length - 1;
    if (seg === '**') {
      // zero or more whole segments, including their trailing slash
      out += last ? '.*' : '(?:[^/]+/)*';
      continue;
    }
    for (let j = 0; j < seg.length; j++) {
      const c = seg[j];
      if (c === '*') {
        while (seg[j + 1] === '*') j++;
        out += '[^/]*';
      } else if (c === '?') out += '[^/]';
      else out += escapeRegex(c);
    }
    if (!last) out += '/';
  }
  return out;
}

function compile(glob: string): RegExp {
  const cached = regexCache.get(glob);
  if (cached) return cached;
  const trimmed = glob.trim().replace(/\\/g, '/');
  const anchored = trimmed.startsWith('/') || normalizePath(trimmed).includes('/');
  const segs = normalizePath(trimmed).split('/');
  // Unanchored: any number of leading directories. Either way, anything below a match.
  const body = segmentsToRegex(segs);
  const re = new RegExp(`^${anchored ? '' : '(?:[^/]+/)*'}${body}(?:/.*)?$`);
  if (regexCache.size >= 1024) regexCache.clear(); // bounded: projects hold a few globs
  regexCache.set(glob, re);
  return re;
}

/** Whether a changed path matches a protected-path glob (rules above). */
export function matchesGlob(path: string, glob: string): boolean {
  const p = normalizePath(path);
  if (p === '' || normalizePath(glob) === '') return false;
  return compile(glob).test(p);
}
