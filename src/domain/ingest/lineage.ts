import type { ExperimentStatus } from '../types.js';
import { hexPrefix, isPlaceholder } from './values.js';

/** What premise assignment needs to know about a row. */
export interface LineageRow {
  key: string;
  /** The key column's cell as written (trimmed; '' when none). */
  rawKey: string;
  status: ExperimentStatus;
  /** Parent references from an explicit lineage column (placeholders removed); empty: none given. */
  parentRefs: string[];
}

export interface LineageNote {
  index: number;
  code: 'unresolved_parent' | 'parent_not_kept';
  message: string;
}

/** Splits a lineage cell into references (`a`, `a,b`, `a; b`); placeholders mean "not given". */
export function parseParentRefs(cell: string | undefined): string[] {
  if (cell === undefined) return [];
  return cell
    .split(/[,;\s]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '' && !isPlaceholder(s));
}

/**
 * Assigns premises (as keys) in row order, by the loop's own rule: a row's premise is the
 * latest earlier row whose status is keep (the first row, or any row before the first
 * keep, is a root). Explicit lineage wins: a reference resolves to the latest earlier row
 * whose key cell (or assigned key, or hash prefix ≥ 7) matches, preferring kept rows; a
 * reference to a row that is not kept stands for that row's own premises (a discard,
 * crash or unknown is never a premise); a reference that resolves to no earlier row
 * (unknown name, forward reference, self reference) is reported and the keep chain is
 * used. Only earlier rows count, so appending rows never changes earlier premises.
 */
export function assignPremises(rows: LineageRow[]): { premises: string[][]; notes: LineageNote[] } {
  const byRaw = new Map<string, Latest>();
  const byKey = new Map<string, number>();
  const byHex = new Map<string, Map<string, Latest>>();
  const premises: string[][] = [];
  const notes: LineageNote[] = [];
  let lastKept: number | undefined;

  const resolve = (ref: string): number | undefined => {
    const exact = byRaw.get(ref);
    if (exact) return exact.lastKept ?? exact.last;
    const keyed = byKey.get(ref);
    if (keyed !== undefined) return keyed;
    const hex = hexPrefix(ref);
    if (hex === undefined || hex.length !== ref.length) return undefined;
    let kept: number | undefined;
    let any: number | undefined;
    for (const [full, e] of byHex.get(hex.slice(0, 7)) ?? []) {
      if (!full.startsWith(hex) && !hex.startsWith(full)) continue;
      if (e.lastKept !== undefined && (kept === undefined || e.lastKept > kept)) kept = e.lastKept;
      if (any === undefined || e.last > any) any = e.last;
    }
    return kept ?? any;
  };

  // Without any lineage reference, the keep chain needs no lookup tables.
  const explicit = rows.some((r) => r.parentRefs.length > 0);
  rows.forEach((row, index) => {
    let own: Set<string> | undefined;
    for (const ref of row.parentRefs) {
      const target = resolve(ref);
      if (target === undefined) {
        const why = ref === row.rawKey ? "is the row's own commit" : 'matches no earlier row';
        notes.push({
          index,
          code: 'unresolved_parent',
          message: `parent '${ref}' ${why}; using the keep chain`,
        });
        continue;
      }
      own ??= new Set<string>();
      if (rows[target].status === 'keep') {
        own.add(rows[target].key);
      } else {
        notes.push({
          index,
          code: 'parent_not_kept',
          message: `parent '${ref}' (${rows[target].key}) has status ${rows[target].status}; using its premises instead`,
        });
        for (const k of premises[target]) own.add(k);
      }
    }
    premises.push(own ? [...own] : lastKept === undefined ? [] : [rows[lastKept].key]);

    const kept = row.status === 'keep';
    if (kept) lastKept = index;
    if (!explicit) return;
    if (row.rawKey !== '') remember(byRaw, row.rawKey, index, kept);
    byKey.set(row.key, index);
    const hex = hexPrefix(row.rawKey);
    if (hex !== undefined) {
      const bucket = byHex.get(hex.slice(0, 7)) ?? new Map<string, Latest>();
      byHex.set(hex.slice(0, 7), bucket);
      remember(bucket, hex, index, kept);
    }
  });
  return { premises, notes };
}

/** Latest row, and latest kept row, carrying a given reference. */
interface Latest {
  last: number;
  lastKept?: number;
}

function remember(map: Map<string, Latest>, ref: string, index: number, kept: boolean): void {
  const e = map.get(ref) ?? { last: index };
  e.last = index;
  if (kept) e.lastKept = index;
  map.set(ref, e);
}
