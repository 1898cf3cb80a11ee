import { DomainError, type ErrorDetail } from '../errors.js';
import type { Direction, ExperimentInput } from '../types.js';
import { detectRoles, firstValues } from './columns.js';
import { addLineageAndBaselines, buildRows, type DataLine } from './rows.js';
import {
  DEFAULT_MAX_BYTES,
  decodeInput,
  isBlankLine,
  isCommentLine,
  splitFields,
  splitLines,
} from './text.js';
import { parseMetric, unquote } from './values.js';
import { applyRowLimits } from './limits.js';

/** A row-level (or, at the header's line, file-level) problem that did not stop the parse. */
export interface IngestWarning {
  line: number;
  code: string;
  message: string;
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
}

export interface ParseResultsOptions {
  /** Project metric; the column named like it is the metric column. */
  metricName?: string;
  /** Any warning rejects the whole file (each warning becomes an error with its line). */
  strict?: boolean;
  /** Lets rows of a table without a status column be classified by the loop's rule. */
  direction?: Direction;
  /** Size limit in bytes (default 50 MiB). */
  maxBytes?: number;
}

const reject = (message: string, errors: ErrorDetail[]): DomainError =>
  new DomainError('validation_failed', message, { errors });
const detail = (line: number, code: string, message: string): ErrorDetail => ({
  line,
  pointer: `line ${line}`,
  code,
  message,
});

/** `# metric_direction: higher_is_better` (or `direction = minimize`, …) before the header. */
function directionHint(line: string): Direction | undefined {
  const m = /^#\s*(?:metric[\s_-]*)?direction\s*[:=]\s*([A-Za-z_-]+)/i.exec(line.trim());
  if (!m) return undefined;
  const v = m[1].toLowerCase();
  if (/^(max|maximi[sz]e|higher|higher_is_better|up)$/.test(v)) return 'maximize';
  if (/^(min|minimi[sz]e|lower|lower_is_better|down)$/.test(v)) return 'minimize';
  return undefined;
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
 * Header-driven: key column `commit` (or id/experiment/… synonyms), the metric column
 * (named like `opts.metricName`, else the second column if numeric, else the first other
 * numeric column), `status` (or decision/verdict/outcome/correctness), `description`,
 * `hypothesis`, lineage (`parent`, `parent_commit`, …) and resources (memory_gb,
 * peak_vram_mb, elapsed_s, …). Every other column goes to `metadata.columns`.
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
 * Deterministic: every decision about a row depends only on the header, that row and
 * earlier rows, so a longer version of a file yields identical rows for the shared prefix.
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
  const headerLine = h + 1;
  const warnings: IngestWarning[] = [];
  let headerCells = lines[h].split('\t');
  if (headerCells.length === 1 && lines[h].includes('\\t')) {
    headerCells = lines[h].split('\\t');
    warnings.push({
      line: headerLine,
      code: 'escaped_tabs',
      message: 'header separated by literal \\t instead of TAB',
    });
  }
  while (headerCells.length > 1 && headerCells[headerCells.length - 1].trim() === '')
    headerCells.pop();
  const header = headerCells.map((f) => unquote(f));
  if (header.length < 2) {
    const why = lines[h].includes(',')
      ? 'header has no TAB separators (comma-separated?)'
      : 'header has no TAB separators';
    throw reject(`not a results table: ${why}`, [detail(headerLine, 'no_header', why)]);
  }
  const numeric = header.find((f) => parseMetric(f).kind === 'number');
  if (numeric !== undefined) {
    const why = `line looks like data, not a header (field '${numeric}' is a number)`;
    throw reject(`not a results table: no header`, [detail(headerLine, 'no_header', why)]);
  }

  const headerKey = header.join('\t');
  const data: DataLine[] = [];
  for (let i = h + 1; i < lines.length; i++) {
    const raw = lines[i];
    if (isBlankLine(raw) || isCommentLine(raw)) continue;
    const { fields, escapedTabs } = splitFields(raw, header.length);
    const repeated =
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
    data.push({ line: i + 1, text: raw, fields, escapedTabs });
  }
  // A loop's log before its first row: nothing to ingest, not an error (issue 15 §1).
  if (data.length === 0) {
    rejectIfStrict(opts, warnings);
    const want = opts.metricName?.trim().toLowerCase();
    const metric =
      header.find((f) => f.trim().toLowerCase() === want) ?? opts.metricName ?? header[1];
    const direction = opts.direction ?? hint;
    return {
      metric,
      columns: header,
      rows: [],
      warnings,
      roles: { metric },
      ...(direction ? { direction } : {}),
    };
  }

  const { roles, problems } = detectRoles(
    header,
    firstValues(
      header.length,
      data.map((d) => d.fields),
    ),
    opts.metricName,
  );
  if (!roles)
    throw reject(
      'not a results table: no metric column',
      problems.map((p) => detail(headerLine, p.code, p.message)),
    );
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

  const built = buildRows(data, header.length, names, roles, direction, warnings);
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
  };
  if (direction !== undefined) result.direction = direction;
  return result;
}
