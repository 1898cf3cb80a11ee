import { describe, expect, it } from 'vitest';
import { createProgress, formatStep } from '../../../src/cli/progress.js';
import { reportProgress, withProgress, type ProgressEvent } from '../../../src/services/progress.js';

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY, write: (s: string) => out.push(s) } };
}

describe('CLI progress display', () => {
  it('is off on a pipe unless forced, on a terminal by default', () => {
    expect(createProgress({ stream: sink(false).stream })).toBeUndefined();
    const p = createProgress({ stream: sink(true).stream });
    expect(p).toBeDefined();
    p!.end();
  });

  it('formats what a step counts, and a step that cannot count by its clock alone', () => {
    expect(formatStep({ step: 'write', done: 40_000, total: 100_000, unit: 'experiments' }, 12_345)).toBe('write 40,000/100,000 experiments (12.3 s)');
    expect(formatStep({ step: 'parse', done: 0, total: null, unit: 'rows' }, null)).toBe('parse …');
    expect(formatStep({ step: 'score: K over the premise graph', done: 0, total: null, unit: '' }, 500)).toBe('score: K over the premise graph (0.5 s)');
  });

  it('on a pipe (--progress): a line per step start and end, updates at most every 5 s', () => {
    let t = 0;
    const { out, stream } = sink(false);
    const p = createProgress({ force: true, stream, now: () => t })!;
    p.report('write', 0, 30_000, 'experiments');
    t = 1000;
    p.report('write', 10_000, 30_000, 'experiments'); // within 5 s: no line
    t = 6000;
    p.report('write', 20_000, 30_000, 'experiments');
    t = 7000;
    p.report('write', 30_000, 30_000, 'experiments');
    t = 9000;
    p.report('score', 0, null, '');
    t = 9500;
    p.end();
    expect(out.join('')).toBe('write 0/30,000 experiments …\nwrite 20,000/30,000 experiments (6.0 s)\nwrite 30,000/30,000 experiments (9.0 s)\nscore …\nscore (0.5 s)\n');
  });

  it('on a terminal: one line rewritten in place, each finished step kept', () => {
    let t = 0;
    const { out, stream } = sink(true);
    const p = createProgress({ stream, now: () => t, tickMs: 60_000 })!;
    p.report('parse', 0, null, 'rows');
    t = 50;
    p.report('parse', 5, 5, 'rows'); // under 100 ms since the last draw: not redrawn yet
    t = 2000;
    p.report('write', 0, 5, 'experiments');
    p.end();
    expect(out).toEqual(['\rparse (0.0 s)\x1b[K', '\rparse 5/5 rows (2.0 s)\x1b[K\n', '\rwrite 0/5 experiments (0.0 s)\x1b[K', '\rwrite 0/5 experiments (0.0 s)\x1b[K\n']);
  });

  it('service reports reach the listener of the request that made them, and nobody else', async () => {
    const seen: ProgressEvent[] = [];
    const other: ProgressEvent[] = [];
    await Promise.all([
      withProgress((e) => seen.push(e), async () => {
        await new Promise((r) => setTimeout(r, 5));
        reportProgress('write', 1, 2, 'experiments');
      }),
      withProgress((e) => other.push(e), async () => reportProgress('parse', 3, 3, 'rows')),
    ]);
    reportProgress('score', 0, null, ''); // outside any request: dropped
    expect(seen).toEqual([{ step: 'write', done: 1, total: 2, unit: 'experiments' }]);
    expect(other).toEqual([{ step: 'parse', done: 3, total: 3, unit: 'rows' }]);
  });
});
