/**
 * The report as Markdown short enough for a pull-request comment (≤ ~60 lines): key figures,
 * the gated part of the main chain, where contamination starts, and the latest gate calls.
 */
import { escapeMd, fmtInt, fmtMin, fmtP, fmtTime, fmtV, mdKey, truncate } from './format.js';
import { gatedByText, reasonText } from './html-tables.js';
import type { ChainStep, ReportModel } from './types.js';

export interface MarkdownOptions {
  /** Gated chain rows at most (the first and last halves when more). */
  chainRows?: number;
  contaminationRows?: number;
  gateRows?: number;
}

/** Renders the Markdown summary. Pure. */
export function renderMarkdown(m: ReportModel, opts: MarkdownOptions = {}): string {
  const chainRows = opts.chainRows ?? 12;
  const s = m.summary;
  const thr = m.project.threshold;
  const L: string[] = [];
  L.push(`## ECV audit report: ${mdKey(m.project.name)}`, '');
  L.push(
    `${escapeMd(m.project.metric.name)} (${m.project.metric.direction === 'minimize' ? 'lower is better' : 'higher is better'}) · gate threshold ${thr} · generated ${escapeMd(fmtTime(m.generatedAt))}`,
    '',
  );
  L.push('| experiments | keep | discard | crash | unknown | gated keeps | anchored | reproductions | GPU min |');
  L.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  L.push(
    `| ${fmtInt(s.experiments)} | ${fmtInt(s.byStatus.keep)} | ${fmtInt(s.byStatus.discard)} | ${fmtInt(s.byStatus.crash)} | ${fmtInt(s.byStatus.unknown)} | ${fmtInt(s.gated)} | ${fmtInt(s.anchored)} | ${fmtInt(s.reproductions)}${s.reproductionsFailed ? ` (${fmtInt(s.reproductionsFailed)} failed)` : ''} | ${fmtMin(s.gpuMinutes)} |`,
    '',
  );
  if (s.absent > 0) L.push(`${fmtInt(s.absent)} earlier row(s) are no longer in the latest results.tsv: kept as history, not counted or scored.`, '');

  const steps = m.mainChain.steps;
  if (s.head === null || steps.length === 0) {
    L.push('No kept experiments yet: no main chain.');
  } else {
    const root = steps[0];
    const head = steps[steps.length - 1];
    const pass = head.compounded !== null && head.compounded >= thr && !head.gated;
    L.push(
      `**Main chain:** ${fmtInt(s.chainLength)} steps, ${m.mainChain.elided ? `(first ${fmtInt(m.mainChain.elided)} elided) ` : `root ${mdKey(root.key)} (${fmtV(root.value)}) → `}head ${mdKey(head.key)} (${fmtV(head.value)}); head K = ${fmtP(head.compounded)} ${pass ? '✅ passes the gate' : '❌ gated'}.`,
      '',
    );
    const gated = steps.filter((x) => x.gated);
    L.push('### Gated main chain', '');
    if (gated.length === 0) {
      L.push(`Every main-chain step passes the gate (K ≥ ${thr}).`);
    } else {
      const of = m.mainChain.elided ? `the last ${fmtInt(steps.length)} steps` : `${fmtInt(steps.length)} steps`;
      L.push(`${fmtInt(gated.length)} of ${of} fail the gate (K < ${thr} or a hard gate); the first is step ${gated[0].step} ${mdKey(gated[0].key)}.`, '');
      L.push('| step | experiment | claimed | reproduced | C | K | gated by | description |', '|---:|---|---:|---:|---:|---:|---|---|');
      const row = (x: ChainStep) => {
        const r = x.reproduced;
        const beat = r && r.beat !== null && r.beat !== undefined ? `, ${r.beat} beat premise` : '';
        const rep = r && r.mean !== null ? `${fmtV(r.mean)} (${r.runs - r.failed}/${r.runs} ran${beat})` : r ? `0/${r.runs} ran` : '—';
        return `| ${x.step} | ${mdKey(x.key)}${x.anchored ? ' ⚓' : ''} | ${fmtV(x.value)} | ${rep} | ${fmtP(x.confidence)} | ${fmtP(x.compounded)} | ${gatedByText(x.gatedBy ?? null, x.key, thr, mdKey)} | ${escapeMd(truncate(x.description ?? '', 60))} |`;
      };
      if (gated.length <= chainRows) L.push(...gated.map(row));
      else {
        const first = Math.ceil(chainRows / 2);
        const tail = chainRows - first;
        L.push(...gated.slice(0, first).map(row), `| … | *${fmtInt(gated.length - chainRows)} more gated steps* | | | | | | |`, ...gated.slice(gated.length - tail).map(row));
      }
    }
  }

  const c = m.contamination;
  L.push('', '### Contamination', '');
  if (c.paths.length === 0) L.push('None: nothing kept was built on a gated premise.');
  else {
    for (const p of c.paths.slice(0, opts.contaminationRows ?? 5)) {
      const path =
        p.pathLength <= 4 ? p.path.map(mdKey).join(' → ') : `${mdKey(p.path[0])} → ${mdKey(p.path[1])} → … → ${mdKey(p.path[p.path.length - 1])} (${fmtInt(p.pathLength)} steps)`;
      const why = p.reason === 'below_threshold' ? `K ${fmtP(p.compounded)} < ${thr}` : `${escapeMd(reasonText(p.reason, thr))}, K ${fmtP(p.compounded)}`;
      L.push(`- ${mdKey(p.source)} (${why}): ${fmtInt(p.affected)} kept built on it — ${path}`);
    }
    const rest = c.total - Math.min(c.paths.length, opts.contaminationRows ?? 5);
    if (rest > 0) L.push(`- … and ${fmtInt(rest)} more`);
  }

  const g = m.gateDecisions.items.slice(0, opts.gateRows ?? 5);
  L.push('', `### Recent gate decisions (${fmtInt(m.gateDecisions.total)} in all)`, '');
  if (g.length === 0) L.push('None recorded.');
  else {
    L.push('| when (UTC) | experiment | decision | K |', '|---|---|---|---:|');
    for (const d of g) L.push(`| ${escapeMd(fmtTime(d.createdAt))} | ${mdKey(d.experiment)} | ${escapeMd(d.decision)} | ${fmtP(d.compounded)} |`);
  }
  L.push('', `<sub>Full report with the premise graph: \`ecv report --format html --out report.html\`</sub>`);
  return `${L.join('\n')}\n`;
}
