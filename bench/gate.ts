import type { AddressInfo } from 'node:net';
import { openDatabase } from '../src/db/connection.js';
import { loadConfig } from '../src/config.js';
import { gate } from '../src/services/gate.service.js';
import { createContext } from '../src/services/deps.js';
import type { ExperimentInput } from '../src/domain/types.js';
import { buildBenchApp, call } from './lib/app.js';
import { runLoad } from './lib/child.js';
import { ADMIN_URL, createBenchDb, settle } from './lib/db.js';
import type { LoadResult } from './lib/load.js';
import type { MemoryWatch } from './lib/memory.js';
import type { Progress } from './lib/progress.js';
import { independentRuns } from './lib/projects.js';
import { measureReproduction, type PropagationRow } from './lib/propagate.js';
import { quantile } from './lib/stats.js';
import { Rng } from './sim/prng.js';

export interface GateResult {
  experiments: number;
  keeps: number;
  roots: number;
  load: { batches: number; seconds: number; perBatchMs: number[]; vacuumSeconds: number };
  connections: number;
  durationS: number;
  poolSize: number;
  rows: {
    id: string;
    label: string;
    decision: string;
    result: LoadResult;
    /** Gate decisions the app's group-commit writer committed during the row, and its INSERTs. */
    recorded: { rows: number; batches: number; largestBatch: number };
  }[];
  /** Reproductions landing in this project of shallow cascades (reported with propagation). */
  propagation: PropagationRow[];
  /** Sequential latency (ms) of the reanchor-path gate, PostgreSQL JIT on vs off. */
  jit: { calls: number; onP50: number; offP50: number; onMax: number; offMax: number } | null;
}

function shuffled<T>(xs: T[], seed: number): T[] {
  const rng = new Rng(seed);
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/**
 * Gate throughput and latency (SPEC §14) on PostgreSQL: a project of independent
 * keep-if-better runs (100,000 experiments), loaded through the experiments API in batches of
 * 10,000, then autocannon against the listening service: the gate's paths and the floor, one
 * primary-key SELECT answered by the same process through the same pool.
 */
export async function benchGate(opts: {
  quick: boolean;
  progress: Progress;
  mem: MemoryWatch;
}): Promise<GateResult> {
  const runs = opts.quick ? 100 : 1000;
  const durationS = opts.quick ? 3 : 10;
  const connections = 50;
  const poolSize = 10;
  const db = await createBenchDb('postgres', poolSize);
  const app = await buildBenchApp(db.handle, { pkRoute: true });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const project = 'gate-bench';
    await call(app, 'POST', '/v1/projects', {
      name: project,
      metric: { name: 'val_bpb', direction: 'minimize' },
      sigma0: 0.0005,
      reproduction: { command: 'uv run train.py', replicates: 3, timeBudgetS: 300 },
    });
    opts.mem.enter('gate: load');
    const data = independentRuns(runs, 100);
    const all: ExperimentInput[] = data.flat();
    opts.progress.step(
      `loading ${all.length.toLocaleString('en')} experiments (${runs} independent runs) through POST /experiments in batches of 10,000`,
    );
    const t0 = Date.now();
    const perBatchMs: number[] = [];
    for (let b = 0; b < data.length; b += 100) {
      const t = Date.now();
      await call(app, 'POST', `/v1/projects/${project}/experiments`, data.slice(b, b + 100).flat());
      perBatchMs.push(Date.now() - t);
      opts.progress.tick(
        `batch ${perBatchMs.length}/${Math.ceil(data.length / 100)}: ${perBatchMs.at(-1)} ms`,
      );
    }
    const loadSeconds = (Date.now() - t0) / 1000;
    const vacuumSeconds = await settle(db);
    opts.progress.tick(`VACUUM ANALYZE: ${vacuumSeconds.toFixed(1)} s`);

    // Propagation in a big project of shallow cascades, before any job is queued by the gate.
    opts.mem.enter('gate: reproductions');
    const propagation: PropagationRow[] = [];
    const lastRun = data[data.length - 1];
    const lastKeeps = lastRun.filter((e) => e.status === 'keep');
    for (const [position, e] of [
      ['a run baseline', lastRun[0]],
      ['a middle keep of a run', lastKeeps[Math.floor(lastKeeps.length / 2)]],
      ['last experiment of a run (leaf)', lastRun[lastRun.length - 1]],
    ] as const) {
      const r = await measureReproduction(
        app,
        db.handle,
        project,
        position,
        e.key,
        (seed) => (e.value ?? 0.99) + 0.0005 * Math.sin(seed),
      );
      propagation.push(r);
      opts.progress.tick(
        `reproduction at ${position}: ${r.descendants} descendants, ${r.cascadeNodes} nodes loaded, complete ${r.completeMs.map((m) => m.toFixed(0)).join(' / ')} ms`,
      );
    }

    const roots = all.filter((e) => !e.premises).map((e) => e.key);
    const keeps = all.filter((e) => e.premises && e.status === 'keep').map((e) => e.key);
    const discards = all.filter((e) => e.status === 'discard').map((e) => e.key);
    const ids = (await db.handle.db.selectFrom('experiments').select('id').execute()).map(
      (r) => r.id,
    );
    const gatePath = `/v1/projects/${project}/gate`;
    const body = (k: string) => JSON.stringify({ experiment: k });
    const n = 20_000;
    const workloads: {
      id: string;
      label: string;
      method: 'GET' | 'POST';
      requests: { path: string; body?: string }[];
      expect: string;
    }[] = [
      {
        id: 'pk',
        label: 'floor: GET one row by primary key',
        method: 'GET',
        requests: shuffled(ids, 1)
          .slice(0, n)
          .map((id) => ({ path: `/bench/pk/${id}` })),
        expect: '—',
      },
      {
        id: 'accept',
        label: 'POST gate, roots (K ≥ threshold)',
        method: 'POST',
        requests: shuffled(roots, 2).map((k) => ({ path: gatePath, body: body(k) })),
        expect: 'accept',
      },
      {
        id: 'accept-noinsert',
        label: 'what-if: the same decision without the audit INSERT (bench-only route)',
        method: 'GET',
        requests: shuffled(roots, 2).map((k) => ({ path: `/bench/decide/${project}/${k}` })),
        expect: 'accept',
      },
      {
        id: 'reject',
        label: 'POST gate, discards (hard gate)',
        method: 'POST',
        requests: shuffled(discards, 3)
          .slice(0, n)
          .map((k) => ({ path: gatePath, body: body(k) })),
        expect: 'reject',
      },
      {
        id: 'keep-get',
        label: 'GET read-only gate, keeps (undecided: names the next reproduction)',
        method: 'GET',
        requests: shuffled(keeps, 4)
          .slice(0, n)
          .map((k) => ({ path: `/v1/projects/${project}/experiments/${k}/gate` })),
        expect: 'reanchor',
      },
      {
        id: 'keep',
        label: 'POST gate, keeps (undecided: queues one reproduction, or finds it pending)',
        method: 'POST',
        requests: shuffled(keeps, 5)
          .slice(0, n)
          .map((k) => ({ path: gatePath, body: body(k) })),
        expect: 'reanchor',
      },
    ];
    // What each path answers, checked once before measuring it.
    const decisionOf = async (w: (typeof workloads)[number]) => {
      if (w.id === 'pk') return '—';
      const r = w.requests[0];
      const res = await app.inject({
        method: w.method,
        url: r.path,
        ...(r.body ? { payload: JSON.parse(r.body) as object } : {}),
      });
      return (res.json() as { decision: string }).decision;
    };
    const rows: GateResult['rows'] = [];
    for (const w of workloads) {
      const decision = await decisionOf(w);
      opts.mem.enter(`gate: ${w.id}`);
      opts.progress.step(
        `autocannon ${connections} connections × ${durationS} s: ${w.label} (answers ${decision})`,
      );
      const writer = app.deps.gateWriter;
      const before = { ...writer.stats };
      writer.stats.largestBatch = 0;
      const result = await runLoad({
        url,
        method: w.method,
        requests: w.requests,
        connections,
        durationS,
      });
      opts.progress.tick(
        `${result.requestsPerSecond.toFixed(0)} req/s, p50 ${result.latencyP50} ms, p99 ${result.latencyP99} ms, non-2xx ${result.non2xx}, errors ${result.errors}`,
      );
      // The row's last batches commit after the load ends: count them with this row.
      await writer.close();
      const recorded = {
        rows: writer.stats.rows - before.rows,
        batches: writer.stats.batches - before.batches,
        largestBatch: writer.stats.largestBatch,
      };
      opts.progress.tick(
        `recorded ${recorded.rows} decisions in ${recorded.batches} INSERTs (largest ${recorded.largestBatch})`,
      );
      rows.push({ id: w.id, label: w.label, decision, result, recorded });
    }

    // PostgreSQL's JIT on the reanchor path (server default jit = on): sequential gate calls
    // through the service function, no queue (plans, does not schedule), one pool per setting.
    opts.mem.enter('gate: jit');
    let jit: GateResult['jit'] = null;
    const calls = opts.quick ? 5 : 15;
    const sample = shuffled(keeps, 6).slice(0, calls);
    const timeWith = async (setting: 'on' | 'off') => {
      const handle = await openDatabase({
        databaseUrl: `${ADMIN_URL.replace(/\/[^/]*$/, `/${db.name}`)}?options=-c%20jit%3D${setting}`,
        poolSize: 2,
      });
      const deps = createContext({ db: handle, config: loadConfig({ ECV_AUTH: 'off' }), log: app.log }, { queue: false });
      const ms: number[] = [];
      try {
        for (const k of sample) {
          const t = performance.now();
          await gate(deps, project, { experiment: k }, 'bench-jit');
          ms.push(performance.now() - t);
        }
      } finally {
        await handle.close();
      }
      return ms;
    };
    opts.progress.step(`JIT: ${calls} sequential reanchor-path gate calls with jit = on, then off`);
    const on = await timeWith('on');
    const off = await timeWith('off');
    jit = {
      calls,
      onP50: quantile(on, 0.5),
      offP50: quantile(off, 0.5),
      onMax: Math.max(...on),
      offMax: Math.max(...off),
    };
    opts.progress.tick(
      `jit on p50 ${jit.onP50.toFixed(1)} ms, off p50 ${jit.offP50.toFixed(1)} ms`,
    );

    return {
      experiments: all.length,
      keeps: keeps.length,
      roots: roots.length,
      load: { batches: perBatchMs.length, seconds: loadSeconds, perBatchMs, vacuumSeconds },
      connections,
      durationS,
      poolSize,
      rows,
      propagation,
      jit,
    };
  } finally {
    await app.close();
    await db.drop();
  }
}
