import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The digits research loop (examples/digits-loop) end to end in obey mode, 10 experiments: real
 * training runs, the service on a free port, one `ecv runner` reproducing what the gate asks for,
 * and loop.py following the program.md paragraph literally (keep only what beats `ecv bar`,
 * ingest after every experiment, `ecv gate --wait` after each keep, on reject `git reset --hard`
 * to the previous accepted keep, mark the row discard, ingest again). Experiment 3 is a cheating
 * edit of the protected prepare.py, so the reject path runs whatever the scores are. CI installs
 * python3-sklearn (.ci/run); a developer machine without it skips the test.
 */
const EXAMPLE = fileURLToPath(new URL('../../examples/digits-loop/', import.meta.url));
const DRIVER = join(EXAMPLE, 'run-loop.sh');

function findPython(): string | null {
  for (const c of [process.env.PYTHON, 'python3', '/usr/bin/python3']) {
    if (!c) continue;
    try {
      execFileSync(c, ['-c', 'import numpy, sklearn'], { stdio: 'ignore' });
      return c;
    } catch {
      // not this one
    }
  }
  return null;
}

const PYTHON = findPython();

function run(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      {
        env: { ...process.env, ECV_URL: '', ...env },
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : 99
          : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

interface GateRecord {
  index: number;
  commit: string;
  premise: string | null;
  ingest_exit: number;
  gate_exit: number | null;
  decision: string;
  K?: number;
  reasons?: string[];
  jobs?: { experiment: string; seed: number; id: string }[];
  mismatch?: string;
}

/** loop.py's experiments.jsonl: one line per experiment, after the loop acted on it. */
interface ExperimentRecord {
  index: number;
  commit: string;
  premise: string | null;
  value: number | null;
  bar: number | null;
  barError?: string;
  status: string;
  decision?: string;
  ingestExit: number;
  reingestExit?: number;
  head: string;
}

const EXIT_OF: Record<string, number> = { accept: 0, reject: 1, reanchor: 3 };
const readJsonl = <T>(file: string): T[] =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as T);

describe.skipIf(!PYTHON && !process.env.CI)(
  'digits loop smoke (10 real experiments, obeying the gate as program.md says)',
  () => {
    it(
      'follows the protocol: bar, ingest every experiment, gate each keep, revert and discard on reject',
      { timeout: 180_000 },
      async () => {
        expect(
          PYTHON,
          'CI must have python3 with numpy and scikit-learn (python3-sklearn)',
        ).toBeTruthy();
        const out = join(mkdtempSync(join(tmpdir(), 'ecv-digits-')), 'run');
        const t0 = Date.now();
        const r = await run(
          'bash',
          // Proposer seed 4: one real gain early (learning rate ×2); experiment 3 tampers with
          // the protected evaluation; few keeps, so little ECV work beyond what must be covered.
          [DRIVER, '-n', '10', '-r', '1', '-s', '4', '-m', 'obey', '-x', '3', '-o', out],
          { PYTHON: PYTHON! },
          170_000,
        );
        const log = `${r.stdout}\n${r.stderr}`;
        expect(r.code, log).toBe(0);

        // results.tsv in Karpathy's format: 10 rows, the first the kept baseline.
        const lines = readFileSync(join(out, 'results.tsv'), 'utf8').trimEnd().split('\n');
        expect(lines[0]).toBe('commit\tval_accuracy\tmemory_gb\tstatus\tdescription');
        const rows = lines.slice(1).map((l) => l.split('\t'));
        expect(rows).toHaveLength(10);
        for (const row of rows) {
          expect(row).toHaveLength(5);
          expect(row[0]).toMatch(/^[0-9a-f]{7}$/);
          expect(['keep', 'discard', 'crash']).toContain(row[3]);
          if (row[3] !== 'crash') expect(Number(row[1])).toBeGreaterThan(0.5); // a real classifier, not a stub
        }
        expect(rows[0][4]).toBe('baseline');

        // Every experiment: a bar read without error, a keep only above the bar, an ingest
        // (exit 0), and the re-ingest after a reject (exit 0).
        const exps = readJsonl<ExperimentRecord>(join(out, 'experiments.jsonl'));
        expect(exps.map((e) => e.commit)).toEqual(rows.map((row) => row[0]));
        const gates = readJsonl<GateRecord>(join(out, 'gates.jsonl'));
        const gated = exps.filter((e) => e.decision !== undefined);
        expect(gates.map((g) => g.commit)).toEqual(gated.map((e) => e.commit));
        let accepted: string | null = null;
        const acceptedKeeps: string[] = [];
        for (const [i, e] of exps.entries()) {
          const what = JSON.stringify(e);
          expect(e.barError, what).toBeUndefined();
          expect(e.ingestExit, what).toBe(0);
          if (e.reingestExit !== undefined) expect(e.reingestExit, what).toBe(0);
          expect(e.status, what).toBe(rows[i][3]);
          // The baseline is a keep by rule; once it is accepted, the bar decides what is a keep.
          if (i === 0) expect(e.bar, what).toBeNull();
          else if (accepted !== null) expect(e.bar, what).toEqual(expect.any(Number));
          if (e.decision !== undefined && e.bar !== null) expect(e.value!, what).toBeGreaterThan(e.bar);
          if (e.decision === undefined && e.status === 'discard' && e.bar !== null)
            expect(e.value!, what).toBeLessThanOrEqual(e.bar);
          // The experiment stood on the accepted head (the baseline on the project commit).
          if (i > 0) expect(e.premise, what).toBe(accepted ?? exps[i - 1].head);
          if (e.decision === 'accept') {
            accepted = e.commit;
            acceptedKeeps.push(e.commit);
          }
          if (e.decision === 'reject') expect(e.status, what).toBe('discard');
          // After each experiment the branch is back on the accepted head.
          if (accepted !== null) expect(e.head, what).toBe(accepted);
        }
        expect(exps[0].decision).toBe('accept'); // the baseline

        // One gate record per keep, exit codes matching the decisions.
        for (const g of gates) {
          expect(g.ingest_exit, JSON.stringify(g)).toBe(0);
          expect(['accept', 'reject', 'reanchor']).toContain(g.decision);
          expect(g.gate_exit).toBe(EXIT_OF[g.decision]);
          expect(g.mismatch).toBeUndefined();
          expect(typeof g.K).toBe('number');
        }
        // The cheating edit of prepare.py was a keep by its inflated number, and was rejected,
        // reverted and marked discard.
        const cheat = gates.find((g) => g.index === 3);
        expect(cheat?.decision, JSON.stringify(cheat)).toBe('reject');
        expect(cheat!.reasons!.some((c) => c.includes('protected_path')), JSON.stringify(cheat)).toBe(true);
        expect(rows[3][3]).toBe('discard');

        // The branch holds exactly the accepted keeps, on top of the project commit.
        const branch = execFileSync(
          'git',
          ['-C', join(out, 'repo'), 'log', '--format=%h', '--abbrev=7', '--reverse'],
          { encoding: 'utf8' },
        )
          .trim()
          .split('\n');
        expect(branch.slice(1)).toEqual(acceptedKeeps);

        // ECV stored every row as the loop left it (rejects as discards), with git lineage.
        const final = JSON.parse(readFileSync(join(out, 'final.json'), 'utf8'));
        const byKey = new Map<
          string,
          {
            status: string;
            value: number | null;
            premises: string[];
            reproductions: { seed: number; value: number | null }[];
          }
        >(final.experiments.map((e: { key: string }) => [e.key, e]));
        expect(byKey.size).toBe(10);
        for (const row of rows) {
          const e = byKey.get(row[0]);
          expect(e, row[0]).toBeDefined();
          expect(e!.status).toBe(row[3]);
          if (row[3] !== 'crash') expect(e!.value).toBeCloseTo(Number(row[1]), 6);
        }
        for (let i = 1; i < acceptedKeeps.length; i++)
          expect(byKey.get(acceptedKeeps[i])!.premises).toEqual([acceptedKeeps[i - 1]]);
        const recorded = final.gateDecisions as {
          experiment: string;
          decision: string;
          inputs: { readOnly?: boolean };
        }[];
        for (const g of gates)
          expect(recorded.some((d) => d.experiment === g.commit && d.decision === g.decision && !d.inputs.readOnly), g.commit).toBe(true);

        // Re-anchoring really ran: the runner reproduced every scheduled job with a metric value.
        const jobs = gates.flatMap((g) => g.jobs ?? []);
        expect(jobs.length).toBeGreaterThan(0);
        expect(final.drain.pending).toEqual({});
        for (const j of jobs) {
          const rep = byKey.get(j.experiment)!.reproductions.find((x) => x.seed === j.seed);
          expect(rep?.value, `${j.experiment} seed ${j.seed}`).toBeGreaterThan(0.5);
        }
        expect(readFileSync(join(out, 'runner-1.log'), 'utf8')).toContain('job.reported');

        // `ecv check` on the branch (what CI would run next) answers the settled decision of the
        // head, the last accepted keep, with the matching exit code.
        const head = acceptedKeeps[acceptedKeeps.length - 1];
        const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'));
        expect(meta.head).toBe(head);
        expect(meta.checkExit).toBe(EXIT_OF[final.gateSettled[head].decision]);
        expect(readFileSync(join(out, 'check.md'), 'utf8')).toContain(head);
        expect(Date.now() - t0).toBeLessThan(180_000);
      },
    );

    it('the driver refuses a non-empty output directory with exit code 2', async () => {
      const out = mkdtempSync(join(tmpdir(), 'ecv-digits-busy-'));
      mkdirSync(join(out, 'x'));
      writeFileSync(join(out, 'x', 'f'), '1');
      const r = await run('bash', [DRIVER, '-n', '1', '-o', out], PYTHON ? { PYTHON } : {}, 30_000);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('not empty');
    });
  },
);
