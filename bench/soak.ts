import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { ExperimentInput } from '../src/domain/types.js';
import { runLoad } from './lib/child.js';
import { createBenchDb } from './lib/db.js';
import type { LoadResult } from './lib/load.js';
import type { MemoryWatch } from './lib/memory.js';
import type { Progress } from './lib/progress.js';
import { independentRuns } from './lib/projects.js';
import { Rng } from './sim/prng.js';
import { startService } from '../test/helpers/service.js';

const ADMIN_TOKEN = 'ecv_admin_soak_bench_token_0123456789';

export interface SoakResult {
  durationS: number;
  setupExperiments: number;
  gate: LoadResult & { connections: number };
  ingest: LoadResult & { connections: number; batch: number };
  /** Service RSS (MiB) sampled once a second from /proc while the load ran. */
  rss: { t: number; mib: number }[];
  /** Lowest RSS of the second sixth of the run and of the last sixth, MiB: the floor the garbage
   * collector comes back to (single samples swing by ±30% with GC timing); a leak raises it. */
  rssEarly: number;
  rssLate: number;
  experimentsStored: number;
  /** Writes answered 2xx; writes still in flight when the load stopped may also have landed. */
  batchesAnswered: number;
}

/** Resident set size of a process, MiB (Linux /proc). */
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function post(url: string, path: string, token: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const out = (await res.json()) as unknown;
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${JSON.stringify(out)}`);
  return out;
}

/**
 * Bounded load test (SPEC §13, issue 9): a real `ecv serve` process on PostgreSQL with auth on;
 * for a minute, loop clients gate while others write new experiments (batches of 5, each built
 * on a keep of the setup), all through one scoped loop token. Errors and non-2xx answers must be
 * zero, the service's memory flat, and every written experiment stored once.
 */
export async function benchSoak(opts: {
  quick: boolean;
  progress: Progress;
  mem: MemoryWatch;
}): Promise<SoakResult> {
  const durationS = opts.quick ? 10 : 60;
  const db = await createBenchDb('postgres', 2);
  const dbUrl = db.url!;
  await db.handle.close(); // the service is the only writer
  const svc = await startService({
    DATABASE_URL: dbUrl,
    ECV_AUTH: 'on',
    ECV_ADMIN_TOKEN: ADMIN_TOKEN,
    // The per-token limit would answer most of this load 429 by design; lifted to measure.
    ECV_RATE_LIMIT: '10000000',
  });
  try {
    const project = 'soak';
    opts.progress.step(
      `ecv serve (pid ${svc.proc.pid}) on PostgreSQL, auth on; setting up project '${project}'`,
    );
    await post(svc.url, '/v1/projects', ADMIN_TOKEN, {
      name: project,
      metric: { name: 'val_bpb', direction: 'minimize' },
      sigma0: 0.0005,
      reproduction: { command: 'uv run train.py', replicates: 2, timeBudgetS: 300 },
    });
    const { token } = (await post(svc.url, '/v1/tokens', ADMIN_TOKEN, {
      role: 'loop',
      projects: [project],
    })) as { token: string };
    const runs = independentRuns(opts.quick ? 10 : 50, 40);
    for (const run of runs) await post(svc.url, `/v1/projects/${project}/experiments`, token, run);
    const setup: ExperimentInput[] = runs.flat();
    const keeps = setup.filter((e) => e.status === 'keep');
    opts.progress.tick(
      `${setup.length} experiments (${keeps.length} keeps) in ${runs.length} runs`,
    );

    // Gate requests cycle over every setup experiment (accepts, rejects and re-anchor scheduling).
    const rng = new Rng(9);
    const gatePath = `/v1/projects/${project}/gate`;
    const gateRequests = setup.map(() => ({
      path: gatePath,
      body: JSON.stringify({ experiment: setup[rng.int(setup.length)].key }),
    }));
    // Writes: more distinct batches than the run can send, so none repeats.
    const batch = 5;
    const ingestRequests = Array.from({ length: opts.quick ? 20_000 : 60_000 }, (_, i) => {
      const base = keeps[rng.int(keeps.length)];
      let prev = base.key;
      let v = base.value ?? 1;
      const rows: ExperimentInput[] = [];
      for (let j = 0; j < batch; j++) {
        const keep = rng.next() < 0.3;
        const value = v + 0.001 * (rng.next() - 0.6);
        const key = `s${i}-${j}`;
        rows.push({ key, status: keep ? 'keep' : 'discard', value, premises: [prev] });
        if (keep) {
          prev = key;
          v = value;
        }
      }
      return { path: `/v1/projects/${project}/experiments`, body: JSON.stringify(rows) };
    });

    const gateConnections = 16;
    const ingestConnections = 4;
    opts.mem.enter('soak: load');
    opts.progress.step(
      `${durationS} s of load: ${gateConnections} gate connections and ${ingestConnections} writing batches of ${batch}, concurrently`,
    );
    const rss: { t: number; mib: number }[] = [];
    const t0 = Date.now();
    const sampler = setInterval(() => {
      rss.push({ t: (Date.now() - t0) / 1000, mib: rssMiB(svc.proc.pid!) });
      if (rss.length % 10 === 0)
        opts.progress.tick(`${rss.length} s: service RSS ${rss.at(-1)!.mib.toFixed(0)} MiB`);
    }, 1000);
    const headers = { authorization: `Bearer ${token}` };
    const [gate, ingest] = await Promise.all([
      runLoad({
        url: svc.url,
        method: 'POST',
        requests: gateRequests,
        connections: gateConnections,
        durationS,
        headers,
      }),
      runLoad({
        url: svc.url,
        method: 'POST',
        requests: ingestRequests,
        connections: ingestConnections,
        durationS,
        headers,
      }),
    ]).finally(() => clearInterval(sampler));
    opts.progress.tick(
      `gate: ${gate.ok} ok, ${gate.non2xx} non-2xx, ${gate.errors} errors; writes: ${ingest.ok} ok, ${ingest.non2xx} non-2xx, ${ingest.errors} errors`,
    );

    const sixth = Math.max(1, Math.floor(rss.length / 6));
    const rssEarly = Math.min(...rss.slice(sixth, 2 * sixth).map((r) => r.mib));
    const rssLate = Math.min(...rss.slice(-sixth).map((r) => r.mib));

    const c = new pg.Client({ connectionString: dbUrl });
    await c.connect();
    const stored = Number((await c.query('SELECT count(*)::int AS n FROM experiments')).rows[0].n);
    await c.end();
    return {
      durationS,
      setupExperiments: setup.length,
      gate: { ...gate, connections: gateConnections },
      ingest: { ...ingest, connections: ingestConnections, batch },
      rss,
      rssEarly,
      rssLate,
      experimentsStored: stored,
      batchesAnswered: ingest.ok,
    };
  } finally {
    await svc.stop();
    await db.drop();
  }
}
