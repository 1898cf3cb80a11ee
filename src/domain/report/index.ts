/**
 * Audit reports (SPEC §10). Pure: builds the report model from plain data and renders it as
 * HTML (self-contained, inline SVG) or Markdown; the service does the reading.
 */
export { DEFAULT_MAX_NODES, assembleReport, gatedBy, planReport, reproductionOutcome, type PlanOptions, type ReportDetails, type ReportPlan } from './build.js';
export { contaminationPaths, isGatedKeep } from './contamination.js';
export { escapeHtml, escapeMd, kColour } from './format.js';
export { renderHtml } from './html.js';
export { layoutDag } from './layout.js';
export { renderMarkdown } from './markdown.js';
export { MAX_LEAVES_PER_PREMISE, selectNodes } from './select.js';
export type * from './types.js';
export { emptyCounts } from './types.js';
export { renderIndexHtml, reportPath, type ProjectIndex, type ProjectIndexEntry } from './index-page.js';
