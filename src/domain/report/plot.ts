/**
 * The main chain as two stacked panels sharing the x axis (chain step): the claimed metric
 * with the reproduced mean and its min–max spread, and below it C and K with the threshold.
 */
import { escapeHtml, fmtP, fmtV, kColour, num, truncate } from './format.js';
import type { ChainStep, ReportModel } from './types.js';

const W = 1100;
const LEFT = 64;
const RIGHT = 20;
const TOP_H = 230;
const GAP = 34;
const BOT_H = 130;
const TOP = 12;

/** Up to ~6 round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** `<svg id="chain-plot">`, or a note when there is nothing to plot. */
export function renderChainPlot(m: ReportModel): string {
  const steps = m.mainChain.steps;
  if (steps.length === 0) return '<p class="note">No kept experiments yet: no main chain to plot.</p>';
  const thr = m.project.threshold;
  const values: number[] = [];
  for (const s of steps) {
    if (s.value !== null && Number.isFinite(s.value)) values.push(s.value);
    for (const v of [s.reproduced?.min, s.reproduced?.max]) if (v !== null && v !== undefined && Number.isFinite(v)) values.push(v);
  }
  let lo = values.length ? Math.min(...values) : 0;
  let hi = values.length ? Math.max(...values) : 1;
  if (hi - lo < 1e-12) {
    const pad = Math.abs(hi) * 0.01 || 1;
    lo -= pad;
    hi += pad;
  }
  const padV = (hi - lo) * 0.06;
  lo -= padV;
  hi += padV;
  const plotW = W - LEFT - RIGHT;
  const first = steps[0].step;
  const span = Math.max(1, steps[steps.length - 1].step - first);
  const x = (s: ChainStep) => LEFT + (steps.length === 1 ? plotW / 2 : ((s.step - first) / span) * plotW);
  const yV = (v: number) => TOP + TOP_H - ((v - lo) / (hi - lo)) * TOP_H;
  const botTop = TOP + TOP_H + GAP;
  const yK = (k: number) => botTop + BOT_H - Math.min(1, Math.max(0, k)) * BOT_H;
  const H = botTop + BOT_H + 34;
  const markers = steps.length <= 400;
  const o: string[] = [];
  o.push(`<svg id="chain-plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="Main chain: claimed and reproduced ${escapeHtml(m.project.metric.name)}, C and K per step">`);

  // Axes and grid.
  const dirNote = m.project.metric.direction === 'minimize' ? 'lower is better' : 'higher is better';
  for (const t of niceTicks(lo, hi)) {
    o.push(`<line class="grid" x1="${LEFT}" x2="${W - RIGHT}" y1="${num(yV(t))}" y2="${num(yV(t))}"/>`);
    o.push(`<text class="ax" x="${LEFT - 6}" y="${num(yV(t) + 3)}" text-anchor="end">${fmtV(t)}</text>`);
  }
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    o.push(`<line class="grid" x1="${LEFT}" x2="${W - RIGHT}" y1="${num(yK(t))}" y2="${num(yK(t))}"/>`);
    o.push(`<text class="ax" x="${LEFT - 6}" y="${num(yK(t) + 3)}" text-anchor="end">${t}</text>`);
  }
  o.push(`<text class="axl" transform="translate(14,${num(TOP + TOP_H / 2)}) rotate(-90)" text-anchor="middle">${escapeHtml(m.project.metric.name)} (${dirNote})</text>`);
  o.push(`<text class="axl" transform="translate(14,${num(botTop + BOT_H / 2)}) rotate(-90)" text-anchor="middle">confidence</text>`);
  o.push(`<line class="thr" x1="${LEFT}" x2="${W - RIGHT}" y1="${num(yK(thr))}" y2="${num(yK(thr))}"/>`);
  o.push(`<text class="thrl" x="${W - RIGHT - 2}" y="${num(yK(thr) - 4)}" text-anchor="end">threshold ${thr}</text>`);
  const every = Math.max(1, Math.ceil(steps.length / 14));
  steps.forEach((s, i) => {
    if (i % every === 0 || i === steps.length - 1) o.push(`<text class="ax" x="${num(x(s))}" y="${num(botTop + BOT_H + 16)}" text-anchor="middle">${s.step}</text>`);
  });
  o.push(`<text class="axl" x="${LEFT + plotW / 2}" y="${H - 2}" text-anchor="middle">main-chain step (root = 0)</text>`);

  // Claimed metric, reproduced spread and mean.
  o.push(`<polyline class="claimed" points="${line(steps, (s) => s.value, x, yV)}"/>`);
  for (const s of steps) {
    const r = s.reproduced;
    if (!r || r.mean === null || r.min === null || r.max === null) continue;
    const cx = num(x(s));
    o.push(`<g class="rep"><title>${escapeHtml(`${s.key}: reproduced mean ${fmtV(r.mean)} (min ${fmtV(r.min)}, max ${fmtV(r.max)}) over ${r.runs - r.failed} of ${r.runs} runs`)}</title>`);
    o.push(`<line x1="${cx}" x2="${cx}" y1="${num(yV(r.min))}" y2="${num(yV(r.max))}"/><line x1="${num(x(s) - 4)}" x2="${num(x(s) + 4)}" y1="${num(yV(r.min))}" y2="${num(yV(r.min))}"/><line x1="${num(x(s) - 4)}" x2="${num(x(s) + 4)}" y1="${num(yV(r.max))}" y2="${num(yV(r.max))}"/>`);
    const my = yV(r.mean);
    o.push(`<path class="repm" d="M${cx},${num(my - 5)}L${num(x(s) + 5)},${num(my)}L${cx},${num(my + 5)}L${num(x(s) - 5)},${num(my)}Z"/></g>`);
  }
  if (markers) {
    for (const s of steps) {
      if (s.value === null) continue;
      o.push(`<circle class="cl" cx="${num(x(s))}" cy="${num(yV(s.value))}" r="3"><title>${escapeHtml(`step ${s.step} · ${s.key}: claimed ${fmtV(s.value)}${s.description ? `\n${truncate(s.description, 200)}` : ''}`)}</title></circle>`);
    }
  }

  // C and K.
  o.push(`<polyline class="cline" points="${line(steps, (s) => s.confidence, x, yK)}"/>`);
  o.push(`<polyline class="kline" points="${line(steps, (s) => s.compounded, x, yK)}"/>`);
  if (markers) {
    for (const s of steps) {
      if (s.compounded === null) continue;
      const t = `step ${s.step} · ${s.key}: K ${fmtP(s.compounded)}, C ${fmtP(s.confidence)}${s.anchored ? ' · anchor' : ''}${s.gated ? ' · gated' : ''}`;
      o.push(`<circle class="kp" cx="${num(x(s))}" cy="${num(yK(s.compounded))}" r="3.5" fill="${kColour(s.compounded, thr)}"><title>${escapeHtml(t)}</title></circle>`);
      if (s.anchored) o.push(`<circle class="ring" cx="${num(x(s))}" cy="${num(yK(s.compounded))}" r="6.5"/>`);
    }
  }
  o.push('</svg>');
  return o.join('\n');
}

function line(steps: ChainStep[], val: (s: ChainStep) => number | null, x: (s: ChainStep) => number, y: (v: number) => number): string {
  const pts: string[] = [];
  for (const s of steps) {
    const v = val(s);
    if (v !== null && Number.isFinite(v)) pts.push(`${num(x(s))},${num(y(v))}`);
  }
  return pts.join(' ');
}
