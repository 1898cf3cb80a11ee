/**
 * The project index (`GET /` for a browser): one line per project the caller may read, with a
 * link to its report. Self-contained like the report (its stylesheet, no scripts, nothing
 * fetched); it reloads itself while any listed project has reproductions pending.
 */
import { escapeHtml, fmtInt, fmtMin, fmtP, fmtTime, fmtV } from './format.js';
import { CSS, REFRESH_S, refreshMeta } from './html.js';
import type { Direction } from '../types.js';

export interface ProjectIndexEntry {
  name: string;
  metric: { name: string; direction: Direction };
  threshold: number;
  /** Experiments of the latest log. */
  experiments: number;
  /** The latest kept experiment (by seq: the main chain's head), its K and its latest gate call. */
  latestKeep: {
    key: string;
    value: number | null;
    compounded: number | null;
    /** K < threshold or a hard gate (own or inherited), as the report counts it. */
    gated: boolean;
    decision: { decision: string; compounded: number | null; createdAt: string } | null;
  } | null;
  /** Keeps with K < threshold or a hard gate. */
  gatedKeeps: number;
  /** Reproduction jobs queued or running. */
  pendingReproductions: number;
  /** Finished reproductions. */
  reproductions: number;
  /** Sum of reproduction durations, minutes. */
  gpuMinutes: number;
  /** Path of the project's HTML report. */
  report: string;
}

export interface ProjectIndex {
  generatedAt: string;
  items: ProjectIndexEntry[];
  /** More projects are readable than listed (the index shows the first by name). */
  truncated: boolean;
}

/** Path of a project's HTML report. */
export const reportPath = (project: string): string => `/v1/projects/${encodeURIComponent(project)}/report?format=html`;

const e = escapeHtml;

function row(p: ProjectIndexEntry): string {
  const k = p.latestKeep;
  const kCell = k === null || k.compounded === null ? '—' : `<span class="${k.gated ? 'bad' : 'good'}">${fmtP(k.compounded)}</span>`;
  const dec = k?.decision
    ? `<span class="dec ${e(k.decision.decision)}">${e(k.decision.decision)}</span> <span class="dim">${e(fmtTime(k.decision.createdAt))}</span>`
    : `<span class="dim">${k ? 'not gated yet' : '—'}</span>`;
  const keep = k ? `<code>${e(k.key)}</code> <span class="dim">${fmtV(k.value)}</span>${k.gated ? ' <span class="tag gated">gated</span>' : ''}` : '<span class="dim">no keep yet</span>';
  const pending = p.pendingReproductions > 0 ? `<b>${fmtInt(p.pendingReproductions)}</b>` : '0';
  return `<tr data-project="${e(p.name)}"><td><a class="proj" href="${e(p.report)}">${e(p.name)}</a><div class="dim">${e(p.metric.name)} (${e(p.metric.direction)}) · threshold ${p.threshold}</div></td><td class="r">${fmtInt(p.experiments)}</td><td>${keep}</td><td class="r">${kCell}</td><td class="nw">${dec}</td><td class="r">${p.gatedKeeps > 0 ? `<span class="bad">${fmtInt(p.gatedKeeps)}</span>` : '0'}</td><td class="r pending">${pending}</td><td class="r">${fmtInt(p.reproductions)}</td><td class="r">${fmtMin(p.gpuMinutes)}</td><td class="nw"><a href="${e(p.report)}">report →</a></td></tr>`;
}

/** The index page. Pure: same index, same bytes. */
export function renderIndexHtml(ix: ProjectIndex): string {
  const pending = ix.items.reduce((n, p) => n + p.pendingReproductions, 0);
  const body =
    ix.items.length === 0
      ? '<p class="note">No projects this token may read yet. Create one with <code>ecv ingest results.tsv --project NAME</code> or <code>POST /v1/projects</code>.</p>'
      : `<div class="scroll"><table id="projects"><thead><tr><th>project</th><th class="r">experiments</th><th>latest keep</th><th class="r">K</th><th>its gate decision</th><th class="r">gated keeps</th><th class="r">pending reproductions</th><th class="r">reproductions</th><th class="r">GPU min</th><th></th></tr></thead><tbody>${ix.items.map(row).join('')}</tbody></table></div>`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
${refreshMeta(pending)}<title>ECV — projects</title><link rel="icon" href="data:,"><style>${CSS}a{color:var(--accent)}a.proj{font-weight:600;white-space:nowrap}#projects td.r,#projects td.nw{white-space:nowrap}</style></head>
<body><main>
<header><h1>ECV — projects</h1><div class="sub">${fmtInt(ix.items.length)} project${ix.items.length === 1 ? '' : 's'}${ix.truncated ? ' (the first by name; more exist)' : ''} · generated ${e(fmtTime(ix.generatedAt))} · <a href="/docs">API</a> · <a href="/openapi.json">OpenAPI</a></div>
${pending > 0 ? `<p class="note" id="pending">${fmtInt(pending)} reproduction(s) queued or running: this page reloads every ${REFRESH_S} s until they finish.</p>` : ''}</header>
<section id="index"><h2>Projects</h2>
<p class="note">Per project: the latest kept experiment (the main chain's head), its compounded confidence K (red: below the gate threshold or hard-gated) and its latest gate decision; keeps that fail the gate; reproductions queued or running, finished, and the GPU minutes they took.</p>
${body}</section>
<footer>ECV — epistemic cascade validation</footer>
</main></body></html>
`;
}
