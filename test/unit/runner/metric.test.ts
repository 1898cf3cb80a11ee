import { describe, expect, it } from 'vitest';
import { parseMetric, verdictOf } from '../../../src/runner/metric.js';

const DEFAULT = '^val_bpb:\\s*(\\S+)';

describe('parseMetric', () => {
  it('reads the value after the metric name at the start of a line', () => {
    expect(parseMetric('step 10\nval_bpb: 0.9512\ndone\n', DEFAULT)).toEqual({ value: 0.9512 });
  });

  it('takes the last match: running values come before the final one', () => {
    const out = 'val_bpb: 1.20\nval_bpb: 1.00\ntraining...\nval_bpb: 0.97\n';
    expect(parseMetric(out, DEFAULT)).toEqual({ value: 0.97 });
  });

  it('anchors per line (multiline), not only at the start of the output', () => {
    expect(parseMetric('noise val_bpb: 5\n  val_bpb: 6\nval_bpb: 0.5', DEFAULT)).toEqual({
      value: 0.5,
    });
  });

  it('handles CRLF output, scientific notation and negative values', () => {
    expect(parseMetric('val_bpb: 9.5e-1\r\n', DEFAULT)).toEqual({ value: 0.95 });
    expect(parseMetric('loss=-3.25\n', '^loss=(\\S+)')).toEqual({ value: -3.25 });
  });

  it('reports a missing metric as an error naming the pattern', () => {
    const r = parseMetric('crashed before eval\n', DEFAULT);
    expect('error' in r && r.error).toMatch(/no metric.*val_bpb/);
  });

  it('never reports a non-finite value', () => {
    for (const bad of ['nan', 'NaN', 'inf', '-inf', 'Infinity', '1e999', '0.95,', 'abc']) {
      const r = parseMetric(`val_bpb: ${bad}\n`, DEFAULT);
      expect(r, bad).toEqual({ error: expect.stringMatching(/not a finite number/) });
    }
  });

  it('a non-finite last match is an error even when an earlier match was finite', () => {
    expect(parseMetric('val_bpb: 0.9\nval_bpb: nan\n', DEFAULT)).toEqual({
      error: expect.stringMatching(/not a finite/),
    });
  });

  it('reports an invalid pattern and a pattern without a capture group', () => {
    expect(parseMetric('x', '(')).toEqual({
      error: expect.stringMatching(/invalid metric pattern/),
    });
    expect(parseMetric('val_bpb: 1', '^val_bpb')).toEqual({
      error: expect.stringMatching(/no capture group/),
    });
  });

  it('does not loop on a pattern that matches the empty string', () => {
    expect(parseMetric('abc', '(x*)')).toEqual({ error: expect.stringMatching(/not a finite/) });
  });
});

describe('verdictOf', () => {
  const ok = { exitCode: 0, signal: null, timedOut: false, output: 'val_bpb: 0.98\n' };
  it('takes the metric of a clean exit', () => {
    expect(verdictOf(ok, DEFAULT, 300)).toEqual({ value: 0.98 });
  });
  it('fails a timeout or a crash even when a metric was printed first', () => {
    expect(
      verdictOf({ ...ok, timedOut: true, exitCode: null, signal: 'SIGTERM' }, DEFAULT, 300),
    ).toEqual({ error: expect.stringMatching(/time budget of 300s/) });
    expect(verdictOf({ ...ok, exitCode: 1 }, DEFAULT, 300)).toEqual({ error: 'exit code 1' });
    expect(verdictOf({ ...ok, exitCode: null, signal: 'SIGSEGV' }, DEFAULT, 300)).toEqual({
      error: 'killed by SIGSEGV',
    });
  });
});
