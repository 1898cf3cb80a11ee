import { describe, expect, it } from 'vitest';
import { annotation, answerAnnotation, outputLines, rowLine } from '../../../src/cli/github-action.js';
import type { GateAnswer } from '../../../src/services/gate.service.js';

const answer = (over: Partial<GateAnswer>): GateAnswer & { project: string } => ({
  project: 'p',
  decision: 'accept',
  experiment: 'abc1234',
  confidence: { value: 0.97, components: {}, reasons: [] },
  compounded: 0.81234,
  threshold: 0.6,
  weakest: null,
  reasons: [],
  reanchor: { candidate: null, jobs: [], used: 0, budget: 8 },
  anchored: false,
  level: null,
  bar: null,
  head: null,
  ...over,
});

describe('GitHub workflow commands of the action', () => {
  it('escapes data and properties so a reason cannot end the command or add a property', () => {
    expect(annotation('error', { file: 'a,b:c.tsv', line: 3, title: undefined }, '50% done\nline two\r')).toBe('::error file=a%2Cb%3Ac.tsv,line=3::50%25 done%0Aline two%0D');
    expect(annotation('notice', {}, 'x')).toBe('::notice::x');
  });

  it('writes multi-line outputs with a delimiter no value contains', () => {
    const text = outputLines({ reasons: 'a: one\nb: two', decision: 'accept' });
    const m = /^reasons<<(ecv_[0-9a-f-]+)\na: one\nb: two\n\1\ndecision<<(ecv_[0-9a-f-]+)\naccept\n\2\n$/.exec(text);
    expect(m, text).not.toBeNull();
  });

  it('finds the row of the gated commit, and annotates accept as a notice', () => {
    expect(rowLine('commit\tv\nabc\t1\nabc1234\t2\n', 'abc1234')).toBe(3);
    expect(rowLine('commit\tv\n', 'abc1234')).toBeUndefined();
    expect(answerAnnotation(answer({}), { file: 'results.tsv', line: 3 })).toBe('::notice file=results.tsv,line=3,title=ECV accepted abc1234::p: abc1234 accepted (K = 0.812 ≥ 0.6)');
    expect(answerAnnotation(answer({ decision: 'reject', compounded: null, reasons: [{ code: 'hard_gate_crash', message: 'it crashed' }] }), {})).toBe(
      '::error title=ECV rejected abc1234::p: abc1234 rejected (K = n/a, threshold 0.6)%0Ahard_gate_crash: it crashed',
    );
  });
});
