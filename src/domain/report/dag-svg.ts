/**
 * The premise DAG as inline SVG. Every drawn experiment is exactly one element carrying
 * `data-key` (a `<g>` for chain and branch nodes, a `<rect>` for folded marks), with a
 * `<title>` tooltip: key, status, description, value, C and K.
 */
import { escapeHtml, fmtP, fmtV, kColour, num, truncate } from './format.js';
import { layoutDag } from './layout.js';
import type { DagNode, ReportModel } from './types.js';

export const STATUS_COLOUR: Record<string, string> = { discard: '#a3abb5', crash: '#3b3f45', unknown: '#b197fc' };

/** Tooltip text (escaped by the caller). */
export function nodeTitle(n: DagNode, threshold: number): string {
  const lines = [`${n.key} · ${n.status}${n.chainStep !== null ? ` · main chain step ${n.chainStep}` : ''}`];
  if (n.description) lines.push(truncate(n.description, 300));
  lines.push(`value ${fmtV(n.value)} · C ${fmtP(n.confidence)} · K ${fmtP(n.compounded)}`);
  const flags: string[] = [];
  if (n.anchored) flags.push('anchor (reproduced)');
  if (n.gated) flags.push(n.hardGate ? `gated: hard gate ${n.hardGate}` : `gated: K < ${threshold}`);
  else if (n.hardGate && n.status === 'keep') flags.push(`hard gate ${n.hardGate}`);
  if (flags.length) lines.push(flags.join(' · '));
  return lines.join('\n');
}

/** `<svg id="dag">…</svg>`, sized in pixels (the page scrolls it horizontally). */
export function renderDagSvg(m: ReportModel): string {
  const thr = m.project.threshold;
  const hidden = new Map(m.dag.hiddenLeaves.map((h) => [h.key, h.count]));
  const L = layoutDag(m.dag.nodes, hidden);
  const out: string[] = [];
  out.push(
    `<svg id="dag" xmlns="http://www.w3.org/2000/svg" width="${num(L.width)}" height="${num(L.height)}" viewBox="0 0 ${num(L.width)} ${num(L.height)}" role="img" aria-label="Premise graph: ${m.dag.drawn} of ${m.dag.total} experiments">`,
  );
  out.push('<g class="edges" fill="none">');
  for (const e of L.edges) out.push(`<path class="e ${e.kind}" d="${e.d}"/>`);
  out.push('</g>');
  for (const t of L.ticks) out.push(`<text class="tick" x="${num(t.x)}" y="${num(L.height - 4)}" text-anchor="middle">${t.label}</text>`);
  for (const x of L.more) out.push(`<text class="more" x="${num(x.x)}" y="${num(x.y)}" text-anchor="middle">+${x.count}</text>`);
  // Chain and branch nodes on top of the edges; marks last.
  const r = L.r;
  for (const p of L.nodes) {
    const n = p.node;
    const title = `<title>${escapeHtml(nodeTitle(n, thr))}</title>`;
    const attrs = `data-key="${escapeHtml(n.key)}" data-status="${escapeHtml(n.status)}"${n.gated ? ' data-gated="1"' : ''}${n.anchored ? ' data-anchor="1"' : ''}`;
    if (p.kind === 'leaf') {
      out.push(`<rect class="m" ${attrs} x="${num(p.x)}" y="${num(p.y)}" width="5" height="5" fill="${STATUS_COLOUR[n.status] ?? '#999'}">${title}</rect>`);
      continue;
    }
    const parts: string[] = [];
    if (n.status === 'keep') parts.push(`<circle r="${r}" fill="${kColour(n.compounded, thr)}"/>`);
    else parts.push(`<rect x="${-r + 1}" y="${-r + 1}" width="${2 * r - 2}" height="${2 * r - 2}" fill="${STATUS_COLOUR[n.status] ?? '#999'}"/>`);
    if (n.anchored) parts.push(`<circle class="ring" r="${r + 3}"/>`);
    if (n.gated) {
      const c = r * 0.5;
      parts.push(`<path class="x" d="M${-c},${-c}L${c},${c}M${c},${-c}L${-c},${c}"/>`);
    }
    out.push(`<g class="n ${p.kind}" ${attrs} transform="translate(${num(p.x)},${num(p.y)})">${title}${parts.join('')}</g>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

/** The legend for the DAG (outside the SVG, so `svg#dag [data-key]` counts experiments only). */
export function renderDagLegend(threshold: number): string {
  const thr = Math.min(0.99, Math.max(0.01, threshold));
  const stops = [0, thr, 1].map((o) => `<stop offset="${o}" stop-color="${kColour(o, thr)}"/>`).join('');
  const gx = 10 + thr * 140;
  return `<div class="legend">
<span class="li"><svg width="190" height="30" aria-hidden="true"><defs><linearGradient id="kgrad">${stops}</linearGradient></defs>
<rect x="10" y="4" width="140" height="10" rx="2" fill="url(#kgrad)"/><line x1="${num(gx)}" x2="${num(gx)}" y1="1" y2="17" stroke="#222" stroke-width="1.5"/>
<text x="10" y="27" font-size="9">0</text><text x="${num(gx)}" y="27" font-size="9" text-anchor="middle">${threshold}</text><text x="150" y="27" font-size="9" text-anchor="end">1</text>
<text x="156" y="13" font-size="10">K</text></svg></span>
<span class="li"><svg width="22" height="22" aria-hidden="true"><circle cx="11" cy="11" r="6" fill="${kColour(0.9, thr)}"/><circle cx="11" cy="11" r="9" fill="none" stroke="#1d4ed8" stroke-width="2"/></svg> anchor (reproduced)</span>
<span class="li"><svg width="22" height="22" aria-hidden="true"><circle cx="11" cy="11" r="7" fill="${kColour(0.2, thr)}"/><path d="M7.5,7.5L14.5,14.5M14.5,7.5L7.5,14.5" stroke="#fff" stroke-width="2"/></svg> gated (K &lt; ${threshold} or hard gate)</span>
<span class="li"><svg width="14" height="14" aria-hidden="true"><rect x="4" y="4" width="6" height="6" fill="${STATUS_COLOUR.discard}"/></svg> discard</span>
<span class="li"><svg width="14" height="14" aria-hidden="true"><rect x="4" y="4" width="6" height="6" fill="${STATUS_COLOUR.crash}"/></svg> crash</span>
<span class="li"><svg width="14" height="14" aria-hidden="true"><rect x="4" y="4" width="6" height="6" fill="${STATUS_COLOUR.unknown}"/></svg> unknown</span>
<span class="li"><svg width="30" height="14" aria-hidden="true"><path d="M2,7L28,7" stroke="#94a3b8" stroke-width="1.2" stroke-dasharray="3 2"/></svg> further premise</span>
</div>`;
}
