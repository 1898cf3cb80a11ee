import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ECV_BIN, ecv, tempRepo } from '../helpers/cli.js';
import { startService } from '../helpers/service.js';

const header = 'commit\tval_bpb\tmemory_gb\tstatus\tdescription\n';
const N = 1500;

/** A log of N rows: keeps that improve, discards between. */
function log(dir: string): string {
  const lines = Array.from({ length: N }, (_, i) => `${i.toString(16).padStart(7, '0')}\t${(1 - i * 1e-5 + (i % 3 === 1 ? 0.01 : 0)).toFixed(6)}\t40\t${i % 3 === 1 ? 'discard' : 'keep'}\texp ${i}`);
  const file = join(dir, 'results.tsv');
  writeFileSync(file, header + lines.join('\n') + '\n');
  return file;
}

/** `step d/t unit` counts of every progress line of a step. */
const counts = (stderr: string, step: string) =>
  [...stderr.matchAll(new RegExp(`^${step} ([\\d,]+)/([\\d,]+) ([a-z ,]+) [(…]`, 'gm'))].map((m) => ({ done: Number(m[1].replace(/,/g, '')), total: Number(m[2].replace(/,/g, '')), unit: m[3] }));

describe('ecv ingest progress on stderr (embedded and over HTTP)', () => {
  it('--progress on a pipe: every step, counting rows, experiments and kept commits; nothing without it', { timeout: 240_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecv-progress-'));
    const file = log(dir);
    const r = await ecv(['ingest', file, '--project', 'prog', '--direction', 'minimize', '--data-dir', join(dir, 'data'), '--progress']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${N} new`);
    expect(r.stderr).toMatch(/^open the embedded database \(\d+\.\d s\)$/m);
    for (const step of ['read log', 'parse']) expect(counts(r.stderr, step).at(-1), step).toEqual({ done: N, total: N, unit: 'rows' });
    const writes = counts(r.stderr, 'write');
    expect(writes[0]).toEqual({ done: 0, total: N, unit: 'experiments' });
    expect(writes.at(-1)).toEqual({ done: N, total: N, unit: 'experiments' });
    for (const w of writes) expect(w.done).toBeLessThanOrEqual(w.total);
    expect(r.stderr).toContain(`score: fit σ̂ and the prior on ${N.toLocaleString('en-US')} experiments (`);
    expect(r.stderr).toContain(`score: C of ${N.toLocaleString('en-US')} experiments (`);
    expect(r.stderr).toMatch(/^score: K over the premise graph \(\d+\.\d s\)$/m);
    // The steps come in the order they run.
    const order = ['open the embedded database', 'read log', 'parse', 'write', 'score: fit', 'score: C of', 'score: K'].map((s) => r.stderr.indexOf(`\n${s}`) + 1 || r.stderr.indexOf(s));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // Re-ingest, not a terminal, no flag: no progress at all; nothing to write either.
    const quiet = await ecv(['ingest', file, '--project', 'prog', '--data-dir', join(dir, 'data')]);
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toContain(`0 new, ${N} unchanged`);
    expect(quiet.stderr).toBe('');
  });

  it('--git: diffs are counted in kept commits, not rows', { timeout: 240_000 }, async () => {
    const { dir, commit } = tempRepo();
    const rows: string[] = [];
    rows.push(`${commit('base', { 'train.py': 'lr = 1\n' })}\t1.000\t40\tkeep\tbase`);
    rows.push(`${commit('A', { 'train.py': 'lr = 0.5\n' })}\t0.990\t40\tkeep\tA`);
    rows.push(`${commit('B', { 'train.py': 'lr = 0.5\nwd = 1\n' })}\t0.980\t40\tkeep\tB`);
    rows.push(`abc1234\t0.995\t40\tdiscard\treset away`, `def5678\t0.000\t0\tcrash\treset away`);
    writeFileSync(join(dir, 'results.tsv'), header + rows.join('\n') + '\n');
    const r = await ecv(['ingest', 'results.tsv', '--project', 'progit', '--direction', 'minimize', '--git', '.', '--data-dir', join(dir, 'data'), '--progress'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const diffs = counts(r.stderr, 'diffs');
    expect(diffs.at(-1)).toEqual({ done: 3, total: 3, unit: 'kept commits' }); // 5 rows, 3 of them kept commits
    expect(counts(r.stderr, 'read log').at(-1)).toEqual({ done: 5, total: 5, unit: 'rows' });
  });

  it('over HTTP the request is the step, counted in rows once the service answered', { timeout: 240_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecv-progress-http-'));
    const svc = await startService({ ECV_DATA_DIR: join(dir, 'svc') });
    try {
      const r = await ecv(['ingest', log(dir), '--project', 'proghttp', '--direction', 'minimize', '--url', svc.url, '--progress']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toContain('open the embedded database');
      const step = `service at ${svc.url}`.replace(/[.:/]/g, '\\$&');
      expect(counts(r.stderr, step)).toEqual([
        { done: 0, total: N, unit: 'rows parsed, written and scored' },
        { done: N, total: N, unit: 'rows parsed, written and scored' },
      ]);
    } finally {
      await svc.stop();
    }
  });

  it.skipIf(!existsSync('/usr/bin/script'))('on a terminal (util-linux script): one line redrawn in place with its clock, no flag needed', { timeout: 240_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecv-progress-tty-'));
    const file = log(dir);
    const cmd = `'${process.execPath}' '${ECV_BIN}' ingest '${file}' --project progtty --direction minimize --data-dir '${join(dir, 'data')}'`;
    const out = execFileSync('/usr/bin/script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, ECV_URL: '', LOG_LEVEL: 'warn' }, timeout: 200_000 });
    // ESC [ K (erase to end of line) after each redraw; \r returns to the line's start.
    const ESC = String.fromCharCode(27);
    expect(out).toMatch(new RegExp(`\rwrite 0/1,500 experiments \\(\\d\\.\\d s\\)${ESC}\\[K`));
    expect(out).toMatch(new RegExp(`\rwrite 1,500/1,500 experiments \\(\\d+\\.\\d s\\)${ESC}\\[K\r?\n`));
    expect(out).toContain(`${N} new`);
  });
});
