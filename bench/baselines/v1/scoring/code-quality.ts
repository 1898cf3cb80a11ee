/*
 * Baseline only: ECV's first gate design (v1), copied verbatim from our own code at git commit
 * 3b67ef4 (src/domain/scoring/code-quality.ts) so the obey-mode bench can run the previous design as a policy
 * in process after the service moved to gate v2. Not used by the service; do not edit except
 * to keep it compiling.
 */
/**
 * Code quality Q (SPEC §3): 1.0 minus penalties from static checks of the change.
 * Crash and a changed protected path give Q = 0 and a hard gate; no code information
 * gives Q = 0.5. Penalties do not stack within a kind and Q never drops below 0.
 */
import type { ProjectConfig, Reason } from '../types.js';
import { matchesGlob, normalizePath } from './glob.js';
import type { ObservedExperiment } from './observed.js';

/** Penalties subtracted from Q = 1 (one per kind). */
export const PENALTIES = Object.freeze({
  large_diff: 0.1,
  very_large_diff: 0.25,
  seed_changed: 0.15,
  eval_changed: 0.2,
  new_dependency: 0.1,
});
/** More changed (added + removed) lines than this: large_diff. */
export const LARGE_DIFF_LINES = 200;
/** More changed lines than this: very_large_diff (instead of large_diff). */
export const VERY_LARGE_DIFF_LINES = 1000;
/** Q when the experiment carries neither a diff nor changed paths. */
export const NO_CODE_INFO_Q = 0.5;

/** Hard gates decided by the code component (the status gates live in confidence.ts). */
export type CodeHardGate = 'crash' | 'protected_path';

export interface ParsedDiff {
  /** Every path the diff touches (old and new names, /dev/null dropped). */
  paths: string[];
  /** Added and removed lines, without their leading +/−. */
  added: string[];
  removed: string[];
}

const stripPrefix = (p: string): string => {
  const path = p.split('\t')[0].trim().replace(/^"|"$/g, '');
  return path.replace(/^[ab]\//, '');
};

/** Parse the parts of a unified (git) diff the checks need. */
export function parseUnifiedDiff(diff: string): ParsedDiff {
  const lines = diff.split(/\r?\n/);
  const paths = new Set<string>();
  const added: string[] = [];
  const removed: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const git = /^diff --git a\/(.+?) b\/(.+)$/.exec(line);
    if (git) {
      paths.add(git[1]);
      paths.add(git[2]);
      continue;
    }
    // A `--- ` line is a file header only when a `+++ ` header follows it; otherwise it is
    // a removed line whose content starts with `-- ` (an SQL or Lua comment, say).
    if (line.startsWith('--- ') && lines[i + 1]?.startsWith('+++ ')) {
      for (const h of [line, lines[i + 1]]) {
        const p = stripPrefix(h.slice(4));
        if (p !== '/dev/null' && p !== '') paths.add(p);
      }
      i++;
      continue;
    }
    const mv = /^(?:rename|copy) (?:from|to) (.+)$/.exec(line);
    if (mv) {
      paths.add(mv[1].trim());
      continue;
    }
    if (line.startsWith('+')) added.push(line.slice(1));
    else if (line.startsWith('-')) removed.push(line.slice(1));
  }
  return { paths: [...paths].map(normalizePath).filter((p) => p !== ''), added, removed };
}

const SEED_LINE =
  /seed|random_state|rng_state|cudnn\.deterministic|use_deterministic_algorithms|PYTHONHASHSEED/i;
const SEED_PATH = /seed/i;
const EVAL_LINE =
  /\b(?:evaluat\w*|eval_\w+|\w+_eval|metrics?|val_bpb|val_loss|val_acc\w*)\b|(?<!\.)\beval\b/i;
const EVAL_SEGMENT =
  /(?:^|[_.-])(?:evals?|evaluate|evaluation|evaluator|metrics?|bench|benchmarks?)(?:[_.-]|$)/i;
const DEPENDENCY_FILE =
  /^(?:requirements[^/]*\.(?:txt|in)|pyproject\.toml|setup\.py|setup\.cfg|Pipfile(?:\.lock)?|poetry\.lock|uv\.lock|environment\.ya?ml|conda\.ya?ml|package(?:-lock)?\.json|yarn\.lock|pnpm-lock\.yaml|Cargo\.toml|go\.mod|Gemfile)$/;
const IMPORT_LINE =
  /^\s*(?:import\s+[\w.]+|from\s+[\w.]+\s+import\b|import\s.+\sfrom\s+['"]|(?:const|let|var)\s+.+=\s*require\(|#include\s*[<"])/;

const basename = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

/** The project's metric name, used in line checks only when it is distinctive (has a non-letter). */
function metricNamePattern(name: string): RegExp | null {
  if (!/[^A-Za-z]/.test(name) || name.trim() === '') return null;
  return new RegExp(`(?<![\\w])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w])`);
}

/**
 * Static code checks of one experiment: Q in [0, 1], a hard gate ('crash' or
 * 'protected_path') or null, and one reason per finding.
 */
export function codeQuality(
  project: ProjectConfig,
  e: ObservedExperiment,
): { q: number; hardGate: CodeHardGate | null; reasons: Reason[] } {
  const reasons: Reason[] = [];
  const diff = typeof e.code?.diff === 'string' ? e.code.diff : '';
  const listed = (e.code?.paths ?? []).filter((p) => typeof p?.path === 'string');
  const parsed =
    diff.trim() !== '' ? parseUnifiedDiff(diff) : { paths: [], added: [], removed: [] };
  const paths = [...new Set([...listed.map((p) => normalizePath(p.path)), ...parsed.paths])].filter(
    (p) => p !== '',
  );
  const hasInfo = diff.trim() !== '' || paths.length > 0;

  let hardGate: CodeHardGate | null = null;
  if (e.status === 'crash') {
    hardGate = 'crash';
    reasons.push({
      code: 'crash',
      message: 'The run crashed: no result to trust (Q = 0, hard gate).',
    });
  }
  // A root (no premise, no baseline) is the code the loop starts from: its commit creates the
  // protected files and everything else, so it is neither hard-gated nor penalised for them.
  const isRoot = e.premiseKey === null && e.baseline === null;
  if (isRoot && hardGate === null && (diff.trim() !== '' || listed.length > 0)) {
    reasons.push({ code: 'root_baseline', message: 'Root: the starting code of the loop, not a change to judge (Q = 1).' });
    return { q: 1, hardGate: null, reasons };
  }
  const protectedHits = paths.filter((p) => project.protectedPaths.some((g) => matchesGlob(p, g)));
  if (protectedHits.length > 0) {
    hardGate ??= 'protected_path';
    reasons.push({
      code: 'protected_path',
      message: `Protected path changed: ${protectedHits.join(', ')} (Q = 0, hard gate).`,
    });
  }
  if (!hasInfo) {
    if (hardGate === null)
      reasons.push({
        code: 'no_code_info',
        message: `No diff or changed paths: Q = ${NO_CODE_INFO_Q}.`,
      });
    return { q: hardGate ? 0 : NO_CODE_INFO_Q, hardGate, reasons };
  }

  const penalties: Array<[keyof typeof PENALTIES, string]> = [];
  const changedLines =
    listed.length > 0
      ? listed.reduce((s, p) => s + Math.max(0, p.added || 0) + Math.max(0, p.removed || 0), 0)
      : parsed.added.length + parsed.removed.length;
  if (changedLines > VERY_LARGE_DIFF_LINES)
    penalties.push([
      'very_large_diff',
      `${changedLines} changed lines (> ${VERY_LARGE_DIFF_LINES})`,
    ]);
  else if (changedLines > LARGE_DIFF_LINES)
    penalties.push(['large_diff', `${changedLines} changed lines (> ${LARGE_DIFF_LINES})`]);

  const changed = [...parsed.added, ...parsed.removed];
  const seedLine = changed.find((l) => SEED_LINE.test(l));
  const seedPath = paths.find((p) => SEED_PATH.test(basename(p)));
  if (seedLine !== undefined || seedPath !== undefined)
    penalties.push(['seed_changed', `seeding touched: ${seedPath ?? `"${seedLine?.trim()}"`}`]);

  const metricRe = metricNamePattern(project.metric.name);
  const evalPath = paths.find((p) => p.split('/').some((seg) => EVAL_SEGMENT.test(seg)));
  const evalLine = changed.find(
    (l) => EVAL_LINE.test(l) || (metricRe !== null && metricRe.test(l)),
  );
  if (evalPath !== undefined || evalLine !== undefined)
    penalties.push([
      'eval_changed',
      `evaluation or metric code touched: ${evalPath ?? `"${evalLine?.trim()}"`}`,
    ]);

  const depFile = paths.find((p) => DEPENDENCY_FILE.test(basename(p)));
  const removedImports = new Set(parsed.removed.map((l) => l.trim()));
  const newImport = parsed.added.find((l) => IMPORT_LINE.test(l) && !removedImports.has(l.trim()));
  if (depFile !== undefined || newImport !== undefined)
    penalties.push([
      'new_dependency',
      `new dependency: ${depFile !== undefined ? `${depFile} changed` : `"${newImport?.trim()}"`}`,
    ]);

  let q = 1;
  for (const [code, what] of penalties) {
    q -= PENALTIES[code];
    reasons.push({ code, message: `Code penalty −${PENALTIES[code]}: ${what}.` });
  }
  if (hardGate !== null) return { q: 0, hardGate, reasons };
  return { q: Math.max(0, Math.round(q * 1e12) / 1e12), hardGate, reasons };
}
