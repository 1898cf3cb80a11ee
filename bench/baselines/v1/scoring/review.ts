/*
 * Baseline only: ECV's first gate design (v1), copied verbatim from our own code at git commit
 * 3b67ef4 (src/domain/scoring/review.ts) so the obey-mode bench can run the previous design as a policy
 * in process after the service moved to gate v2. Not used by the service; do not edit except
 * to keep it compiling.
 */
/**
 * LLM code review → shift of Q (SPEC §3 "Code quality Q", §9). Pure: the review arrives as data
 * (validated by src/llm), the shift and its reasons go to scoreExperiment, which clamps it to
 * [REVIEW_MIN, REVIEW_MAX] again. Table and rationale: docs/scoring.md §3.5.
 */
import type { Reason } from '../types.js';
import { REVIEW_MAX, REVIEW_MIN } from './confidence.js';

export const REVIEW_CATEGORIES = [
  'evaluation_tampering',
  'seed_or_data_leakage',
  'scope_beyond_hypothesis',
  'bug',
  'other',
] as const;
export const REVIEW_SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export const REVIEW_RISKS = ['none', ...REVIEW_SEVERITIES] as const;

export type ReviewCategory = (typeof REVIEW_CATEGORIES)[number];
export type ReviewSeverity = (typeof REVIEW_SEVERITIES)[number];
export type ReviewRisk = (typeof REVIEW_RISKS)[number];

export interface ReviewFinding {
  category: ReviewCategory;
  severity: ReviewSeverity;
  /** Path as written in the diff; '' when the finding is not about one file. */
  file: string;
  /** Line in the new file, or null. */
  line: number | null;
  explanation: string;
}

/** What the reviewer model returns (the structured-output contract). */
export interface CodeReview {
  findings: ReviewFinding[];
  overallRisk: ReviewRisk;
  summary: string;
}

/**
 * Q shift of one finding of each severity, in Q units, for the integrity categories
 * (tampering, leakage). A critical one takes the whole downside REVIEW_MIN.
 */
export const SEVERITY_PENALTY: Readonly<Record<ReviewSeverity, number>> = Object.freeze({
  low: 0.02,
  medium: 0.08,
  high: 0.18,
  critical: -REVIEW_MIN,
});
/**
 * How much of the severity penalty a category carries: tampering with evaluation and seed or
 * data leakage fake the metric itself; a bug may or may not; scope creep only blurs what was
 * tested.
 */
export const CATEGORY_WEIGHT: Readonly<Record<ReviewCategory, number>> = Object.freeze({
  evaluation_tampering: 1,
  seed_or_data_leakage: 1,
  bug: 0.75,
  scope_beyond_hypothesis: 0.5,
  other: 0.5,
});
/** Share of each finding's penalty after the worst one (several findings add up, slowly). */
export const EXTRA_FINDING_SHARE = 0.25;
/** Share of the risk's penalty when the model rates the risk without citing any finding. */
export const UNCITED_RISK_SHARE = 0.5;
/** Shift for a clean review (no findings, risk none): small, so a fooled reviewer gains little. */
export const CLEAN_REVIEW_BONUS = REVIEW_MAX / 2;
/** Findings cited one by one in the reasons; the rest are counted. */
export const MAX_CITED_FINDINGS = 10;
const MAX_EXPLANATION_CHARS = 400;

const round = (x: number): number => Math.round(x * 1e6) / 1e6;
const clip = (s: string, n: number): string => {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
};

/** Penalty (≥ 0, Q units) of one finding before aggregation. */
export function findingPenalty(f: Pick<ReviewFinding, 'category' | 'severity'>): number {
  return SEVERITY_PENALTY[f.severity] * CATEGORY_WEIGHT[f.category];
}

function where(f: ReviewFinding): string {
  if (!f.file) return 'the change';
  return f.line !== null ? `${f.file}:${f.line}` : f.file;
}

/**
 * Maps a validated review to a Q shift in [REVIEW_MIN, REVIEW_MAX] and reasons that cite its
 * findings (`llm_review_<category>`, with file:line and the model's explanation):
 * shift = −min(|REVIEW_MIN|, worst + 0.25·Σ others), or −0.5·risk penalty when the model rates
 * a risk without findings, or +CLEAN_REVIEW_BONUS for no findings and risk none.
 */
export function reviewAdjustment(
  review: CodeReview,
  model: string,
): { adjustment: number; reasons: Reason[] } {
  const penalties = review.findings.map(findingPenalty);
  const order = penalties.map((p, i) => ({ p, i })).sort((a, b) => b.p - a.p || a.i - b.i);
  let penalty = 0;
  order.forEach(({ p }, rank) => (penalty += rank === 0 ? p : EXTRA_FINDING_SHARE * p));
  if (review.findings.length === 0 && review.overallRisk !== 'none') {
    penalty = UNCITED_RISK_SHARE * SEVERITY_PENALTY[review.overallRisk];
  }
  penalty = Math.min(-REVIEW_MIN, penalty);
  const clean = review.findings.length === 0 && review.overallRisk === 'none';
  const adjustment = round(clean ? Math.min(REVIEW_MAX, CLEAN_REVIEW_BONUS) : -penalty);

  const reasons: Reason[] = [
    {
      code: clean ? 'llm_review_clean' : 'llm_review_summary',
      message:
        `LLM review (${clip(model, 80)}): risk ${review.overallRisk}, ${review.findings.length} finding(s), Q shift ${adjustment >= 0 ? '+' : ''}${adjustment}. ${clip(review.summary, MAX_EXPLANATION_CHARS)}`.trim(),
    },
  ];
  for (const { p, i } of order.slice(0, MAX_CITED_FINDINGS)) {
    const f = review.findings[i];
    reasons.push({
      code: `llm_review_${f.category}`,
      message: `${f.severity} at ${where(f)}: ${clip(f.explanation, MAX_EXPLANATION_CHARS)} (penalty ${round(p)}).`,
    });
  }
  if (order.length > MAX_CITED_FINDINGS) {
    reasons.push({
      code: 'llm_review_more',
      message: `${order.length - MAX_CITED_FINDINGS} more finding(s) not listed.`,
    });
  }
  return { adjustment, reasons };
}
