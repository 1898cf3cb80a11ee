import type { AccuracyResult } from './accuracy.js';
import type { GateResult } from './gate.js';
import type { IngestResult } from './ingest.js';
import type { Machine } from './lib/machine.js';
import { f, n, pct, table, yes } from './lib/markdown.js';
import type { ObeyResult } from './obey.js';
import type { PropagationResult } from './propagation.js';
import { ecvOf, renderAccuracy } from './report-accuracy.js';
import { renderFindings } from './report-findings.js';
import { obeyTargets, renderObey } from './report-obey.js';
import { appendRatios, reingestRatios, renderGate, renderIngest, renderMemory, renderPropagation } from './report-perf.js';
import { renderSoak, soakVerdict } from './report-soak.js';
import type { SoakResult } from './soak.js';

export interface SectionOutcome {
  section: string;
  error?: string;
  result?: unknown;
  seconds?: number;
  memory?: { phases: Record<string, number>; maxRssMiB: number };
  load?: number[];
}

export interface ReportInput {
  machine: Machine;
  quick: boolean;
  /** PostgreSQL's JIT left on (server default) rather than turned off per bench database. */
  jit?: boolean;
  minutes: number;
  outcomes: SectionOutcome[];
  loadEnd: number[];
}

export interface Results {
  accuracy?: AccuracyResult;
  obey?: ObeyResult;
  gate?: GateResult;
  ingest?: IngestResult;
  propagation?: PropagationResult;
  soak?: SoakResult;
}

export function resultsOf(outcomes: SectionOutcome[]): Results {
  const get = <T>(s: string) =>
    outcomes.find((o) => o.section === s && !o.error)?.result as T | undefined;
  return {
    accuracy: get('accuracy'),
    obey: get('obey'),
    gate: get('gate'),
    ingest: get('ingest'),
    propagation: get('propagation'),
    soak: get('soak'),
  };
}

function machineTable(m: Machine, input: ReportInput): string {
  const loads = input.outcomes
    .filter((o) => o.load)
    .map((o) => `${o.section} ${o.load!.map((x) => x.toFixed(1)).join('→')}`);
  return table(
    ['', ''],
    [
      ['date', m.date],
      ['CPU', `${m.cpu}, ${m.cores} cores`],
      ['memory', `${f(m.memoryGiB, 1)} GiB`],
      ['Node.js', m.node],
      ['OS', m.os],
      [
        'PostgreSQL',
        `${m.postgres ?? 'not reachable (PGlite only)'}; server defaults (fsync and synchronous_commit on), bench databases with ${input.jit ? 'JIT on (server default)' : '`jit = off` (Findings 1)'}`,
      ],
      [
        'service',
        `commit ${m.commit}${m.dirtySrc ? ` with ${m.dirtySrc} uncommitted file(s) under src/ and sql/ (the working tree was measured)` : ''}`,
      ],
      [
        '1-min load average',
        `start ${m.loadStart[0].toFixed(1)}; per section (start→end): ${loads.join(', ')}; end ${input.loadEnd[0].toFixed(1)}`,
      ],
      ['run', `${input.quick ? 'quick (smoke) run' : 'full run'}, ${f(input.minutes, 1)} min`],
    ],
    ['l', 'l'],
  );
}

function gateRatio(g: GateResult, id: string): number {
  const floor = g.rows.find((r) => r.id === 'pk')?.result.requestsPerSecond ?? NaN;
  return (g.rows.find((r) => r.id === id)?.result.requestsPerSecond ?? NaN) / floor;
}

function targets(r: Results): string {
  const rows: string[][] = [];
  if (r.accuracy) {
    for (const setup of r.accuracy.setups) {
      const k = ecvOf(r.accuracy, 'karpathy', setup.id);
      if (!k) continue;
      const tag = `\`karpathy\`, ${setup.label}`;
      rows.push([
        `AUROC of C, real vs false keeps (${tag})`,
        '≥ 0.90',
        `${f(k.auroc)} final, ${f(k.aurocFirst)} at the first gate`,
        yes(k.auroc >= 0.9),
      ]);
      rows.push([
        `contamination of accepted premises (${tag})`,
        '≤ 5%',
        pct(k.contamination, 1),
        yes(k.contamination <= 0.05),
      ]);
      rows.push([
        `≥ 1σ true improvements accepted (${tag})`,
        '≥ 80%',
        pct(k.keptReal1s),
        yes(k.keptReal1s >= 0.8),
      ]);
      rows.push([
        `reproductions per experiment (${tag})`,
        '≤ 0.5',
        f(k.reproductionsPerExperiment),
        yes(k.reproductionsPerExperiment <= 0.5),
      ]);
    }
  }
  for (const regime of r.obey?.regimes ?? [])
    for (const t of obeyTargets(r.obey!, regime.id))
      rows.push([`obey mode, ${t.figure} (\`${regime.id}\`, equal experiments)`, t.goal, t.value, yes(t.met)]);
  if (r.gate) {
    rows.push([
      'gate req/s ÷ primary-key SELECT req/s, gate answered from stored K (accept)',
      '≥ 0.8',
      f(gateRatio(r.gate, 'accept')),
      yes(gateRatio(r.gate, 'accept') >= 0.8),
    ]);
    rows.push([
      '… the same, gate of a keep below threshold (POST, schedules re-anchoring)',
      '≥ 0.8',
      f(gateRatio(r.gate, 'keep')),
      yes(gateRatio(r.gate, 'keep') >= 0.8),
    ]);
  }
  if (r.ingest)
    rows.push([
      `ingest rows/s ÷ bare INSERT rows/s (${n(r.ingest.rows)} rows)`,
      '≥ 0.5',
      f(r.ingest.ratio, 3),
      yes(r.ingest.ratio >= 0.5),
    ]);
  if (r.ingest?.incremental) {
    const re = reingestRatios(r.ingest);
    const ap = appendRatios(r.ingest.incremental);
    const g = r.ingest.incremental.graph;
    rows.push(['re-ingest of the unchanged file ÷ first ingest (TSV)', '≤ 0.05', f(re.tsv, 4), yes(re.tsv <= 0.05)]);
    rows.push(['re-ingest of the unchanged file and branch ÷ first ingest (`--git`)', '≤ 0.05', f(re.git, 4), yes(re.git <= 0.05)]);
    rows.push([`append 1 row: ${n(r.ingest.rows)}-row log ÷ 100-row log (TSV)`, '≤ 2', f(ap.tsv, 1), yes(ap.tsv <= 2)]);
    rows.push([`append 1 row: ${n(r.ingest.rows)}-row log ÷ 100-row log (\`--git\`)`, '≤ 2', f(ap.git, 1), yes(ap.git <= 2)]);
    rows.push([`\`GET /graph\` of ${n(g.nodes)} experiments: first page; whole graph by pages`, '≤ 100 ms; ≤ 3 s', `${f(g.firstPageMs, 0)} ms; ${f(g.wholeSeconds, 2)} s`, yes(g.firstPageMs <= 100 && g.wholeSeconds <= 3)]);
  }
  const prop = [
    ...(r.propagation?.rows ?? []),
    ...(r.gate?.propagation ?? []).map((x) => ({ ...x, project: 'runs' })),
  ];
  const at = (project: string, pos: string) =>
    prop.find((x) => x.project === project && x.position.includes(pos));
  const [small, big, leaf, root] = [
    at('small', 'leaf'),
    at('runs', 'leaf'),
    at('chain', 'leaf'),
    at('chain', 'root'),
  ];
  if (small && big) {
    rows.push([
      'propagation does not grow with project size (leaf, short cascades)',
      '100k ≈ 1k project',
      `${f(big.medianMs, 0)} ms in ${n(big.projectSize)} vs ${f(small.medianMs, 0)} ms in ${n(small.projectSize)} experiments`,
      yes(big.medianMs <= 3 * small.medianMs),
    ]);
  }
  if (small && leaf && root) {
    rows.push([
      'propagation grows with descendants only (un-anchored 10,000-deep chain)',
      'leaf ≈ any 1-descendant case',
      `leaf ${f(leaf.medianMs, 0)} ms (1 descendant, ${n(leaf.cascadeNodes)} nodes loaded), root ${f(root.medianMs, 0)} ms (${n(root.descendants)})`,
      yes(leaf.medianMs <= 3 * small.medianMs),
    ]);
  }
  if (r.soak) {
    const v = soakVerdict(r.soak);
    rows.push([
      `load test: ${r.soak.durationS} s of concurrent gates and writes (SPEC §13)`,
      'zero errors, memory flat',
      `${v.errors} errors; RSS ${v.growth >= 0 ? '+' : ''}${f(100 * v.growth, 1)}%`,
      yes(v.errors === 0 && v.stored && v.growth < 0.2),
    ]);
  }
  return table(['target (SPEC §14)', 'goal', 'this run', ''], rows, ['l', 'l', 'l', 'l']);
}

/** docs/benchmarks.md. */
export function renderReport(input: ReportInput): string {
  const r = resultsOf(input.outcomes);
  const failed = input.outcomes.filter((o) => o.error);
  return `# Benchmarks

Measured by \`npm run bench\` (\`bench/run.ts\`, SPEC §14) in one run on one machine; ratios are taken
within the run. Regenerate with \`npm run bench\` (full, ~8–10 min on 2 cores), \`npm run bench -- --quick\`
(smoke, ~3 min, writes \`tmp/benchmarks.md\`), \`--only=accuracy,obey,gate,ingest,propagation\` (\`--only=obey --splice\`
puts a fresh obey section into this file), or \`--render\`
(rewrite this file from the last full run's results in \`tmp/bench/\`). Sources: \`bench/\`.
${input.quick ? '\n> **Quick run**: small sizes, short load tests; not the numbers to quote.\n' : ''}${failed.length ? `\n> **Failed sections**: ${failed.map((o) => `${o.section} (${o.error})`).join(', ')}.\n` : ''}
## Machine

${machineTable(input.machine, input)}

## Targets

${targets(r)}

${r.accuracy ? renderAccuracy(r.accuracy) : ''}
${r.obey ? renderObey(r.obey, input.machine) : ''}
${r.gate ? renderGate(r.gate) : ''}
${r.ingest ? renderIngest(r.ingest) : ''}
${r.propagation || r.gate ? renderPropagation(r) : ''}
${renderMemory(input.outcomes)}
${r.soak ? renderSoak(r.soak) : ''}
${renderFindings(r)}`;
}
