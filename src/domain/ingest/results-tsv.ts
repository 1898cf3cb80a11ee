import type { Direction, ExperimentInput } from '../types.js';
import type { DirectionChoice } from './chain.js';
import { detail, readHeader, reject, type LineWarning } from './header.js';
import type { ColumnChoice } from './roles.js';
import {
  chooseColumns,
  collectLines,
  columnNames,
  dropShapeless,
  emptyTable,
  finishRows,
  readPreamble,
  roleNamesOf,
} from './table.js';
import { DEFAULT_MAX_BYTES, decodeInput, splitLines } from './text.js';

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
 * The steps (table.ts): the preamble before the header, the header, the candidate data lines,
 * lines of no row shape dropped, the columns chosen, names given, rows built and finished.
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
  const { start, hint } = readPreamble(lines);
  const warnings: IngestWarning[] = [];
  const head = readHeader(lines, start, warnings);
  const header = head.names;
  const skippedLines: number[] = [];
  const skip = (line: number, message: string) => {
    skippedLines.push(line);
    warnings.push({ line, code: 'foreign_line', message: `line skipped, not a row of the table: ${message}` });
  };
  const { data, timeFirst } = dropShapeless(header, collectLines(lines, head, skip, warnings), skip);
  const declared = opts.direction
    ? { value: opts.direction, source: opts.directionSource ?? ('explicit' as const) }
    : hint
      ? { value: hint, source: 'hint' as const }
      : undefined;
  const direction = opts.direction ?? hint;
  // A loop's log before its first row: nothing to ingest, not an error (issue 15 §1).
  if (data.length === 0) {
    rejectIfStrict(opts, warnings);
    return emptyTable(header, head.line, warnings, skippedLines, opts.metricName, declared, direction);
  }
  const cols = chooseColumns(head, data, { skip, warnings, timeFirst, opts, declared, direction });
  const names = columnNames(header, head.line, warnings);
  const rows = finishRows(cols.rowsIn, header.length, names, cols.roles, direction, suspectLines, warnings);
  rejectIfStrict(opts, warnings);
  const result: ParsedResults = {
    metric: header[cols.roles.metric],
    columns: header,
    rows,
    warnings,
    roles: roleNamesOf(header, cols.roles),
    choices: cols.choices,
    skippedLines: skippedLines.sort((a, b) => a - b),
    headerLine: head.line,
  };
  if (head.inferred) result.headerInferred = true;
  if (direction !== undefined) result.direction = direction;
  return result;
}
