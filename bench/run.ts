/**
 * `npm run bench`: ECV's benchmarks (SPEC §14), written to docs/benchmarks.md.
 *
 *   npm run bench                      full run (~8–10 min on 2 cores), writes docs/benchmarks.md
 *   npm run bench -- --quick           smoke run (~2–3 min), writes tmp/benchmarks.md
 *   npm run bench -- --only=gate,ingest   some sections (accuracy, gate, ingest, propagation, soak)
 *   npm run bench -- --out=PATH        write the report elsewhere
 *   npm run bench -- --render          rewrite docs/benchmarks.md from the last full run (tmp/bench/)
 *   npm run bench -- --jit             keep PostgreSQL's JIT on (the server default; off otherwise)
 *   npm run bench -- --only=obey --loops=3 --experiments=150
 *                                      the obey-mode loops alone (loops per regime and policy,
 *                                      experiments per loop; defaults bench/obey.ts, ≤ 15 min)
 *   npm run bench -- --only=obey --model-loops=20
 *                                      …and loops per regime of ECV's model (bench/obey/model.ts:
 *                                      the same pure functions in memory; default 20, 4 quick)
 *   npm run bench -- --only=obey --splice   …and splice its section into docs/benchmarks.md
 *                                      (the rest of that file is left as it was)
 *
 * Each section runs in a child process of its own, so that its peak RSS is its own.
 * Needs PostgreSQL for gate, ingest, propagation and soak (ECV_BENCH_PG_URL, default
 * postgres://root@127.0.0.1:5432/postgres); accuracy falls back to PGlite without it.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ObeyResult } from './obey.js';
import { describeMachine } from './lib/machine.js';
import { MemoryWatch } from './lib/memory.js';
import { Progress } from './lib/progress.js';
import { renderObey, spliceObey } from './report-obey.js';
import { renderReport, type ReportInput, type SectionOutcome } from './report.js';

export const SECTIONS = ['accuracy', 'obey', 'gate', 'ingest', 'propagation', 'soak'] as const;
export type Section = (typeof SECTIONS)[number];

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SELF), '..');

interface Args {
  quick: boolean;
  only: Section[];
  out: string | null;
  child: Section | null;
  result: string | null;
  render: boolean;
  jit: boolean;
  /** With --only=obey: splice the obey section into docs/benchmarks.md. */
  splice: boolean;
  /** Obey section: loops per regime and policy, experiments per loop. */
  loops: number | undefined;
  experiments: number | undefined;
  /** Obey section: loops per regime of ECV's model (bench/obey/model.ts). */
  modelLoops: number | undefined;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    quick: false,
    only: [...SECTIONS],
    out: null,
    child: null,
    result: null,
    render: false,
    jit: false,
    splice: false,
    loops: undefined,
    experiments: undefined,
    modelLoops: undefined,
  };
  for (const arg of argv) {
    const [k, v] = arg.split('=', 2);
    if (k === '--quick') a.quick = true;
    else if (k === '--only' && v) {
      const names = v.split(',').map((s) => s.trim());
      const bad = names.filter((s) => !(SECTIONS as readonly string[]).includes(s));
      if (bad.length)
        throw new Error(`unknown section(s) ${bad.join(', ')}; choose from ${SECTIONS.join(', ')}`);
      a.only = names as Section[];
    } else if (k === '--out' && v) a.out = resolve(v);
    else if (k === '--child' && v) a.child = v as Section;
    else if (k === '--result' && v) a.result = v;
    else if (k === '--render') a.render = true;
    else if (k === '--jit') a.jit = true;
    else if (k === '--splice') a.splice = true;
    else if ((k === '--loops' || k === '--experiments') && v && /^[1-9][0-9]*$/.test(v))
      a[k === '--loops' ? 'loops' : 'experiments'] = Number(v);
    else if (k === '--model-loops' && v && /^[0-9]+$/.test(v)) a.modelLoops = Number(v);
    else if (k === '--help' || k === '-h') {
      console.log(readFileSync(SELF, 'utf8').split('*/')[0]);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg} (try --help)`);
  }
  return a;
}

/** Child: runs one section and writes its result, peak memory and load average as JSON. */
async function runChild(
  section: Section,
  quick: boolean,
  resultPath: string,
  sizes: Pick<Args, 'loops' | 'experiments' | 'modelLoops'>,
): Promise<void> {
  const mem = new MemoryWatch();
  const progress = new Progress(section);
  const load0 = loadavg()[0];
  const t0 = Date.now();
  // Each section is loaded only in its own child, so one section's imports (the service internals
  // the perf sections reach into) cannot stop another from running.
  const load = {
    accuracy: async () => (await import('./accuracy.js')).benchAccuracy,
    gate: async () => (await import('./gate.js')).benchGate,
    ingest: async () => (await import('./ingest.js')).benchIngest,
    obey: async () => (await import('./obey.js')).benchObey,
    propagation: async () => (await import('./propagation.js')).benchPropagation,
    soak: async () => (await import('./soak.js')).benchSoak,
  }[section];
  const run = await load();
  const result = await run({ quick, progress, mem, ...sizes });
  const out = {
    section,
    result,
    seconds: (Date.now() - t0) / 1000,
    memory: mem.report(),
    load: [load0, loadavg()[0]],
  };
  writeFileSync(resultPath, JSON.stringify(out));
}

function spawnSection(
  section: Section,
  { quick, jit, loops, experiments, modelLoops }: Args,
  resultPath: string,
): Promise<number> {
  return new Promise((res) => {
    const args = [
      '--import',
      'tsx',
      SELF,
      `--child=${section}`,
      `--result=${resultPath}`,
      ...(quick ? ['--quick'] : []),
      ...(loops ? [`--loops=${loops}`] : []),
      ...(experiments ? [`--experiments=${experiments}`] : []),
      ...(modelLoops !== undefined ? [`--model-loops=${modelLoops}`] : []),
    ];
    const child = spawn(process.execPath, args, {
      stdio: 'inherit',
      cwd: ROOT,
      env: { ...process.env, ECV_BENCH_JIT: jit ? 'on' : 'off' },
    });
    child.on('exit', (code) => res(code ?? 1));
  });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.child) {
    await runChild(args.child, args.quick, args.result!, args);
    process.exit(0); // pools and wake-up timers may be open; the result is written
  }
  // Full runs keep their results in tmp/bench/, partial and quick ones in tmp/bench-partial/, so a
  // smoke run never replaces what `--render` rebuilds docs/benchmarks.md from.
  const partial = args.quick || args.only.length < SECTIONS.length;
  const dir = resolve(ROOT, partial && !args.render ? 'tmp/bench-partial' : 'tmp/bench');
  if (args.render) {
    const run = JSON.parse(readFileSync(resolve(dir, 'run.json'), 'utf8')) as Omit<
      ReportInput,
      'outcomes'
    > & { sections: Section[] };
    const outcomes = run.sections.map((s) => ({
      section: s,
      ...(JSON.parse(readFileSync(resolve(dir, `${s}.json`), 'utf8')) as object),
    }));
    const out =
      args.out ??
      resolve(
        ROOT,
        run.quick || run.sections.length < SECTIONS.length
          ? 'tmp/benchmarks.md'
          : 'docs/benchmarks.md',
      );
    writeFileSync(out, renderReport({ ...run, outcomes }));
    console.log(`wrote ${out} from ${dir}`);
    return;
  }
  const out = args.out ?? resolve(ROOT, partial ? 'tmp/benchmarks.md' : 'docs/benchmarks.md');
  const machine = await describeMachine();
  console.log(`ECV benchmarks (${args.quick ? 'quick' : 'full'}): ${args.only.join(', ')}`);
  console.log(
    `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB.toFixed(1)} GiB, Node ${machine.node}, PostgreSQL ${machine.postgres ?? 'not reachable'}, load ${machine.loadStart.map((x) => x.toFixed(1)).join(' ')}`,
  );
  mkdirSync(dir, { recursive: true });
  const t0 = Date.now();
  const outcomes: SectionOutcome[] = [];
  for (const section of args.only) {
    const resultPath = resolve(dir, `${section}.json`);
    writeFileSync(resultPath, '');
    const code = await spawnSection(section, args, resultPath);
    const text = readFileSync(resultPath, 'utf8');
    if (code !== 0 || !text) {
      console.log(`${section}: FAILED (exit ${code}); the report says so`);
      outcomes.push({ section, error: `exited with code ${code}` });
      continue;
    }
    outcomes.push({ section, ...(JSON.parse(text) as Omit<SectionOutcome, 'section' | 'error'>) });
  }
  const minutes = (Date.now() - t0) / 60_000;
  const input: ReportInput = {
    machine,
    quick: args.quick,
    jit: args.jit,
    minutes,
    outcomes,
    loadEnd: loadavg(),
  };
  writeFileSync(
    resolve(dir, 'run.json'),
    JSON.stringify({
      machine,
      quick: args.quick,
      jit: args.jit,
      minutes,
      loadEnd: input.loadEnd,
      sections: outcomes.filter((o) => !o.error).map((o) => o.section),
    }),
  );
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, renderReport(input));
  console.log(`done in ${minutes.toFixed(1)} min; wrote ${out}`);
  const obey = outcomes.find((o) => o.section === 'obey' && !o.error)?.result as ObeyResult | undefined;
  if (args.splice && obey) {
    const doc = resolve(ROOT, 'docs/benchmarks.md');
    writeFileSync(doc, spliceObey(readFileSync(doc, 'utf8'), renderObey(obey, machine)));
    console.log(`spliced the obey section into ${doc}`);
  }
  if (outcomes.some((o) => o.error)) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(2);
});
