import { assembleReport, DEFAULT_MAX_NODES, planReport, renderHtml, renderMarkdown, type ReportModel } from '../domain/report/index.js';
import { absentCount, descriptionsOf, pendingReproductions, recentGateDecisions, recentReproductions, reportNodes, reproductionStats } from '../db/report.repository.js';
import { getProject } from './projects.service.js';
import type { Deps } from './deps.js';

export type ReportFormat = 'json' | 'html' | 'md';

export interface ReportOptions {
  /** Most experiments drawn in the DAG (default 1500). */
  maxNodes?: number;
  /** Gate calls listed (default 50). */
  gateLimit?: number;
  /** Reproductions listed (default 100). */
  reproductionLimit?: number;
  /** Timestamp printed on the report (default now). */
  now?: Date;
}

/**
 * The audit report model of a project (SPEC §10). Reads the structure of every experiment
 * without text, plans what to show, then reads descriptions only for that; everything else
 * is aggregated or limited in SQL.
 */
export async function buildReport(deps: Deps, projectName: string, opts: ReportOptions = {}): Promise<ReportModel> {
  const project = await getProject(deps, projectName);
  const db = deps.db.db;
  const cfg = project.config;
  const nodes = await reportNodes(db, project.id);
  const plan = planReport(nodes, { threshold: cfg.threshold, maxNodes: opts.maxNodes ?? DEFAULT_MAX_NODES });
  const [descriptions, reps, recent, gates, absent, pending] = await Promise.all([
    descriptionsOf(db, project.id, plan.detailKeys),
    reproductionStats(db, project.id, cfg.metric.direction === 'minimize' ? -1 : 1),
    recentReproductions(db, project.id, opts.reproductionLimit ?? 100),
    recentGateDecisions(db, project.id, opts.gateLimit ?? 50),
    absentCount(db, project.id),
    pendingReproductions(db, project.id),
  ]);
  return assembleReport(plan, {
    generatedAt: (opts.now ?? new Date()).toISOString(),
    project: { name: cfg.name, metric: cfg.metric },
    descriptions,
    reproductionStats: reps.byKey,
    reproductionTotals: reps.totals,
    recentReproductions: recent,
    gateDecisions: gates,
    absent,
    pending,
  });
}

/** The report rendered in one of its three forms. */
export async function renderReport(deps: Deps, projectName: string, format: ReportFormat, opts: ReportOptions = {}): Promise<ReportModel | string> {
  const model = await buildReport(deps, projectName, opts);
  if (format === 'html') return renderHtml(model);
  if (format === 'md') return renderMarkdown(model);
  return model;
}
