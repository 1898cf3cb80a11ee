import type { Direction, ExperimentInput } from '../types.js';
import { chooseDirection, type DirectionChoice } from './chain.js';
import { detail, directionHint, readHeader, reject, type LineWarning } from './header.js';
import {
  firstColumnHoldsTimes,
  isSeparatorLine,
  keepRows,
  shapeReason,
  skipLine,
} from './lines.js';
import { INFERRED_METRIC, nameInferred } from './header.js';
import { detectRoles, type ColumnChoice } from './roles.js';
import { addLineageAndBaselines, buildRows, type DataLine } from './rows.js';
import {
  DEFAULT_MAX_BYTES,
  decodeInput,
  isBlankLine,
  isCommentLine,
  splitFields,
  splitLines,
} from './text.js';
import { unquote } from './values.js';
import { applyRowLimits } from './limits.js';

/** A row-level (or, at the header's line, file-level) problem that did not stop the parse. */
export type IngestWarning = LineWarning;

/** Which column (and direction) the parse chose, how, and on what evidence (issue 20). */
export interface IngestChoices {
  metric: ColumnChoice;
  /** The direction the file's data and names point to (what a new project would get). */
  direction: DirectionChoice;
  statusColumn: ColumnChoice;
  keyColumn: ColumnChoice;
}

export interface ParsedRow extends ExperimentInput {
  /** 1-based line of the row in the input. */
  line: number;
  /** 0-based position among the data rows. */
  seq: number;
}

export interface ParsedResults {
  /** Name of the metric column, as written in the header. */
  metric: string;
  /** Header names, as written. */
  columns: string[];
  rows: ParsedRow[];
  warnings: IngestWarning[];
  /** Which header column played which role. */
  roles: {
    key?: string;
    metric: string;
    status?: string;
    description?: string;
    hypothesis?: string;
    parent?: string;
  };
  /** Direction used to derive statuses: `opts.direction`, else a `# metric_direction:` comment before the header. */
  direction?: Direction;
  /** How the metric, direction, status and key columns were chosen. */
  choices: IngestChoices;
  /** Lines that were not rows of the table (foreign output, prose, separators), skipped with a warning each. */
  skippedLines: number[];
  /** The file had no header line; its columns were inferred from the rows. */
  headerInferred?: boolean;
  /** 1-based line of the header (of the first row when the header was inferred): where file-level warnings go. */
  headerLine: number;
}

export interface ParseResultsOptions {
  /** Project metric; the column named like it is the metric column. */
  metricName?: string;
  /** Any warning rejects the whole file (each warning becomes an error with its line). */
  strict?: boolean;
  /** Lets rows of a table without a status column be classified by the loop's rule. */
  direction?: Direction;
  /** Where `direction` comes from, for the report (default `explicit`). */
  directionSource?: 'explicit' | 'project';
  /** The column that holds the keep/discard decisions, when the caller names it. */
  statusColumn?: string;
  /** Size limit in bytes (default 50 MiB). */
  maxBytes?: number;
}

/** Under `strict`, any warning rejects the whole file. */
function rejectIfStrict(opts: ParseResultsOptions, warnings: IngestWarning[]): void {
  if (!opts.strict || warnings.length === 0) return;
  throw reject(
    `results table has ${warnings.length} problem(s) (strict mode)`,
    warnings.map((w) => detail(w.line, w.code, w.message)),
  );
}

/**
 * Parses a results.tsv (SPEC §7) into experiments, in row order, without I/O.
 *
 * Columns come from the header and the cells (roles.ts, docs/api.md "Ingestion rules"): key
 * column `commit` (or id/experiment/… synonyms, else a column of git hashes), the metric
 * column (named like `opts.metricName`, else the second column if numeric, else the first
 * other numeric column, passing over settings, resources, differences and before-values,
 * and overruled by the keep chain), the status column (`status`, decision, verdict, … when
 * its cells are decisions, else a column whose cells are, or a `kept` column of 1/0),
 * `description`, `hypothesis`, lineage (`parent`, `parent_commit`, …) and resources
 * (memory_gb, peak_vram_mb, elapsed_s, …). Every other column goes to `metadata.columns`.
 * Every choice is reported in `choices` with its evidence; guesses also warn. A file
 * without a header whose rows share one shape is read with inferred columns.
 *
 * Lines that are no rows (another field count and no key/metric in place, a timestamp
 * first, prose, separators) are skipped with a `foreign_line` warning (`skippedLines`).
 *
 * Statuses map through the table in status.ts; unmappable ones become `unknown` with a
 * warning. Without a status column, rows are classified by the loop's rule when a
 * direction is known (opts.direction or a `# metric_direction:` comment): the first row
 * with a value is kept, later rows are kept when strictly better than the latest kept
 * row, rows without a value are crashes (`metadata.statusDerived: true`); with no
 * direction they are `unknown` (one warning at the header).
 *
 * Metric values: crash rows always get null (their `0.000000` is not a measurement; the
 * raw cell is kept in `metadata.value`); placeholders give null with `missing_metric` on
 * non-crash rows; other text gives null with `invalid_metric`.
 *
 * Keys: the key cell when it fits `[A-Za-z0-9._~:@/+-]{1,128}` (else sanitized with a
 * warning), `row-<line>` when the cell is empty or a placeholder (`-`, `—`, `n/a`,
 * `none`); repeats get `~2`, `~3`, … (`duplicate_commit`). The raw cell is kept in
 * `metadata.commit` whenever the key differs from it. Rows with warnings keep their
 * original text in `metadata.raw`.
 *
 * Deterministic: rows depend only on the header, the columns chosen, that row and earlier
 * rows, so a longer version of a file yields identical rows for the shared prefix as long
 * as the same columns are chosen (a named status and metric column always are).
 *
 * @throws DomainError `payload_too_large` above `opts.maxBytes`; `validation_failed` for
 *   binary input, no header, no metric column, or any warning with `strict`.
 */
export function parseResultsTsv(
  input: string | Uint8Array,
  opts: ParseResultsOptions = {},
): ParsedResults {
  const { text, suspectLines } = decodeInput(input, opts.maxBytes ?? DEFAULT_MAX_BYTES);
  const lines = splitLines(text);
  let hint: Direction | undefined;
  let h = 0;
  for (; h < lines.length && (isBlankLine(lines[h]) || isCommentLine(lines[h])); h++) {
    if (isCommentLine(lines[h])) hint ??= directionHint(lines[h]);
  }
  if (h >= lines.length) {
    const why = lines.some((l) => !isBlankLine(l)) ? 'only comments, no header' : 'empty input';
    throw reject(`not a results table: ${why}`, [detail(1, 'no_header', why)]);
  }
  const warnings: IngestWarning[] = [];
  const head = readHeader(lines, h, warnings);
  const header = head.names;
  const headerLine = head.line;
  const skippedLines: number[] = [];
  const skip = (line: number, message: string) => {
    skippedLines.push(line);
    warnings.push({
      line,
      code: 'foreign_line',
      message: `line skipped, not a row of the table: ${message}`,
    });
  };

  const headerKey = header.join('\t');
  const lineRows: DataLine[] = [];
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
      warnings.push({
        line: i + 1,
        code: 'repeated_header',
        message: 'the header is repeated here; line skipped',
      });
      continue;
    }
    lineRows.push({ line: i + 1, text: raw, fields, escapedTabs });
  }
  // Lines that cannot be rows whatever the columns (a timestamp first, prose) go before the columns are chosen.
  const timeFirst = firstColumnHoldsTimes(header, lineRows);
  const data = lineRows.filter((d) => {
    const why = shapeReason(d.fields, header.length, timeFirst);
    if (why !== undefined) skipLine(skip, d, header.length, why);
    return why === undefined;
  });
  const declared = opts.direction
    ? { value: opts.direction, source: opts.directionSource ?? ('explicit' as const) }
    : hint
      ? { value: hint, source: 'hint' as const }
      : undefined;
  // A loop's log before its first row: nothing to ingest, not an error (issue 15 §1).
  if (data.length === 0) {
    rejectIfStrict(opts, warnings);
    const want = opts.metricName?.trim().toLowerCase();
    const metric =
      header.find((f) => f.trim().toLowerCase() === want) ?? opts.metricName ?? header[1];
    const none: ColumnChoice = { column: null, source: 'none', guess: false, evidence: 'no rows' };
    const choices: IngestChoices = {
      metric: {
        column: metric,
        source: want ? 'explicit' : 'position',
        guess: !want,
        evidence: 'no rows',
      },
      direction: chooseDirection(metric, undefined, declared).choice,
      statusColumn: none,
      keyColumn: none,
    };
    const direction = opts.direction ?? hint;
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

  const fitting = data.filter((d) => d.fields.length === header.length);
  const detected = detectRoles(
    header,
    (fitting.length > 0 ? fitting : data).map((d) => d.fields),
    {
      // An inferred header names its metric column `metric` only after the choice is made.
      ...(opts.metricName !== undefined && !(head.inferred && opts.metricName === INFERRED_METRIC)
        ? { metricName: opts.metricName }
        : {}),
      ...(opts.statusColumn !== undefined ? { statusColumn: opts.statusColumn } : {}),
      headerless: head.inferred,
    },
  );
  const { roles, problems } = detected;
  if (!roles || !detected.choices)
    throw reject(
      'not a results table: no metric column',
      problems.map((p) => detail(headerLine, p.code, p.message)),
    );
  const rowsIn = keepRows(data, header, roles, skip, timeFirst);
  if (head.inferred) {
    nameInferred(header, roles, rowsIn, detected, warnings, headerLine);
    if (opts.metricName === INFERRED_METRIC)
      detected.choices.metric = {
        column: INFERRED_METRIC,
        source: 'explicit',
        guess: false,
        evidence: 'the project metric, as the inferred header names it',
      };
  }
  for (const p of problems) warnings.push({ line: headerLine, ...p });
  const direction = opts.direction ?? hint;
  if (roles.status === undefined && direction === undefined) {
    warnings.push({
      line: headerLine,
      code: 'missing_status_column',
      message:
        'no status column and no metric direction to derive keep/discard; every row is unknown',
    });
  }
  const directionChoice = chooseDirection(header[roles.metric], detected.moves, declared);
  for (const w of directionChoice.warnings) warnings.push({ line: headerLine, ...w });
  const seen = new Set<string>();
  const names = header.map((n, i) => {
    let name = n === '' ? `column${i + 1}` : n;
    if (seen.has(name)) {
      warnings.push({
        line: headerLine,
        code: 'duplicate_column',
        message: `column '${name}' appears twice; the second is column${i + 1}`,
      });
      name = `column${i + 1}`;
    }
    seen.add(name);
    return name;
  });

  const built = buildRows(rowsIn, header.length, names, roles, direction, warnings);
  addLineageAndBaselines(built, warnings);
  const suspect = new Set(suspectLines);
  for (const { row } of built) {
    if (suspect.has(row.line)) {
      warnings.push({
        line: row.line,
        code: 'invalid_encoding',
        message: 'NUL bytes, control characters or invalid UTF-8 (replaced by U+FFFD)',
      });
    }
  }
  warnings.sort((a, b) => a.line - b.line);
  const warned = new Set(warnings.map((w) => w.line));
  const rows = built.map(({ row, text: rawText }) => {
    if (warned.has(row.line)) row.metadata = { ...row.metadata, raw: rawText };
    if (row.metadata && Object.keys(row.metadata).length === 0) delete row.metadata;
    return row;
  });
  // The JSON API's bounds (metadata entries, text lengths) hold for table rows too (issue 17).
  if (applyRowLimits(rows, warnings)) warnings.sort((a, b) => a.line - b.line);
  rejectIfStrict(opts, warnings);
  const roleName = (i: number | undefined) => (i === undefined ? undefined : header[i]);
  const roleNames: ParsedResults['roles'] = { metric: header[roles.metric] };
  for (const r of ['key', 'status', 'description', 'hypothesis', 'parent'] as const) {
    const n = roleName(roles[r]);
    if (n !== undefined) roleNames[r] = n;
  }
  const result: ParsedResults = {
    metric: header[roles.metric],
    columns: header,
    rows,
    warnings,
    roles: roleNames,
    choices: { ...detected.choices, direction: directionChoice.choice },
    skippedLines: skippedLines.sort((a, b) => a - b),
    headerLine,
  };
  if (head.inferred) result.headerInferred = true;
  if (direction !== undefined) result.direction = direction;
  return result;
}
