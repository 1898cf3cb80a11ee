import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  REVIEW_CATEGORIES,
  REVIEW_MAX,
  REVIEW_MIN,
  REVIEW_RISKS,
  REVIEW_SEVERITIES,
  reviewAdjustment,
  type CodeReview,
  type ReviewFinding,
} from '../../../src/domain/scoring/index.js';
import { parseReview } from '../../../src/llm/review-schema.js';

const finding = (over: Partial<ReviewFinding> = {}): ReviewFinding => ({
  category: 'evaluation_tampering',
  severity: 'critical',
  file: 'train.py',
  line: 42,
  explanation: 'evaluates on 10% of the validation tokens',
  ...over,
});
const review = (
  findings: ReviewFinding[],
  overallRisk: CodeReview['overallRisk'] = 'high',
): CodeReview => ({ findings, overallRisk, summary: 'summary' });

describe('reviewAdjustment', () => {
  it('gives critical evaluation tampering the whole downside, citing file:line', () => {
    const r = reviewAdjustment(review([finding()], 'critical'), 'm');
    expect(r.adjustment).toBe(REVIEW_MIN);
    const cited = r.reasons.find((x) => x.code === 'llm_review_evaluation_tampering');
    expect(cited?.message).toContain('train.py:42');
    expect(cited?.message).toContain('10% of the validation tokens');
  });

  it('grades by severity and category', () => {
    const adj = (f: Partial<ReviewFinding>) =>
      reviewAdjustment(review([finding(f)]), 'm').adjustment;
    expect(adj({ severity: 'high' })).toBeCloseTo(-0.18, 12);
    expect(adj({ severity: 'medium' })).toBeCloseTo(-0.08, 12);
    expect(adj({ severity: 'low' })).toBeCloseTo(-0.02, 12);
    expect(adj({ category: 'bug' })).toBeCloseTo(-0.225, 12);
    expect(adj({ category: 'scope_beyond_hypothesis' })).toBeCloseTo(-0.15, 12);
    expect(adj({ category: 'seed_or_data_leakage', severity: 'high' })).toBeCloseTo(-0.18, 12);
  });

  it('adds further findings at a quarter, never below REVIEW_MIN', () => {
    const two = reviewAdjustment(
      review([
        finding({ severity: 'medium' }),
        finding({ severity: 'high', line: null, file: '' }),
      ]),
      'm',
    );
    expect(two.adjustment).toBeCloseTo(-(0.18 + 0.25 * 0.08), 12);
    // the worst finding is cited first; a finding without a file says so
    expect(two.reasons[1].message).toContain('the change');
    const many = reviewAdjustment(review(Array.from({ length: 20 }, () => finding())), 'm');
    expect(many.adjustment).toBe(REVIEW_MIN);
    expect(many.reasons.map((x) => x.code)).toContain('llm_review_more');
  });

  it('rewards a clean review a little, and an uncited risk costs half', () => {
    expect(reviewAdjustment(review([], 'none'), 'm').adjustment).toBe(REVIEW_MAX / 2);
    expect(reviewAdjustment(review([], 'none'), 'm').reasons[0].code).toBe('llm_review_clean');
    expect(reviewAdjustment(review([], 'high'), 'm').adjustment).toBeCloseTo(-0.09, 12);
    expect(reviewAdjustment(review([], 'low'), 'm').adjustment).toBeCloseTo(-0.01, 12);
  });

  it('stays within [REVIEW_MIN, REVIEW_MAX] for any review', () => {
    const arbFinding = fc.record({
      category: fc.constantFrom(...REVIEW_CATEGORIES),
      severity: fc.constantFrom(...REVIEW_SEVERITIES),
      file: fc.string(),
      line: fc.option(fc.integer({ min: 1 }), { nil: null }),
      explanation: fc.string(),
    });
    fc.assert(
      fc.property(
        fc.array(arbFinding, { maxLength: 30 }),
        fc.constantFrom(...REVIEW_RISKS),
        (findings, risk) => {
          const r = reviewAdjustment({ findings, overallRisk: risk, summary: '' }, 'm');
          expect(r.adjustment).toBeGreaterThanOrEqual(REVIEW_MIN);
          expect(r.adjustment).toBeLessThanOrEqual(REVIEW_MAX);
          expect(r.reasons.length).toBeLessThanOrEqual(12);
        },
      ),
    );
  });
});

describe('parseReview', () => {
  it('accepts the schema and normalizes lines', () => {
    const r = parseReview({
      findings: [{ ...finding(), line: 0 }],
      overallRisk: 'high',
      summary: 's',
    });
    expect(r.ok && r.review.findings[0].line).toBe(null);
  });

  it('rejects answers off the schema with where and why', () => {
    const bad = parseReview({
      findings: [{ ...finding(), category: 'vibes' }],
      overallRisk: 'high',
      summary: 's',
    });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toContain('/findings/0/category');
    expect(parseReview({ findings: [], overallRisk: 'none' }).ok).toBe(false);
    expect(parseReview({ findings: [], overallRisk: 'none', summary: '', extra: 1 }).ok).toBe(
      false,
    );
    expect(parseReview([]).ok).toBe(false);
  });
});
