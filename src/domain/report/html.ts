/**
 * The report as one self-contained HTML page: inline CSS and SVG, system fonts, no scripts
 * and nothing fetched from anywhere (the route also sends a CSP that forbids it).
 */
import { renderDagLegend, renderDagSvg } from './dag-svg.js';
import { escapeHtml, fmtInt, fmtMin, fmtP, fmtTime } from './format.js';
import { chainTable, contaminationList, gateTable, reproductionTable } from './html-tables.js';
import { renderChainPlot } from './plot.js';
import type { ReportModel } from './types.js';

/** The report's stylesheet; the project index reuses it. */
export const CSS = `
:root{--fg:#1f2328;--dim:#656d76;--line:#d0d7de;--bg:#f6f8fa;--card:#fff;--bad:#c62828;--good:#1a7f37;--accent:#1d4ed8}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1180px;margin:0 auto;padding:20px 22px 40px}
header h1{font-size:22px;margin:0 0 2px}header .sub{color:var(--dim)}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px;margin:14px 0}
h2{font-size:16px;margin:0 0 8px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(118px,1fr));gap:8px;margin:14px 0}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px 10px}
.card .v{font-size:22px;font-weight:600;font-variant-numeric:tabular-nums}.card .l{color:var(--dim);font-size:12px}
.card.keep .v{color:var(--good)}.card.gated .v,.card.crash .v{color:var(--bad)}.card.anchor .v{color:var(--accent)}
.headline{margin:6px 0 0;color:var(--fg)}
.note{color:var(--dim);font-size:13px;margin:4px 0}.dim{color:var(--dim)}.ok{color:var(--good)}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;align-items:center;font-size:12px;color:var(--dim);margin:2px 0 6px}
.legend .li{display:inline-flex;align-items:center;gap:4px}
.scroll{overflow:auto;max-width:100%}
.dagbox{overflow:auto;max-height:760px;border:1px solid var(--line);border-radius:6px;background:#fcfcfd}
svg text{font-family:inherit}
#dag .e{stroke:#b6bec8;stroke-width:1.3}#dag .e.chain{stroke:#7d8793;stroke-width:2.2}#dag .e.extra{stroke-dasharray:3 2;stroke:#94a3b8}
#dag .n circle{stroke:#fff;stroke-width:1.5}#dag .n .ring{fill:none;stroke:#1d4ed8;stroke-width:2}
#dag .n .x{stroke:#fff;stroke-width:2;stroke-linecap:round}
#dag .n:hover circle:first-of-type,#dag .n:hover rect{stroke:#111;stroke-width:2}#dag .m:hover{stroke:#111}
#dag .tick{font-size:10px;fill:var(--dim)}#dag .more{font-size:9px;fill:var(--dim)}
#chain-plot .grid{stroke:#eceff2}#chain-plot .ax{font-size:11px;fill:var(--dim)}#chain-plot .axl{font-size:12px;fill:var(--fg)}
#chain-plot .claimed{fill:none;stroke:#1d4ed8;stroke-width:2}#chain-plot .cl{fill:#1d4ed8}
#chain-plot .rep line{stroke:#e8590c;stroke-width:1.6}#chain-plot .repm{fill:#e8590c;stroke:#fff;stroke-width:1}
#chain-plot .kline{fill:none;stroke:#334155;stroke-width:1.8}#chain-plot .cline{fill:none;stroke:#94a3b8;stroke-width:1.2;stroke-dasharray:4 3}
#chain-plot .kp{stroke:#fff;stroke-width:1}#chain-plot .ring{fill:none;stroke:#1d4ed8;stroke-width:1.8}
#chain-plot .thr{stroke:var(--bad);stroke-dasharray:6 4;stroke-width:1.3}#chain-plot .thrl{font-size:11px;fill:var(--bad)}
.sw{display:inline-block;width:18px;height:0;border-top:2px solid;vertical-align:middle;margin-right:4px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:4px 8px;border-bottom:1px solid #eaeef2;text-align:left;vertical-align:top}
th{font-weight:600;color:var(--dim);background:#fafbfc;position:sticky;top:0}td.r,th.r{text-align:right;font-variant-numeric:tabular-nums}
td.desc{max-width:460px;overflow-wrap:anywhere}td.nw{white-space:nowrap}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#eff2f5;border-radius:4px;padding:1px 4px}
.tag{font-size:11px;border-radius:10px;padding:0 6px;margin-right:3px}.tag.anchor{background:#dbeafe;color:#1e40af}.tag.gated{background:#fde2e1;color:#9f1c1c}
.bad{color:var(--bad)}.good{color:var(--good)}
.dec{font-size:12px;font-weight:600;border-radius:10px;padding:1px 8px}.dec.accept{background:#dcfce7;color:#166534}.dec.reject{background:#fde2e1;color:#9f1c1c}.dec.reanchor{background:#fef3c7;color:#92400e}
.contam li{margin:0 0 10px}.path{margin-top:4px;line-height:2}.path .arrow{color:var(--dim);margin:0 3px}
details summary{cursor:pointer;font-weight:600;margin:10px 0 6px}
td .why{font-size:12px;color:var(--dim)}
footer{color:var(--dim);font-size:12px;text-align:center;margin-top:18px}
`;

/** Seconds between reloads of a page while reproductions are pending. */
export const REFRESH_S = 15;

/**
 * A `<meta http-equiv="refresh">` while reproduction jobs are queued or running, so an open page
 * follows them without a script (the CSP allows none); nothing once they are done.
 */
export function refreshMeta(pending: number): string {
  return pending > 0 ? `<meta http-equiv="refresh" content="${REFRESH_S}">` : '';
}

function card(value: string, label: string, cls = '', hint = ''): string {
  return `<div class="card ${cls}"${hint ? ` title="${hint}"` : ''}><div class="v">${value}</div><div class="l">${label}</div></div>`;
}

/** The report page. Pure: same model, same bytes. */
export function renderHtml(m: ReportModel): string {
  const e = escapeHtml;
  const s = m.summary;
  const thr = m.project.threshold;
  const name = e(m.project.name);
  const metric = `${e(m.project.metric.name)} (${e(m.project.metric.direction)})`;
  const headline =
    s.head === null
      ? 'No kept experiments yet.'
      : `Main chain: <b>${fmtInt(s.chainLength)}</b> kept step${s.chainLength === 1 ? '' : 's'} from the root to <code>${e(s.head)}</code>, whose compounded confidence is <b class="${s.headCompounded !== null && s.headCompounded >= thr ? 'good' : 'bad'}">K = ${fmtP(s.headCompounded)}</b> (gate threshold ${thr}).`;
  const d = m.dag;
  const el = d.elidedByStatus;
  const elided =
    d.elided === 0
      ? `All ${fmtInt(d.total)} experiments drawn.`
      : `Drawn: ${fmtInt(d.drawn)} of ${fmtInt(d.total)} experiments (the main chain${m.mainChain.elided ? `'s last ${fmtInt(m.mainChain.steps.length)} steps` : ''}, then the most recent and lowest-K others; at most ${fmtInt(d.maxNodes)}). Elided: ${fmtInt(d.elided)} — ${fmtInt(el.keep)} keep, ${fmtInt(el.discard)} discard, ${fmtInt(el.crash)} crash, ${fmtInt(el.unknown)} unknown; "+n" under a node counts its undrawn discards and crashes.`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
${refreshMeta(s.pendingReproductions ?? 0)}<title>ECV report — ${name}</title><link rel="icon" href="data:,"><style>${CSS}</style></head>
<body><main>
<header><h1>Audit report — ${name}</h1><div class="sub">metric ${metric} · gate threshold ${thr} · generated ${e(fmtTime(m.generatedAt))}</div>
<p class="headline">${headline}</p>${s.pendingReproductions ? `<p class="note" id="pending">${fmtInt(s.pendingReproductions)} reproduction(s) queued or running: this page reloads every ${REFRESH_S} s until they finish.</p>` : ''}</header>
<div class="cards">
${card(fmtInt(s.experiments), 'experiments')}${card(fmtInt(s.byStatus.keep), 'keep', 'keep')}${card(fmtInt(s.byStatus.discard), 'discard')}${card(fmtInt(s.byStatus.crash), 'crash', 'crash')}${card(fmtInt(s.byStatus.unknown), 'unknown')}
${card(fmtInt(s.gated), 'gated keeps', 'gated', `K &lt; ${thr} or hard gate`)}${card(fmtInt(s.anchored), 'anchored', 'anchor')}${card(fmtInt(s.reproductions), `reproductions${s.reproductionsFailed ? ` (${fmtInt(s.reproductionsFailed)} failed)` : ''}`)}${card(fmtMin(s.gpuMinutes), 'GPU minutes')}
</div>${s.absent > 0 ? `<p class="note">${fmtInt(s.absent)} earlier row(s) are no longer in the latest results.tsv: kept as history, not counted or scored.</p>` : ''}
<section id="dag-section"><h2>Premise graph</h2>
<p class="note">Main chain left to right (step numbers below); discards and crashes are the small marks under the premise they were tried on; other kept branches run on lanes above. Hover for key, description, C and K.</p>
${renderDagLegend(thr)}
<div class="dagbox">${renderDagSvg(m)}</div>
<p class="note">${elided}</p></section>
<section id="chain"><h2>Main chain: claimed vs reproduced, and confidence</h2>
<div class="legend"><span class="li"><span class="sw" style="border-color:#1d4ed8"></span>claimed ${e(m.project.metric.name)}</span><span class="li"><span style="color:#e8590c">◆</span> reproduced mean, bar = min–max</span><span class="li"><span class="sw" style="border-color:#334155"></span>K (compounded)</span><span class="li"><span class="sw" style="border-color:#94a3b8;border-top-style:dashed"></span>C (own)</span><span class="li"><span class="sw" style="border-color:#c62828;border-top-style:dashed"></span>threshold</span></div>
${renderChainPlot(m)}
${m.mainChain.elided ? `<p class="note">The first ${fmtInt(m.mainChain.elided)} steps are elided.</p>` : ''}
${chainTable(m)}</section>
<section id="contamination"><h2>Contamination paths</h2>
<p class="note">Where kept work was built on a premise that fails the gate (K &lt; ${thr}, or a hard gate). Each entry is where contamination starts, with the path to the latest kept experiment standing on it.</p>
${contaminationList(m)}</section>
<section id="gates"><h2>Gate decisions</h2>${gateTable(m)}</section>
<section id="reproductions"><h2>Reproductions</h2><p class="note">${fmtInt(s.reproductions)} runs on ${fmtInt(s.reproducedExperiments)} experiments, ${fmtMin(s.gpuMinutes)} GPU minutes.</p>${reproductionTable(m)}</section>
<footer>ECV — epistemic cascade validation · report format v${m.version}</footer>
</main></body></html>
`;
}
