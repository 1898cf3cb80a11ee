import type { Direction } from '../types.js';
import { chooseDirection } from './chain.js';
import type { ColumnRoles } from './columns.js';
import { detail, directionHint, INFERRED_METRIC, nameInferred, reject, type Header } from './header.js';
import { applyRowLimits } from './limits.js';
import { firstColumnHoldsTimes, isSeparatorLine, keepRows, shapeReason, skipLine } from './lines.js';
import type { IngestChoices, IngestWarning, ParsedResults, ParsedRow, ParseResultsOptions } from './results-tsv.js';
import { detectRoles, type ColumnChoice } from './roles.js';
import { addLineageAndBaselines, buildRows, type DataLine } from './rows.js';
import { isBlankLine, isCommentLine, splitFields } from './text.js';
import { unquote } from './values.js';

// The steps of parseResultsTsv (results-tsv.ts), in the order it runs them (issue 18 §8).

type Skip = (line: number, message: string) => void;
type Declared = { value: Direction; source: 'explicit' | 'project' | 'hint' };

const byLine = (a: IngestWarning, b: IngestWarning) => a.line - b.line;

/**
 * Blank and comment lines before the header: where the header starts (0-based), and a
 * `# metric_direction:` hint among the comments.
 * @throws DomainError `validation_failed` (`no_header`) when nothing but comments follows.
 */
export function readPreamble(lines: readonly string[]): { start: number; hint?: Direction } {
  let hint: Direction | undefined;
  let h = 0;
  for (; h < lines.length && (isBlankLine(lines[h]) || isCommentLine(lines[h])); h++) {
    if (isCommentLine(lines[h])) hint ??= directionHint(lines[h]);
  }
  if (h >= lines.length) {
    const why = lines.some((l) => !isBlankLine(l)) ? 'only comments, no header' : 'empty input';
    throw reject(`not a results table: ${why}`, [detail(1, 'no_header', why)]);
  }
  return hint ? { start: h, hint } : { start: h };
}

/** The lines after the header split into fields; separators and repeats of the header are skipped. */
export function collectLines(lines: readonly string[], head: Header, skip: Skip, warnings: IngestWarning[]): DataLine[] {
  const header = head.names;
  const headerKey = header.join('\t');
  const out: DataLine[] = [];
  for (let i = head.dataFrom; i < lines.length; i++) {
    const raw = lines[i];
    if (isBlankLine(raw) || isCommentLine(raw)) continue;
    if (isSeparatorLine(raw)) {
      skip(i + 1, 'a separator');
      continue;
    }
    const { fields, escapedTabs } = splitFields(raw, header.length);
    const repeated =
      !head.inferred &&
      fields.length === header.length &&
      unquote(fields[0]) === header[0] &&
      fields.map((f) => unquote(f)).join('\t') === headerKey;
    if (repeated) {
      warnings.push({ line: i + 1, code: 'repeated_header', message: 'the header is repeated here; line skipped' });
      continue;
    }
    out.push({ line: i + 1, text: raw, fields, escapedTabs });
  }
  return out;
}

/** Drops lines that cannot be rows whatever the columns (a timestamp first, prose), before the columns are chosen. */
export function dropShapeless(header: string[], lineRows: DataLine[], skip: Skip): { data: DataLine[]; timeFirst: boolean } {
  const timeFirst = firstColumnHoldsTimes(header, lineRows);
  const data = lineRows.filter((d) => {
    const why = shapeReason(d.fields, header.length, timeFirst);
    if (why !== undefined) skipLine(skip, d, header.length, why);
    return why === undefined;
  });
  return { data, timeFirst };
}

/** The answer for a table with a header and no rows: its metric column by name or position. */
export function emptyTable(
  header: string[],
  headerLine: number,
  warnings: IngestWarning[],
  skippedLines: number[],
  metricName: string | undefined,
  declared: Declared | undefined,
  direction: Direction | undefined,
): ParsedResults {
  const want = metricName?.trim().toLowerCase();
  const metric = header.find((f) => f.trim().toLowerCase() === want) ?? metricName ?? header[1];
  const none: ColumnChoice = { column: null, source: 'none', guess: false, evidence: 'no rows' };
  const choices: IngestChoices = {
    metric: { column: metric, source: want ? 'explicit' : 'position', guess: !want, evidence: 'no rows' },
    direction: chooseDirection(metric, undefined, declared).choice,
    statusColumn: none,
    keyColumn: none,
  };
  return {
    metric,
    columns: header,
    rows: [],
    warnings,
    roles: { metric },
    choices,
    skippedLines: skippedLines.sort((a, b) => a - b),
    headerLine,
    ...(direction ? { direction } : {}),
  };
}

/**
 * Chooses the columns from the header and the cells (roles.ts), drops the lines that are no
 * rows of those columns, names an inferred header's columns, and checks the direction against
 * the keep chain; every problem is a warning at the header's line.
 * @throws DomainError `validation_failed` when no column can be the metric.
 */
export function chooseColumns(
  head: Header,
  data: DataLine[],
  ctx: { skip: Skip; warnings: IngestWarning[]; timeFirst: boolean; opts: ParseResultsOptions; declared?: Declared; direction?: Direction },
): { roles: ColumnRoles; choices: IngestChoices; rowsIn: DataLine[] } {
  const { opts, warnings } = ctx;
  const header = head.names;
  const fitting = data.filter((d) => d.fields.length === header.length);
  const detected = detectRoles(
    header,
    (fitting.length > 0 ? fitting : data).map((d) => d.fields),
    {
      // An inferred header names its metric column `metric` only after the choice is made.
      ...(opts.metricName !== undefined && !(head.inferred && opts.metricName === INFERRED_METRIC) ? { metricName: opts.metricName } : {}),
      ...(opts.statusColumn !== undefined ? { statusColumn: opts.statusColumn } : {}),
      headerless: head.inferred,
    },
  );
  const { roles, problems } = detected;
  if (!roles || !detected.choices)
    throw reject(
      'not a results table: no metric column',
      problems.map((p) => detail(head.line, p.code, p.message)),
    );
  const rowsIn = keepRows(data, header, roles, ctx.skip, ctx.timeFirst);
  if (head.inferred) {
    nameInferred(header, roles, rowsIn, detected, warnings, head.line);
    if (opts.metricName === INFERRED_METRIC)
      detected.choices.metric = { column: INFERRED_METRIC, source: 'explicit', guess: false, evidence: 'the project metric, as the inferred header names it' };
  }
  for (const p of problems) warnings.push({ line: head.line, ...p });
  if (roles.status === undefined && ctx.direction === undefined) {
    warnings.push({
      line: head.line,
      code: 'missing_status_column',
      message: 'no status column and no metric direction to derive keep/discard; every row is unknown',
    });
  }
  const directionChoice = chooseDirection(header[roles.metric], detected.moves, ctx.declared);
  for (const w of directionChoice.warnings) warnings.push({ line: head.line, ...w });
  return { roles, choices: { ...detected.choices, direction: directionChoice.choice }, rowsIn };
}

/** Column names for metadata: `columnN` for an empty name or the second of two equal ones (warned). */
export function columnNames(header: string[], headerLine: number, warnings: IngestWarning[]): string[] {
  const seen = new Set<string>();
  return header.map((n, i) => {
    let name = n === '' ? `column${i + 1}` : n;
    if (seen.has(name)) {
      warnings.push({ line: headerLine, code: 'duplicate_column', message: `column '${name}' appears twice; the second is column${i + 1}` });
      name = `column${i + 1}`;
    }
    seen.add(name);
    return name;
  });
}

/**
 * Builds the rows (keys, statuses, values, premises, baselines), flags lines with bad bytes,
 * keeps the original text of every warned row in `metadata.raw`, and applies the JSON API's
 * bounds. Leaves `warnings` sorted by line.
 */
export function finishRows(
  rowsIn: DataLine[],
  width: number,
  names: string[],
  roles: ColumnRoles,
  direction: Direction | undefined,
  suspectLines: readonly number[],
  warnings: IngestWarning[],
): ParsedRow[] {
  const built = buildRows(rowsIn, width, names, roles, direction, warnings);
  addLineageAndBaselines(built, warnings);
  const suspect = new Set(suspectLines);
  for (const { row } of built) {
    if (suspect.has(row.line)) {
      warnings.push({ line: row.line, code: 'invalid_encoding', message: 'NUL bytes, control characters or invalid UTF-8 (replaced by U+FFFD)' });
    }
  }
  warnings.sort(byLine);
  const warned = new Set(warnings.map((w) => w.line));
  const rows = built.map(({ row, text: rawText }) => {
    if (warned.has(row.line)) row.metadata = { ...row.metadata, raw: rawText };
    if (row.metadata && Object.keys(row.metadata).length === 0) delete row.metadata;
    return row;
  });
  // The JSON API's bounds (metadata entries, text lengths) hold for table rows too (issue 17).
  if (applyRowLimits(rows, warnings)) warnings.sort(byLine);
  return rows;
}

/** The header names of the columns that played a role. */
export function roleNamesOf(header: string[], roles: ColumnRoles): ParsedResults['roles'] {
  const out: ParsedResults['roles'] = { metric: header[roles.metric] };
  for (const r of ['key', 'status', 'description', 'hypothesis', 'parent'] as const) {
    const i = roles[r];
    if (i !== undefined) out[r] = header[i];
  }
  return out;
}
