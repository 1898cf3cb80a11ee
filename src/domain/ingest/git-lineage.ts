import type { GitCommit } from './git-log.js';
import type { IngestWarning, ParsedRow } from './results-tsv.js';
import { hexPrefix } from './values.js';

/** The commit cell of a parsed row: `metadata.commit` when the key was changed, else the key. */
const commitCell = (row: ParsedRow): string =>
  typeof row.metadata?.commit === 'string' ? row.metadata.commit : row.key;

/**
 * Takes premises and changed paths from the branch's commit graph (SPEC §7 git lineage).
 *
 * A row matches a commit when its commit cell starts with ≥ 7 hex digits that prefix
 * exactly one commit hash (`abc1234-dirty` matches `abc1234…`). For a matched keep row
 * whose commit no other row shares, the premises become the nearest ancestors in the
 * graph that carry an earlier row of known status — keep, discard or crash, since a commit left
 * on the branch is in the head's code — (walking past commits that carry none, and pruning any that is an ancestor of another); when the
 * graph offers none, only keep-chain premises on rows the graph knows nothing about
 * (unmatched rows such as `baseline`) are kept. Matched rows get `metadata.git.commit`
 * (full hash) and, for single-parent commits not shared by other rows, `code.paths`
 * from numstat (binary files in `metadata.git.binaryPaths`). Rows sharing one commit (a
 * code version, not an experiment) and unmatched rows keep their keep-chain premises;
 * baselines follow the premises. Diff text is for the caller to add. Input is not mutated.
 */
export function attachGitLineage(
  rows: ParsedRow[],
  commits: GitCommit[],
): { rows: ParsedRow[]; warnings: IngestWarning[] } {
  const warnings: IngestWarning[] = [];
  const byHash = new Map(commits.map((c) => [c.hash.toLowerCase(), c]));
  const byPrefix = new Map<string, GitCommit[]>();
  for (const c of byHash.values()) {
    const p = c.hash.slice(0, 7).toLowerCase();
    const bucket = byPrefix.get(p) ?? [];
    bucket.push(c);
    byPrefix.set(p, bucket);
  }

  const matched: Array<GitCommit | undefined> = rows.map((row) => {
    const hex = hexPrefix(commitCell(row));
    if (hex === undefined) return undefined;
    const hits = (byPrefix.get(hex.slice(0, 7)) ?? []).filter((c) =>
      c.hash.toLowerCase().startsWith(hex),
    );
    if (hits.length > 1) {
      warnings.push({
        line: row.line,
        code: 'ambiguous_commit',
        message: `'${hex}' matches ${hits.length} commits; not matched`,
      });
    } else if (hits.length === 0 && row.status === 'keep') {
      warnings.push({
        line: row.line,
        code: 'commit_not_found',
        message: `kept commit '${hex}' is not in the branch history`,
      });
    }
    return hits.length === 1 ? hits[0] : undefined;
  });
  const rowsOf = new Map<string, number[]>();
  matched.forEach((c, i) => {
    if (!c) return;
    const list = rowsOf.get(c.hash) ?? [];
    list.push(i);
    rowsOf.set(c.hash, list);
  });
  for (const [hash, idx] of rowsOf) {
    if (idx.length > 1) {
      warnings.push({
        line: rows[idx[0]].line,
        code: 'shared_commit',
        message: `commit ${hash.slice(0, 7)} is shared by ${idx.length} rows; their premises stay on the keep chain`,
      });
    }
  }

  /**
   * Latest row before `before` that carries commit `hash` with a known status. Not only keeps:
   * a crashed or discarded commit that stayed on the branch is in the head's code, so it is a
   * premise (and hard-gates what is built on it: cascade contamination).
   */
  const keptRowAt = (hash: string, before: number): number | undefined => {
    const list = rowsOf.get(hash) ?? [];
    for (let k = list.length - 1; k >= 0; k--)
      if (list[k] < before && rows[list[k]].status !== 'unknown') return list[k];
    return undefined;
  };

  const isAncestor = (anc: string, of: string): boolean => {
    const seen = new Set<string>();
    const stack = [...(byHash.get(of)?.parents ?? [])];
    while (stack.length > 0) {
      const h = stack.pop() as string;
      if (h === anc) return true;
      if (seen.has(h)) continue;
      seen.add(h);
      stack.push(...(byHash.get(h)?.parents ?? []));
    }
    return false;
  };

  const graphPremises = (index: number, commit: GitCommit): number[] => {
    const found = new Map<string, number>();
    const seen = new Set<string>();
    const queue = [...commit.parents];
    for (let q = 0; q < queue.length; q++) {
      const h = queue[q];
      if (seen.has(h)) continue;
      seen.add(h);
      const kept = keptRowAt(h, index);
      if (kept !== undefined) found.set(h, kept);
      else queue.push(...(byHash.get(h)?.parents ?? []));
    }
    return [...found]
      .filter(([h]) => ![...found.keys()].some((other) => other !== h && isAncestor(h, other)))
      .map(([, i]) => i)
      .sort((a, b) => a - b);
  };

  const indexOfKey = new Map(rows.map((r, i) => [r.key, i]));
  const out = rows.map((row) => ({ ...row }));
  out.forEach((row, i) => {
    const commit = matched[i];
    if (!commit) return;
    const shared = (rowsOf.get(commit.hash) ?? []).length > 1;
    const git: Record<string, unknown> = { commit: commit.hash };
    if (!shared && commit.parents.length <= 1) {
      row.code = {
        ...row.code,
        paths: commit.paths.map(({ path, added, removed }) => ({ path, added, removed })),
      };
      const binary = commit.paths.filter((p) => p.binary).map((p) => p.path);
      if (binary.length > 0) git.binaryPaths = binary;
    }
    row.metadata = { ...row.metadata, git };
    if (shared || row.status !== 'keep') return;
    let premises = graphPremises(i, commit);
    if (premises.length === 0) {
      premises = (row.premises ?? [])
        .map((k) => indexOfKey.get(k))
        .filter((p): p is number => p !== undefined && matched[p] === undefined);
    }
    row.premises = premises.map((p) => out[p].key);
    if (premises.length > 0) row.baseline = out[premises[0]].value ?? null;
    else delete row.baseline;
    row.metadata = { ...row.metadata, premiseSource: 'git' };
  });
  return { rows: out, warnings: warnings.sort((a, b) => a.line - b.line) };
}
