import { DomainError, type ErrorDetail } from '../errors.js';
import type { Direction } from '../types.js';
import { consistentWidth } from './lines.js';
import type { DataLine } from './rows.js';
import { isBlankLine, isCommentLine, splitFields } from './text.js';
import type { ColumnRoles } from './columns.js';
import type { DetectedRoles } from './roles.js';
import { hexPrefix, parseMetric, unquote } from './values.js';

/** A problem that did not stop the parse, at a line of the file. */
export interface LineWarning {
  line: number;
  code: string;
  message: string;
}

export const reject = (message: string, errors: ErrorDetail[]): DomainError =>
  new DomainError('validation_failed', message, { errors });
export const detail = (line: number, code: string, message: string): ErrorDetail => ({
  line,
  pointer: `line ${line}`,
  code,
  message,
});

/** `# metric_direction: higher_is_better` (or `direction = minimize`, …) before the header. */
export function directionHint(line: string): Direction | undefined {
  const m = /^#\s*(?:metric[\s_-]*)?direction\s*[:=]\s*([A-Za-z_-]+)/i.exec(line.trim());
  if (!m) return undefined;
  const v = m[1].toLowerCase();
  if (/^(max|maximi[sz]e|higher|higher_is_better|up)$/.test(v)) return 'maximize';
  if (/^(min|minimi[sz]e|lower|lower_is_better|down)$/.test(v)) return 'minimize';
  return undefined;
}

export interface Header {
  /** Column names as written (unquoted, trimmed); `column1`… when inferred. */
  names: string[];
  /** 1-based line of the header; for an inferred header, of the first row. */
  line: number;
  /** 0-based index of the first line after the header (the first row when inferred). */
  dataFrom: number;
  /** No header line: the columns were inferred from the rows' shape. */
  inferred: boolean;
}

/** The rows of a file without a header, split as they are, to find their shape. */
function rawRows(lines: readonly string[], from: number): DataLine[] {
  const out: DataLine[] = [];
  for (let i = from; i < lines.length; i++) {
    if (isBlankLine(lines[i]) || isCommentLine(lines[i])) continue;
    const { fields, escapedTabs } = splitFields(lines[i], 0);
    out.push({ line: i + 1, text: lines[i], fields, escapedTabs });
  }
  return out;
}

/**
 * Reads the header at line index `h` (the first that is neither blank nor a comment). A
 * first line of data (a field is a number) means no header: a file whose rows share one
 * shape is read with inferred columns (issue 20); otherwise the file is rejected, naming
 * the header it needs.
 */
export function readHeader(lines: readonly string[], h: number, warnings: LineWarning[]): Header {
  const line = h + 1;
  let cells = lines[h].split('\t');
  if (cells.length === 1 && lines[h].includes('\\t')) {
    cells = lines[h].split('\\t');
    warnings.push({
      line,
      code: 'escaped_tabs',
      message: 'header separated by literal \\t instead of TAB',
    });
  }
  while (cells.length > 1 && cells[cells.length - 1].trim() === '') cells.pop();
  const names = cells.map((f) => unquote(f));
  if (names.length < 2) {
    const why = lines[h].includes(',')
      ? 'header has no TAB separators (comma-separated?)'
      : 'header has no TAB separators';
    throw reject(`not a results table: ${why}`, [detail(line, 'no_header', why)]);
  }
  const numeric = names.find((f) => parseMetric(f).kind === 'number');
  if (numeric === undefined) return { names, line, dataFrom: h + 1, inferred: false };
  const commented = commentedHeader(lines, h);
  if (commented) {
    warnings.push({
      line: commented.line,
      code: 'commented_header',
      message: 'the header is written as a comment (`# commit<TAB>…`); read as the header',
    });
    return commented;
  }
  const width = consistentWidth(rawRows(lines, h));
  if (width === undefined) {
    const why =
      `line looks like data, not a header (field '${numeric}' is a number), and the rows have no ` +
      'consistent shape to infer columns from: add a header line naming the columns, at least the ' +
      'metric (e.g. commit<TAB>val_bpb<TAB>memory_gb<TAB>status<TAB>description)';
    throw reject(`not a results table: no header`, [detail(line, 'no_header', why)]);
  }
  return {
    names: Array.from({ length: width }, (_, i) => `column${i + 1}`),
    line,
    dataFrom: h,
    inferred: true,
  };
}

/**
 * A header written as a comment right before the first row (`# commit<TAB>val_bpb<TAB>…`,
 * as some loops print it): as many TAB-separated names as the row has fields, none a number.
 */
function commentedHeader(lines: readonly string[], h: number): Header | undefined {
  let j = h - 1;
  while (j >= 0 && isBlankLine(lines[j])) j--;
  if (j < 0 || !isCommentLine(lines[j])) return undefined;
  const cells = lines[j].replace(/^\s*#+\s*/, '').split('\t');
  while (cells.length > 1 && cells[cells.length - 1].trim() === '') cells.pop();
  const names = cells.map((c) => unquote(c));
  const width = splitFields(lines[h], 0).fields.length;
  if (names.length < 2 || names.length !== width) return undefined;
  if (names.some((n) => n === '' || parseMetric(n).kind === 'number')) return undefined;
  return { names, line: j + 1, dataFrom: h, inferred: false };
}

export /** The name an inferred header gives the metric column (and so a project created from such a file). */
const INFERRED_METRIC = 'metric';

/**
 * Names the columns of a file without a header by role (`commit` or `key`, `metric`,
 * `status`, `description`; `columnN` for the rest), so that the next ingest finds the
 * project's metric by name, and says so in one warning.
 */
export function nameInferred(
  header: string[],
  roles: ColumnRoles,
  rows: DataLine[],
  detected: DetectedRoles,
  warnings: LineWarning[],
  line: number,
): void {
  const keyIsHash =
    roles.key !== undefined &&
    rows.every((r) => hexPrefix(r.fields[roles.key as number] ?? '') !== undefined);
  const rename: Array<[number | undefined, string]> = [
    [roles.key, keyIsHash ? 'commit' : 'key'],
    [roles.metric, INFERRED_METRIC],
    [roles.status, 'status'],
    [roles.description, 'description'],
  ];
  const choices = detected.choices as NonNullable<DetectedRoles['choices']>;
  for (const [i, name] of rename) {
    if (i === undefined) continue;
    const old = header[i];
    header[i] = name;
    for (const c of [choices.metric, choices.statusColumn, choices.keyColumn]) {
      if (c.column === old) c.column = name;
      c.evidence = c.evidence.split(`'${old}'`).join(`'${name}'`);
    }
    for (const p of detected.problems) p.message = p.message.split(`'${old}'`).join(`'${name}'`);
  }
  warnings.push({
    line,
    code: 'no_header',
    message: `no header line: read ${rows.length} rows of ${header.length} fields as columns ${header.join(', ')}; add a header line to name them`,
  });
}
