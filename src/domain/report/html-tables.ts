/** HTML sections of the report that are tables and lists. All user text is escaped here. */
import { escapeHtml, fmtInt, fmtP, fmtTime, fmtV, truncate } from './format.js';
import type { GatedBy, ReportModel, ReproductionRow } from './types.js';

const e = escapeHtml;
const code = (k: string) => `<code>${e(k)}</code>`;

/** Main-chain steps (most recent first when there are many). */
export function chainTable(m: ReportModel, maxRows = 300): string {
  const steps = m.mainChain.steps;
  if (steps.length === 0) return '';
  const shown = steps.length > maxRows ? steps.slice(steps.length - maxRows) : steps;
  const rows = shown.map((s) => {
    const r = s.reproduced;
    const tally = r ? `${r.runs - r.failed}/${r.runs} ran${r.beat === null || r.beat === undefined ? '' : `, ${r.beat} beat premise`}` : '';
    const rep = r ? `${fmtV(r.mean)} <span class="dim">[${fmtV(r.min)}–${fmtV(r.max)}] ${tally}</span>` : '<span class="dim">—</span>';
    const flags = `${s.anchored ? '<span class="tag anchor">anchor</span>' : ''}${s.gated ? `<span class="tag gated">gated</span> <span class="why">${gatedByHtml(s.gatedBy ?? null, s.key, m.project.threshold)}</span>` : ''}`;
    return `<tr><td class="r">${s.step}</td><td>${code(s.key)}</td><td class="desc">${e(truncate(s.description ?? '', 160))}</td><td class="r">${fmtV(s.value)}</td><td class="r">${rep}</td><td class="r">${fmtP(s.confidence)}</td><td class="r">${kCell(s.compounded, m.project.threshold)}</td><td>${flags}</td></tr>`;
  });
  const note = steps.length > maxRows ? `<p class="note">Showing the last ${maxRows} of ${fmtInt(m.mainChain.length)} steps.</p>` : '';
  return `<details${steps.length <= 60 ? ' open' : ''}><summary>Main-chain steps (${fmtInt(steps.length)})</summary>${note}<div class="scroll"><table><thead><tr><th class="r">step</th><th>experiment</th><th>description</th><th class="r">claimed</th><th class="r">reproduced</th><th class="r">C</th><th class="r">K</th><th>gate</th></tr></thead><tbody>${rows.join('')}</tbody></table></div></details>`;
}

/** Why a main-chain step is gated, in words: the hard gate (and whose), or the weakest link. */
export function gatedByText(g: GatedBy | null, key: string, thr: number, k: (s: string) => string = (x) => x): string {
  if (g === null || g.kind === 'below_threshold') return `K below ${thr}`;
  if (g.kind === 'hard_gate') return g.key === key ? `hard gate ${k(g.code)}` : `premise ${k(g.key)} hard-gated (${k(g.code)})`;
  return `weakest link ${k(g.key)}, C ${fmtP(g.confidence)}`;
}

const gatedByHtml = (g: GatedBy | null, key: string, thr: number) => gatedByText(g, key, thr, code);

function kCell(k: number | null, thr: number): string {
  if (k === null) return '—';
  return `<span class="${k < thr ? 'bad' : 'good'}">${fmtP(k)}</span>`;
}

const REASON_TEXT: Record<string, (thr: number) => string> = {
  below_threshold: (thr) => `K below ${thr}`,
  premise_hard_gated: () => 'built on a hard-gated premise',
  discard: () => 'a discard (never a premise)',
  crash: () => 'a crash',
  unknown: () => 'status unknown',
  unknown_status: () => 'status unknown',
  protected_path: () => 'changes a protected path',
};

/** Why a source is gated, in words. */
export function reasonText(reason: string, thr: number): string {
  return REASON_TEXT[reason]?.(thr) ?? `hard gate ${reason}`;
}

/** Where contamination starts, each with its path (abbreviated in the middle when long). */
export function contaminationList(m: ReportModel): string {
  const c = m.contamination;
  if (c.paths.length === 0) return '<p class="ok">No contamination: nothing kept was built on a gated premise.</p>';
  const items = c.paths.map((p) => {
    const keys = p.path.map(code);
    if (p.pathLength > p.path.length) keys.splice(Math.floor(p.path.length / 2), 0, `<span class="dim">… ${fmtInt(p.pathLength - p.path.length)} more …</span>`);
    return `<li><div>${code(p.source)} <span class="dim">(${e(p.status)}, K ${fmtP(p.compounded)})</span> is gated (${e(reasonText(p.reason, m.project.threshold))}), yet <b>${fmtInt(p.affected)}</b> kept experiment${p.affected === 1 ? ' was' : 's were'} built on it before the gate passed again:</div><div class="path">${keys.join(' <span class="arrow">→</span> ')}</div></li>`;
  });
  const more = c.total > c.paths.length ? `<p class="note">${fmtInt(c.total - c.paths.length)} more sources not listed.</p>` : '';
  return `<ol class="contam">${items.join('')}</ol>${more}`;
}

/** The most recent gate calls, newest first. */
export function gateTable(m: ReportModel): string {
  const g = m.gateDecisions;
  if (g.items.length === 0) return '<p class="note">No gate calls recorded yet.</p>';
  const rows = g.items.map(
    (d) =>
      `<tr><td class="nw">${e(fmtTime(d.createdAt))}</td><td>${code(d.experiment)}</td><td><span class="dec ${e(d.decision)}">${e(d.decision)}</span></td><td class="r">${fmtP(d.compounded)}</td><td class="r">${d.threshold ?? '—'}</td><td>${e(d.caller ?? '—')}</td><td class="desc">${e(truncate(d.reason ?? '', 180))}</td></tr>`,
  );
  const note = g.total > g.items.length ? `<p class="note">The ${g.items.length} most recent of ${fmtInt(g.total)} gate calls.</p>` : '';
  return `${note}<div class="scroll"><table><thead><tr><th>when (UTC)</th><th>experiment</th><th>decision</th><th class="r">K</th><th class="r">threshold</th><th>caller</th><th>reason</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

/** A run passes only when it beat its premise's level; one that ran and did not is no "✓ reproduced". */
function outcomeHtml(x: ReproductionRow): string {
  const level = x.premiseLevel === null || x.premiseLevel === undefined ? '' : ` premise level ${fmtV(x.premiseLevel)}`;
  switch (x.outcome ?? (x.value === null ? 'failed' : 'ran')) {
    case 'reproduced':
      return `<span class="good" title="beat the${level}">✓ reproduced</span>`;
    case 'not_better':
      return `<span class="bad">✗ not better</span> <span class="dim">(${level.trim()})</span>`;
    case 'ran':
      return '<span class="dim">ran (no premise to beat)</span>';
    default:
      return '<span class="bad">✗ failed</span>';
  }
}

/** The most recent reproductions, newest first. */
export function reproductionTable(m: ReportModel): string {
  const r = m.reproductions;
  if (r.items.length === 0) return '<p class="note">No reproductions yet.</p>';
  const rows = r.items.map(
    (x) =>
      `<tr><td class="nw">${e(fmtTime(x.createdAt))}</td><td>${code(x.experiment)}</td><td class="r">${x.seed}</td><td class="r">${fmtV(x.value)}</td><td>${outcomeHtml(x)}</td><td>${e(x.runner ?? '—')}</td><td class="r">${x.durationS === null ? '—' : (x.durationS / 60).toFixed(1)}</td><td class="desc">${e(truncate(x.error ?? '', 120))}</td></tr>`,
  );
  const note = r.total > r.items.length ? `<p class="note">The ${r.items.length} most recent of ${fmtInt(r.total)} reproductions.</p>` : '';
  return `${note}<div class="scroll"><table><thead><tr><th>when (UTC)</th><th>experiment</th><th class="r">seed</th><th class="r">value</th><th>outcome</th><th>runner</th><th class="r">GPU min</th><th>error</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}
