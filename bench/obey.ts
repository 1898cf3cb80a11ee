/**
 * The obey-mode bench (SPEC §14, issue 16 build item 5): simulated loops that build only on what
 * their gate accepts, in every regime, under five policies over the same proposer seeds — ECV (the
 * gate in the tree, through the service, with simulated runners), flat keep, the fixed 2σ rule,
 * three seeds per proposal, and the first design (v1, in process) — each at equal experiments and
 * at equal compute.
 */
import { pool } from './accuracy.js';
import { buildBenchApp, retried } from './lib/app.js';
import { createBenchDb, postgresAvailable } from './lib/db.js';
import type { MemoryWatch } from './lib/memory.js';
import type { Progress } from './lib/progress.js';
import { Truth } from './sim/ecv-loop.js';
import { ecvPolicy, LiveRunners } from './obey/ecv.js';
import { purePolicy, runObeyLoop, type ObeyLoop } from './obey/loop.js';
import { summarizeObey, type Mode, type ObeySummary } from './obey/metrics.js';
import { OBEY_REGIMES, type ObeyRegime } from './obey/regimes.js';
import { modelPolicy } from './obey/model.js';
import { v1Policy } from './obey/v1.js';

export const OBEY_POLICIES = [
  { id: 'ecv', label: 'ECV (gate in the tree)' },
  { id: 'flat', label: 'flat keep' },
  { id: '2sigma', label: 'fixed 2σ rule' },
  { id: 'three-seeds', label: 'three seeds per proposal' },
  { id: 'v1', label: 'first design (v1)' },
] as const;
export const MODES: Mode[] = ['experiments', 'compute'];

/**
 * Defaults of a full run, sized on the shared 2-core machine (load ~10): with the first design's
 * service, 8 loops of 150 experiments took 60 s; with gate v2 in progress (tree of 2026-12-03),
 * 8 loops of 120 took 5.6 min (~2.8 experiments/s, the service's writes dominate). These defaults
 * (16 service loops of 150) take ≤ 15 min at that rate; raise --loops on a quieter machine.
 */
export const OBEY_DEFAULTS = { loops: 4, experiments: 150, quickLoops: 2, concurrency: 6, modelLoops: 20, quickModelLoops: 4 };

/** ECV through its model (bench/obey/model.ts) at many loops, next to flat keep on the same seeds. */
export interface ObeyModelResult {
  loops: number;
  seconds: number;
  results: { regime: string; ecv: ObeySummary[]; flat: ObeySummary[] }[];
  /** Seeds run both ways: keep/accept decisions where the model and the service agreed, of all. */
  agreement: { loops: number; decisions: number; same: number };
}

export interface ObeyResult {
  engine: string;
  command: string;
  experimentsPerLoop: number;
  loopsPerCell: number;
  seconds: number;
  regimes: ObeyRegime[];
  policies: { id: string; label: string }[];
  results: {
    regime: string;
    summaries: ObeySummary[];
    /** Per policy, summed over its loops: bar sources, re-post conflicts and the like. */
    notes: Record<string, Record<string, number>>;
  }[];
  retries: Record<string, number>;
  runnerErrors: number;
  model: ObeyModelResult;
}

const sumNotes = (loops: ObeyLoop[]) => {
  const out: Record<string, number> = {};
  for (const l of loops) for (const [k, v] of Object.entries(l.notes)) out[k] = (out[k] ?? 0) + v;
  return out;
};

export async function benchObey(opts: {
  quick: boolean;
  progress: Progress;
  mem?: MemoryWatch;
  loops?: number;
  experiments?: number;
  modelLoops?: number;
}): Promise<ObeyResult> {
  const t0 = Date.now();
  const loops = opts.loops ?? (opts.quick ? OBEY_DEFAULTS.quickLoops : OBEY_DEFAULTS.loops);
  const n = opts.experiments ?? OBEY_DEFAULTS.experiments;
  const engine = (await postgresAvailable()) ? 'postgres' : 'pglite';
  const db = await createBenchDb(engine);
  const app = await buildBenchApp(db.handle);
  const truth = new Truth();
  const runners = new LiveRunners(app, truth);
  const seeds = Array.from({ length: loops }, (_, k) => k + 1);
  const byCell = new Map<string, ObeyLoop[]>();
  const add = (l: ObeyLoop) => {
    const k = `${l.regime}/${l.policy}`;
    byCell.set(k, [...(byCell.get(k) ?? []), l]);
  };
  runners.start();
  try {
    const jobs = OBEY_REGIMES.flatMap((regime) => seeds.map((seed) => ({ regime, seed })));
    opts.mem?.enter('obey: ECV loops');
    opts.progress.step(
      `obey: ${jobs.length} ECV loops of ${n} experiments (${OBEY_REGIMES.length} regimes × ${loops}) through the service on ${engine}, ${OBEY_DEFAULTS.concurrency} at a time`,
    );
    let done = 0;
    const t1 = Date.now();
    await pool(jobs, engine === 'postgres' ? OBEY_DEFAULTS.concurrency : 1, async (j) => {
      const t = Date.now();
      const policy = await ecvPolicy(
        app,
        truth,
        runners,
        j.regime,
        j.seed,
        `obey-${j.regime.id}-${j.seed}`,
      );
      const l = await runObeyLoop(j.regime, j.seed, n, policy, (k, v) => policy.levels.set(k, v));
      add(l);
      const last = l.steps.at(-1)!;
      const eta = (((Date.now() - t1) / ++done) * (jobs.length - done)) / 1000;
      opts.progress.tick(
        `obey ${done}/${jobs.length} (about ${Math.ceil(eta / 60)} min left): ${j.regime.id} loop ${j.seed} — ${l.steps.filter((s) => s.accepted).length} accepted of ${l.steps.filter((s) => s.keep).length} keeps, ${last.runs - n} reproductions, gain ${last.headGainSigma.toFixed(1)}σ (${((Date.now() - t) / 1000).toFixed(0)} s)`,
      );
    });
  } finally {
    await runners.stop();
    await app.close();
    await db.drop();
  }
  opts.mem?.enter('obey: baselines');
  opts.progress.step(
    `obey: baselines in process (flat, 2σ, three seeds, v1), ${OBEY_REGIMES.length * loops} loops each`,
  );
  for (const regime of OBEY_REGIMES) {
    for (const seed of seeds) {
      for (const id of ['flat', '2sigma', 'three-seeds'] as const)
        add(await runObeyLoop(regime, seed, n, purePolicy(regime, id)));
      const levels = new Map<string, number>();
      add(
        await runObeyLoop(regime, seed, n, v1Policy(regime, seed, levels), (k, v) =>
          levels.set(k, v),
        ),
      );
      await new Promise((r) => setImmediate(r));
    }
    opts.progress.tick(`obey baselines: ${regime.id} done`);
  }
  const modelLoops = opts.modelLoops ?? (opts.quick ? OBEY_DEFAULTS.quickModelLoops : OBEY_DEFAULTS.modelLoops);
  opts.mem?.enter('obey: model');
  const model = await benchModel(n, modelLoops, byCell, opts.progress);
  const results = OBEY_REGIMES.map((regime) => ({
    regime: regime.id,
    summaries: MODES.flatMap((mode) =>
      OBEY_POLICIES.map((p) =>
        summarizeObey(byCell.get(`${regime.id}/${p.id}`) ?? [], {
          mode,
          budget: n,
          sigma: regime.sigma,
        }),
      ),
    ),
    notes: Object.fromEntries(
      OBEY_POLICIES.map((p) => [p.id, sumNotes(byCell.get(`${regime.id}/${p.id}`) ?? [])]),
    ),
  }));
  return {
    engine,
    command: `npm run bench -- --only=obey --loops=${loops} --experiments=${n} --model-loops=${modelLoops}`,
    experimentsPerLoop: n,
    loopsPerCell: loops,
    seconds: (Date.now() - t0) / 1000,
    regimes: OBEY_REGIMES,
    policies: OBEY_POLICIES.map((p) => ({ ...p })),
    results,
    retries: Object.fromEntries(retried),
    runnerErrors: runners.errors,
    model,
  };
}

/**
 * ECV through its model at `loops` loops per regime next to flat keep on the same seeds, and how
 * often the model's keep/accept decisions matched the service's on the seeds both ran.
 */
async function benchModel(
  n: number,
  loops: number,
  service: Map<string, ObeyLoop[]>,
  progress: Progress,
): Promise<ObeyModelResult> {
  const t0 = Date.now();
  progress.step(`obey: ECV's model (bench/obey/model.ts), ${OBEY_REGIMES.length} regimes × ${loops} loops, with flat keep on the same seeds`);
  const agreement = { loops: 0, decisions: 0, same: 0 };
  const results: ObeyModelResult['results'] = [];
  for (const regime of OBEY_REGIMES) {
    const ecv: ObeyLoop[] = [];
    const flat: ObeyLoop[] = [];
    for (let seed = 1; seed <= loops; seed++) {
      const policy = modelPolicy(regime, seed);
      const l = await runObeyLoop(regime, seed, n, policy, (k, v) => policy.levels.set(k, v));
      ecv.push(l);
      flat.push(await runObeyLoop(regime, seed, n, purePolicy(regime, 'flat')));
      const twin = service.get(`${regime.id}/ecv`)?.find((x) => x.loopSeed === seed);
      if (twin) {
        agreement.loops++;
        l.steps.forEach((st, i) => {
          const o = twin.steps[i];
          if (!o) return;
          agreement.decisions++;
          if (o.keep === st.keep && o.accepted === st.accepted) agreement.same++;
        });
      }
      await new Promise((r) => setImmediate(r));
    }
    results.push({
      regime: regime.id,
      ecv: MODES.map((mode) => summarizeObey(ecv, { mode, budget: n, sigma: regime.sigma })),
      flat: MODES.map((mode) => summarizeObey(flat, { mode, budget: n, sigma: regime.sigma })),
    });
    progress.tick(`obey model: ${regime.id} done`);
  }
  return { loops, seconds: (Date.now() - t0) / 1000, results, agreement };
}
