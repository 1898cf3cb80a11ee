import { buildBenchApp, retried } from './lib/app.js';
import { createBenchDb, postgresAvailable } from './lib/db.js';
import type { MemoryWatch } from './lib/memory.js';
import type { Progress } from './lib/progress.js';
import { realLogShape, simulatedShape, type LogShape } from './sim/calibration.js';
import { RunnerPool, runEcvLoop, Truth, type EcvSetup } from './sim/ecv-loop.js';
import { BASELINES, runBaselineLoop, type LoopResult } from './sim/loop.js';
import { summarize, type MethodSummary } from './sim/metrics.js';
import { proposalStream } from './sim/proposals.js';
import { REGIMES, type Regime } from './sim/regimes.js';

export const KARPATHY_LOG = new URL(
  '../../shared/data/real-results/karpathy__autoresearch__exp-H100-mar8__results.tsv',
  import.meta.url,
);

export const SETUPS: EcvSetup[] = [
  { id: 'sigma', label: 'sigma0 = σ, nu0 = 20', sigmaPrior: { nu0: 20 } },
  { id: 'nosigma', label: 'no sigma0', sigmaPrior: null },
];

export interface AccuracyResult {
  engine: string;
  experimentsPerLoop: number;
  loopsPerCell: number;
  seconds: number;
  regimes: Regime[];
  setups: EcvSetup[];
  /** Per regime: ECV under each setup, then the baselines. */
  results: { regime: string; methods: MethodSummary[] }[];
  shape: { real: LogShape | null; simulated: LogShape };
  /** 503 answers the simulated clients retried, by problem detail. */
  retries: Record<string, number>;
}

/** Runs `fn` over `items` with at most `n` in flight. */
export async function pool<T, R>(items: T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

/**
 * Epistemic accuracy (SPEC §14): simulated keep-if-better loops with known ground truth, ECV's
 * loops run through the real service (in-process app: experiments, gate, lease, complete), the
 * baselines as pure functions over the same proposal streams.
 */
export async function benchAccuracy(opts: {
  quick: boolean;
  progress: Progress;
  mem?: MemoryWatch;
}): Promise<AccuracyResult> {
  const t0 = Date.now();
  const loops = opts.quick ? 2 : 8;
  const perLoop = 125;
  const engine = (await postgresAvailable()) ? 'postgres' : 'pglite';
  const db = await createBenchDb(engine);
  const app = await buildBenchApp(db.handle);
  const truth = new Truth();
  const runners = new RunnerPool(app, truth);
  const results: AccuracyResult['results'] = [];
  try {
    const cells = REGIMES.flatMap((regime) => SETUPS.map((setup) => ({ regime, setup })));
    const jobs = cells.flatMap((c) =>
      Array.from({ length: loops }, (_, k) => ({ ...c, seed: k + 1 })),
    );
    opts.mem?.enter('accuracy: loops');
    let done = 0;
    opts.progress.step(
      `accuracy: ${jobs.length} ECV loops of ${perLoop} experiments (${REGIMES.length} regimes × ${SETUPS.length} setups × ${loops}) on ${engine}`,
    );
    const ecv = await pool(jobs, engine === 'postgres' ? 4 : 1, async (j) => {
      const r = await runEcvLoop(
        app,
        db.handle,
        truth,
        runners,
        j.regime,
        j.setup,
        j.seed,
        proposalStream(j.regime, j.seed, perLoop),
      );
      done++;
      opts.progress.tick(
        `accuracy ${done}/${jobs.length}: ${j.regime.id}/${j.setup.id} loop ${j.seed} — ${r.reproductions} reproductions, ${r.chainLength} accepted`,
      );
      return { ...j, r };
    });
    for (const regime of REGIMES) {
      const methods: MethodSummary[] = [];
      for (const setup of SETUPS) {
        methods.push(
          summarize(
            ecv.filter((e) => e.regime === regime && e.setup === setup).map((e) => e.r),
            regime.sigma,
          ),
        );
      }
      for (const rule of BASELINES) {
        const ls: LoopResult[] = [];
        for (let seed = 1; seed <= loops; seed++)
          ls.push(runBaselineLoop(regime, seed, proposalStream(regime, seed, perLoop), rule));
        methods.push(summarize(ls, regime.sigma));
      }
      results.push({ regime: regime.id, methods });
    }
  } finally {
    await app.close();
    await db.drop();
  }
  // How the karpathy regime compares with the real log it is calibrated on (200 flat loops).
  const k = REGIMES.find((r) => r.id === 'karpathy')!;
  const flat = Array.from({ length: 200 }, (_, s) =>
    runBaselineLoop(k, 1000 + s, proposalStream(k, 1000 + s, 126), BASELINES[0]),
  );
  let real: LogShape | null;
  try {
    real = realLogShape(KARPATHY_LOG.pathname, k.sigma);
  } catch {
    real = null; // the shared data set is not there: the comparison row says so
  }
  return {
    engine,
    experimentsPerLoop: perLoop,
    loopsPerCell: loops,
    seconds: (Date.now() - t0) / 1000,
    regimes: REGIMES,
    setups: SETUPS,
    results,
    shape: { real, simulated: simulatedShape(flat, k.sigma) },
    retries: Object.fromEntries(retried),
  };
}
