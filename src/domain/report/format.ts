/**
 * Escaping and number formatting shared by the renderers. Every piece of user text
 * (descriptions, keys, runner names, errors — written by LLM agents, so hostile) passes
 * through `escapeHtml` or `escapeMd` before it reaches a page.
 */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text and attribute values in HTML and inline SVG. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/**
 * Text inside a Markdown table cell: one line, no table breaks, no HTML (GitHub renders raw
 * HTML in comments), no emphasis, links or code spans that would change the meaning.
 */
export function escapeMd(s: string): string {
  return s
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|#~!])/g, '\\$1');
}

/** A key as Markdown inline code; keys match `[A-Za-z0-9._~:@/+-]`, anything else is escaped. */
export function mdKey(k: string): string {
  return /^[A-Za-z0-9._~:@/+-]+$/.test(k) ? `\`${k}\`` : escapeMd(k);
}

/** Shortens to `max` characters (by code point), with an ellipsis. */
export function truncate(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/** A probability-like number (C, K) with 3 decimals; em dash for null. */
export function fmtP(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  if (x > 0 && x < 0.001) return x.toExponential(1);
  return x.toFixed(3);
}

/** A metric value with 6 significant digits, trailing zeros trimmed. */
export function fmtV(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e6 || a < 1e-4)) return x.toExponential(3);
  return String(Number(x.toPrecision(6)));
}

/** Integers with thousands separators (locale-independent). */
export function fmtInt(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Minutes with one decimal. */
export function fmtMin(x: number): string {
  return x.toFixed(x >= 100 ? 0 : 1);
}

/** ISO timestamp as `YYYY-MM-DD HH:MM` UTC. */
export function fmtTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 16).replace('T', ' ')}Z`;
}

/** Number for SVG coordinates: at most 1 decimal. */
export const num = (x: number): string => String(Math.round(x * 10) / 10);

const RED: Rgb = [215, 48, 39];
const AMBER: Rgb = [245, 166, 35];
const GREEN: Rgb = [26, 152, 80];
type Rgb = [number, number, number];

/** Colour of K: red at 0, amber at the threshold, green at 1; grey when unknown. */
export function kColour(k: number | null, threshold: number): string {
  if (k === null || !Number.isFinite(k)) return '#c4c8ce';
  const t = Math.min(1, Math.max(0, k));
  const thr = Math.min(0.99, Math.max(0.01, threshold));
  const [a, b, f] = t < thr ? [RED, AMBER, t / thr] : [AMBER, GREEN, (t - thr) / (1 - thr)];
  const c = a.map((v, i) => Math.round(v + (b[i] - v) * f));
  return `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}
