import type { Direction, ExperimentStatus, Resources } from '../types.js';
import type { ColumnRoles } from './columns.js';
import { assignPremises, parseParentRefs } from './lineage.js';
import type { IngestWarning, ParsedRow } from './results-tsv.js';
import { mapFlag } from './decisions.js';
import { mapStatus, unknownStatusMessage } from './status.js';
import {
  isNonFiniteNumeral,
  isPlaceholder,
  KeyAllocator,
  parseAmount,
  parseMetric,
  sanitizeKey,
  unquote,
} from './values.js';

/** A data line of the table, split into fields. */
export interface DataLine {
  line: number;
  text: string;
  fields: string[];
  escapedTabs: boolean;
}

export interface BuiltRow {
  row: ParsedRow;
  text: string;
  parentRefs: string[];
  rawKey: string;
}

/**
 * Turns data lines into rows: keys, statuses (mapped, or derived by the loop rule when
 * there is no status column and a direction is known), values, metadata and resources.
 * Premises are left empty for {@link addLineageAndBaselines}.
 */
export function buildRows(
  data: DataLine[],
  width: number,
  names: string[],
  roles: ColumnRoles,
  direction: Direction | undefined,
  warnings: IngestWarning[],
): BuiltRow[] {
  const keys = new KeyAllocator();
  const core = [
    roles.key,
    roles.metric,
    roles.status,
    roles.description,
    roles.hypothesis,
    roles.parent,
  ];
  /** Columns that go to `metadata.columns`. */
  const extra = names.map((_, i) => i).filter((i) => !core.includes(i));
  let best: number | undefined;
  return data.map((d, seq) => {
    const warn = (code: string, message: string) => warnings.push({ line: d.line, code, message });
    // CSV-style quoted cells are read without their quotes (issue 20).
    const cell = (i: number | undefined) =>
      i === undefined ? undefined : unquote(d.fields[i] ?? '');
    const metadata: Record<string, unknown> = {};
    if (d.escapedTabs) warn('escaped_tabs', 'fields separated by literal \\t instead of TAB');
    if (d.fields.length !== width) {
      const what =
        d.fields.length < width
          ? 'missing fields left empty'
          : 'extra fields kept in metadata.extraFields';
      warn('field_count', `${d.fields.length} fields where the header has ${width}; ${what}`);
      if (d.fields.length > width) metadata.extraFields = d.fields.slice(width);
    }

    const rawKey = unquote(cell(roles.key) ?? '');
    let base = isPlaceholder(rawKey) ? `row-${d.line}` : sanitizeKey(rawKey);
    if (base === '') base = `row-${d.line}`;
    if (!isPlaceholder(rawKey) && base !== rawKey)
      warn('sanitized_key', `commit '${rawKey}' is not a valid key; using '${base}'`);
    const { key, firstLine } = keys.allocate(base, d.line);
    if (firstLine !== undefined)
      warn('duplicate_commit', `'${base}' already used at line ${firstLine}; key '${key}'`);
    if (rawKey !== '' && key !== rawKey) metadata.commit = rawKey;

    const rawMetric = cell(roles.metric) ?? '';
    const metric = parseMetric(rawMetric);
    let status: ExperimentStatus;
    const rawStatus = cell(roles.status);
    if (rawStatus !== undefined && roles.statusFlag) {
      // A keep-flag column (`kept` of 1/0): 1 keep, 0 discard (crash without a value).
      status = mapFlag(rawStatus, metric.value !== null);
      if (status === 'unknown')
        warn(
          isPlaceholder(rawStatus) ? 'missing_status' : 'unknown_status',
          `${names[roles.status as number]} '${rawStatus}' is not a 1/0 keep flag; stored as unknown`,
        );
      if (rawStatus !== '') metadata.status = rawStatus;
    } else if (rawStatus !== undefined) {
      const match = mapStatus(rawStatus);
      status = match.status;
      if (match.status === 'unknown') {
        warn(
          match.kind === 'empty' ? 'missing_status' : 'unknown_status',
          unknownStatusMessage(rawStatus, match.kind),
        );
      }
      if (rawStatus !== '' && rawStatus !== status) metadata.status = rawStatus;
    } else if (direction !== undefined) {
      // The loop's own rule: keep what beats the current best (strictly), discard the rest.
      const better =
        metric.value !== null &&
        (best === undefined ||
          (direction === 'minimize' ? metric.value < best : metric.value > best));
      status = metric.value === null ? 'crash' : better ? 'keep' : 'discard';
      if (status === 'keep') best = metric.value as number;
      metadata.statusDerived = true;
    } else {
      status = 'unknown';
    }

    const value = status === 'crash' ? null : metric.value;
    if (status !== 'crash' && metric.kind === 'missing')
      warn('missing_metric', `no ${names[roles.metric]} value ('${rawMetric}'${isNonFiniteNumeral(rawMetric) ? ' is not a finite number' : ''})`);
    if (status !== 'crash' && metric.kind === 'invalid')
      warn('invalid_metric', `${names[roles.metric]} '${rawMetric}' is not a number`);
    if (rawMetric !== '' && (value === null || (metric.kind === 'number' && metric.percent)))
      metadata.value = rawMetric;

    let columns: Record<string, string> | undefined;
    for (const i of extra) {
      const v = i < d.fields.length ? unquote(d.fields[i]) : '';
      if (v !== '') (columns ??= {})[names[i]] = v;
    }
    if (columns) metadata.columns = columns;
    const parentCell = cell(roles.parent);
    if (parentCell !== undefined && parentCell !== '') metadata.parent = parentCell;

    const row: ParsedRow = { key, status, value, premises: [], line: d.line, seq };
    const description = cell(roles.description);
    if (description) row.description = description;
    const hypothesis = cell(roles.hypothesis);
    if (hypothesis && !isPlaceholder(hypothesis)) row.hypothesis = hypothesis;
    const resources: Resources = {};
    const memory = roles.memoryGb && parseAmount(cell(roles.memoryGb.index));
    if (memory !== undefined && roles.memoryGb) resources.memoryGb = memory * roles.memoryGb.scale;
    const runtime = roles.runtimeS && parseAmount(cell(roles.runtimeS.index));
    if (runtime !== undefined && roles.runtimeS)
      resources.runtimeS = runtime * roles.runtimeS.scale;
    if (Object.keys(resources).length > 0) row.resources = resources;
    row.metadata = metadata;
    return { row, text: d.text, parentRefs: parseParentRefs(parentCell), rawKey };
  });
}

/** Fills in premises (lineage column, else keep chain) and the baselines they imply. */
export function addLineageAndBaselines(built: BuiltRow[], warnings: IngestWarning[]): void {
  const { premises, notes } = assignPremises(
    built.map((b) => ({
      key: b.row.key,
      rawKey: b.rawKey,
      status: b.row.status,
      parentRefs: b.parentRefs,
    })),
  );
  for (const n of notes)
    warnings.push({ line: built[n.index].row.line, code: n.code, message: n.message });
  const valueOf = new Map(built.map((b) => [b.row.key, b.row.value ?? null]));
  built.forEach((b, i) => {
    b.row.premises = premises[i];
    if (premises[i].length > 0) b.row.baseline = valueOf.get(premises[i][0]) ?? null;
  });
}
