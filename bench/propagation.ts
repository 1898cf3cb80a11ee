import type { ExperimentInput } from '../src/domain/types.js';
import { buildBenchApp, call } from './lib/app.js';
import { createBenchDb, settle } from './lib/db.js';
import type { MemoryWatch } from './lib/memory.js';
import type { Progress } from './lib/progress.js';
import { chain, independentRuns, mergedRuns } from './lib/projects.js';
import { measureReproduction, type PropagationRow } from './lib/propagate.js';

export interface PropagationResult {
  chainDepth: number;
  dagSize: number;
  loadSeconds: { chain: number; dag: number };
  rows: PropagationRow[];
}

/**
 * Propagation (SPEC §14): one round of reproductions landing at the root, the middle and a
 * leaf of a 10,000-deep chain, and at several depths of a 100,000-node DAG (runs that continue
 * each other, with diamonds), on PostgreSQL. The gate section adds the same measurement on a
 * 100,000-experiment project of independent runs (shallow cascades).
 */
export async function benchPropagation(opts: {
  quick: boolean;
  progress: Progress;
  mem: MemoryWatch;
}): Promise<PropagationResult> {
  const depth = opts.quick ? 2000 : 10_000;
  const runs = opts.quick ? 100 : 1000;
  const db = await createBenchDb('postgres');
  const app = await buildBenchApp(db.handle);
  const rows: PropagationRow[] = [];
  try {
    const mk = (name: string) =>
      call(app, 'POST', '/v1/projects', {
        name,
        metric: { name: 'val_bpb', direction: 'minimize' },
        sigma0: 0.0005,
        reproduction: { command: 'uv run train.py', replicates: 3, timeBudgetS: 300 },
      });
    const value = (e: ExperimentInput | undefined) => (seed: number) =>
      (e?.value ?? 0.99) + 0.0005 * Math.sin(seed * 12.9898);

    // The same shallow cascades as the gate bench's 100,000-experiment project, in a small one.
    await mk('small');
    const small = independentRuns(10, 100);
    await call(app, 'POST', '/v1/projects/small/experiments', small.flat());
    await settle(db);
    const sLast = small[small.length - 1];
    for (const [position, e] of [
      ['a run baseline', sLast[0]],
      ['last experiment of a run (leaf)', sLast[sLast.length - 1]],
    ] as const) {
      const r = await measureReproduction(app, db.handle, 'small', position, e.key, value(e));
      rows.push(r);
      opts.progress.tick(
        `small ${position}: ${r.descendants} descendants, ${r.cascadeNodes} nodes loaded, complete ${r.completeMs.map((m) => m.toFixed(0)).join(' / ')} ms`,
      );
    }

    opts.mem.enter('propagation: load chain');
    await mk('chain');
    const c = chain(depth);
    opts.progress.step(`loading a ${depth.toLocaleString('en')}-deep chain (one batch)`);
    let t = Date.now();
    await call(app, 'POST', '/v1/projects/chain/experiments', c);
    const chainLoad = (Date.now() - t) / 1000;
    opts.progress.tick(
      `${chainLoad.toFixed(1)} s; VACUUM ANALYZE ${(await settle(db)).toFixed(1)} s`,
    );

    opts.mem.enter('propagation: chain reproductions');
    for (const [position, i] of [
      ['root', 0],
      ['middle', Math.floor(depth / 2)],
      ['leaf', depth - 1],
    ] as const) {
      const r = await measureReproduction(app, db.handle, 'chain', position, c[i].key, value(c[i]));
      rows.push(r);
      opts.progress.tick(
        `chain ${position}: ${r.descendants} descendants, ${r.cascadeNodes} nodes loaded, complete ${r.completeMs.map((m) => m.toFixed(0)).join(' / ')} ms`,
      );
    }

    opts.mem.enter('propagation: load dag');
    await mk('dag');
    const d = mergedRuns(runs, 100);
    const all = d.flat();
    opts.progress.step(
      `loading a ${all.length.toLocaleString('en')}-node DAG (${runs} runs, each building on the two before) in batches of 10,000`,
    );
    t = Date.now();
    for (let b = 0; b < d.length; b += 100) {
      await call(app, 'POST', '/v1/projects/dag/experiments', d.slice(b, b + 100).flat());
      opts.progress.tick(`batch ${b / 100 + 1}/${Math.ceil(d.length / 100)}`);
    }
    const dagLoad = (Date.now() - t) / 1000;
    opts.progress.tick(`VACUUM ANALYZE ${(await settle(db)).toFixed(1)} s`);

    opts.mem.enter('propagation: dag reproductions');
    const lastRun = d[d.length - 1];
    const keepsOfLast = lastRun.filter((e) => e.status === 'keep');
    const picks: [string, ExperimentInput][] = [
      ['root (first baseline)', d[0][0]],
      ['middle run baseline', d[Math.floor(d.length / 2)][0]],
      ['last run, a middle keep', keepsOfLast[Math.floor(keepsOfLast.length / 2)]],
      ['last experiment (leaf)', lastRun[lastRun.length - 1]],
    ];
    for (const [position, e] of picks) {
      const r = await measureReproduction(app, db.handle, 'dag', position, e.key, value(e));
      rows.push(r);
      opts.progress.tick(
        `dag ${position}: ${r.descendants} descendants, ${r.cascadeNodes} nodes loaded, complete ${r.completeMs.map((m) => m.toFixed(0)).join(' / ')} ms`,
      );
    }
    return {
      chainDepth: depth,
      dagSize: all.length,
      loadSeconds: { chain: chainLoad, dag: dagLoad },
      rows,
    };
  } finally {
    await app.close();
    await db.drop();
  }
}
