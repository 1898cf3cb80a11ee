import { DomainError, type ErrorDetail } from '../errors.js';

/** Default upper bound on an ingested table (50 MiB). */
export const DEFAULT_MAX_BYTES = 50 * 1024 * 1024;

/**
 * Share of characters that may be NUL, other C0 controls (bar TAB, LF, CR, VT, FF, ESC),
 * lone surrogates or replacements for invalid UTF-8 before the input counts as binary.
 * Text logs have none; a few stray bytes are repaired and warned about per line.
 */
const BINARY_RATIO = 0.01;
const MAX_LISTED_LINES = 50;

export interface DecodedText {
  text: string;
  /**
   * 1-based numbers of lines that held NUL bytes, control characters, invalid UTF-8 or
   * lone surrogates (all but control characters are replaced by U+FFFD).
   */
  suspectLines: number[];
}

const tooLarge = (maxBytes: number): DomainError =>
  new DomainError('payload_too_large', `input is larger than the limit of ${maxBytes} bytes`, {
    errors: [{ message: `input larger than ${maxBytes} bytes`, code: 'payload_too_large' }],
  });

/** UTF-8 byte length of a string, stopping early once it exceeds `limit`. */
function utf8Length(s: string, limit: number): number {
  let n = 0;
  for (let i = 0; i < s.length && n <= limit; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
      n += d >= 0xdc00 && d <= 0xdfff ? 4 : 3;
    } else n += 3;
  }
  return n;
}

function decodeBytes(bytes: Uint8Array): { text: string; invalid: boolean } {
  // UTF-16 with a BOM (PowerShell's `>` writes UTF-16LE); without a BOM it reads as binary.
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) {
    return { text: new TextDecoder('utf-16le').decode(bytes.subarray(2)), invalid: false };
  }
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) {
    const swapped = new Uint8Array(bytes.length - 2 - (bytes.length % 2));
    for (let i = 0; i + 1 < swapped.length; i += 2) {
      swapped[i] = bytes[i + 3];
      swapped[i + 1] = bytes[i + 2];
    }
    return { text: new TextDecoder('utf-16le').decode(swapped), invalid: false };
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), invalid: false };
  } catch {
    return { text: new TextDecoder('utf-8').decode(bytes), invalid: true };
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/* eslint-disable no-control-regex -- finding control characters is the point */
/** NUL and C0 controls other than TAB, LF, VT, FF, CR and ESC (as in {@link isBadChar}). */
const SUSPECT = /[\0-\x08\x0e-\x1a\x1c-\x1f]/;
const SUSPECT_OR_REPLACED = /[\0-\x08\x0e-\x1a\x1c-\x1f\uFFFD]/;
/* eslint-enable no-control-regex */

function isBadChar(c: number, invalidUtf8: boolean): boolean {
  if (c === 0) return true;
  // TAB, LF, VT, FF, CR and ESC (colour codes pasted from terminals) occur in text.
  if (c < 32) return c !== 9 && c !== 10 && c !== 11 && c !== 12 && c !== 13 && c !== 27;
  return invalidUtf8 && c === 0xfffd;
}

/**
 * Turns the raw body into text: enforces `maxBytes`, decodes UTF-8 (or UTF-16 with a
 * BOM), drops a leading BOM, rejects binary content and repairs stray NUL bytes, invalid
 * UTF-8 and lone surrogates to U+FFFD (Postgres text cannot hold NUL).
 * @throws DomainError `payload_too_large` or `validation_failed` (binary content).
 */
export function decodeInput(
  input: string | Uint8Array,
  maxBytes: number = DEFAULT_MAX_BYTES,
): DecodedText {
  let text: string;
  let invalid = false;
  if (typeof input === 'string') {
    if (input.length > maxBytes) throw tooLarge(maxBytes);
    if (input.length * 3 > maxBytes) {
      const size = utf8Length(input, maxBytes);
      if (size > maxBytes) throw tooLarge(maxBytes);
    }
    text = input;
  } else {
    if (input.byteLength > maxBytes) throw tooLarge(maxBytes);
    ({ text, invalid } = decodeBytes(input));
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const surrogates = text.match(LONE_SURROGATE)?.length ?? 0;
  if (surrogates > 0) text = text.replace(LONE_SURROGATE, '\uFFFD');
  const flagReplacements = invalid || surrogates > 0;

  // Fast path: a regex scan finds clean text much faster than the per-character loop below.
  if (!(flagReplacements ? SUSPECT_OR_REPLACED : SUSPECT).test(text)) {
    return { text, suspectLines: [] };
  }

  let bad = surrogates;
  let line = 1;
  let lineHasBad = false;
  const badLines: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) {
      if (lineHasBad) badLines.push(line);
      line++;
      lineHasBad = false;
      continue;
    }
    if (isBadChar(c, invalid) || (flagReplacements && c === 0xfffd)) {
      if (c !== 0xfffd || invalid) bad++;
      lineHasBad = true;
    }
  }
  if (lineHasBad) badLines.push(line);

  if (text.length > 0 && bad / text.length > BINARY_RATIO) {
    const errors: ErrorDetail[] = badLines.slice(0, MAX_LISTED_LINES).map((l) => ({
      line: l,
      pointer: `line ${l}`,
      code: 'binary_content',
      message: 'NUL bytes, control characters or invalid UTF-8',
    }));
    if (badLines.length > MAX_LISTED_LINES) {
      errors.push({
        code: 'binary_content',
        message: `${badLines.length - MAX_LISTED_LINES} more lines with binary content`,
      });
    }
    throw new DomainError(
      'validation_failed',
      `not a text table: ${((100 * bad) / text.length).toFixed(1)}% of the characters are binary`,
      { errors },
    );
  }
  return {
    text: text.includes('\0') ? text.replace(/\0/g, '\uFFFD') : text,
    suspectLines: badLines,
  };
}

/** Splits text into lines at LF, CRLF or a lone CR. */
export const splitLines = (text: string): string[] => text.split(/\r\n|\r|\n/);

/** A line with nothing but whitespace (TABs included). */
export const isBlankLine = (line: string): boolean => line.trim() === '';

/** A `#` comment line (leading whitespace allowed). Data rows whose first field starts with `#` cannot be told apart and are treated as comments. */
export const isCommentLine = (line: string): boolean => line.trimStart().startsWith('#');

export interface SplitLine {
  fields: string[];
  /** The row used literal `\t` (backslash, t) as separator. */
  escapedTabs: boolean;
}

/**
 * Splits a row at TABs. A row that has fewer fields than the header and contains literal
 * `\t` sequences (an agent that wrote the escape instead of a TAB) is split at those too
 * when that brings it closer to the header's width. Empty trailing fields beyond the
 * header's width (a trailing TAB) are dropped.
 */
export function splitFields(line: string, expected: number): SplitLine {
  let fields = line.split('\t');
  let escapedTabs = false;
  if (fields.length < expected && line.includes('\\t')) {
    const alt = line.split(/\t|\\t/);
    if (Math.abs(alt.length - expected) < Math.abs(fields.length - expected)) {
      fields = alt;
      escapedTabs = true;
    }
  }
  if (fields.length > expected) fields = joinQuoted(fields);
  while (fields.length > expected && fields[fields.length - 1].trim() === '') fields.pop();
  return { fields, escapedTabs };
}

/** A field that opens a CSV-style quoted cell without closing it (`"a` of `"a<TAB>b"`). */
const opensQuote = (f: string): boolean => {
  const t = f.trim();
  if (!t.startsWith('"')) return false;
  const closed =
    t.length >= 2 && t.endsWith('"') && !t.slice(1, -1).replace(/""/g, '').includes('"');
  return !closed;
};
/** A field that ends a quoted cell: an odd run of quotes at its end. */
const closesQuote = (f: string): boolean => (/"+$/.exec(f.trimEnd())?.[0].length ?? 0) % 2 === 1;

/**
 * Rejoins CSV-style quoted cells that hold TABs (`"a<TAB>b"` is one cell), for rows with
 * more fields than the header; an unclosed quote leaves the fields as they were.
 */
function joinQuoted(fields: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    if (opensQuote(fields[i])) {
      let j = i + 1;
      while (j < fields.length && !closesQuote(fields[j])) j++;
      if (j < fields.length) {
        out.push(fields.slice(i, j + 1).join('\t'));
        i = j;
        continue;
      }
    }
    out.push(fields[i]);
  }
  return out;
}
