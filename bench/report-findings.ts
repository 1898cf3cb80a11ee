import { f, n } from './lib/markdown.js';
import type { Results } from './report.js';

/** Performance problems found, with this run's numbers where the run measures them. */
export function renderFindings(r: Results): string {
  const g = r.gate;
  const rate = (id: string) => g?.rows.find((x) => x.id === id)?.result;
  const keep = rate('keep');
  const keepGet = rate('keep-get');
  const accept = rate('accept');
  const chainLeaf = r.propagation?.rows.find((x) => x.project === 'chain' && x.position === 'leaf');
  const runsLeaf = g?.propagation.find((x) => x.position.includes('leaf'));
  const retries = Object.entries(r.accuracy?.retries ?? {});
  const items: string[] = [];

  items.push(`1. **PostgreSQL's JIT compiles the cascade queries on every call (fixed: ECV's pool sets \`jit=off\`).**
   With the server default \`jit = on\`, the planner's guesses for the recursive queries put their estimated
   cost above \`jit_above_cost\`, so PostgreSQL compiles them with LLVM on each call. With the queries as they
   were before finding 2, that was ~1 s per call: \`EXPLAIN ANALYZE\` of \`cascadeSubgraph\` on a two-experiment
   project spent 1,157 ms of 1,159 ms in JIT, and one simulated loop took 250 s instead of 6 s. After it the
   penalty is smaller but still there${
     g?.jit
       ? ` — this run, the gate of a keep in the 100,000-experiment project: p50 **${f(g.jit.onP50, 1)} ms with JIT,
   ${f(g.jit.offP50, 1)} ms without**`
       : ''
   }; in a fresh small project a reproduction's completion took 35–105 ms with JIT and 11–28 ms
   without (development measurement). \`openPostgres\` now opens its sessions with \`options: '-c jit=off'\` (an
   OLTP service's short queries never repay compilation). The bench databases are also created with
   \`jit = off\` unless \`--jit\` is given.`);

  items.push(`2. **The graph queries scanned whole tables, once per recursion step (fixed here).**
   \`descendantIds\` and \`cascadeSubgraph\` (\`src/db/graph.repository.ts\`) and \`descendantCount\`
   (\`src/db/jobs.repository.ts\`) joined the recursive work table with \`edges\` (and \`experiments\` for the
   anchor check). Sizing the work table at its default guess, the planner chose hash or merge joins that
   read the whole table once per step: O(depth × table). \`cascadeSubgraph\` then joined its result with
   \`experiments\` by hashing the whole table: O(table) per gate of a keep. Measured before the change
   (PostgreSQL 15, this machine): \`EXPLAIN ANALYZE\` of \`cascadeSubgraph\` for a leaf 947 levels deep in a
   12,000-row database 3,376 ms → 94 ms after; \`descendantIds\` of a root with 10,000 descendants 2,609 ms →
   53 ms; a 2,000-deep chain 4,048 ms → 41 ms; one reproduction completing at the leaf of a 2,000-deep chain
   1.40 s → 0.24 s; at a leaf of the 10,000-node DAG 3.1 s → 0.3 s; the gate of a keep in the
   100,000-experiment project (sequential, JIT off) p50 140 ms → ${g?.jit ? `${f(g.jit.offP50, 1)} ms` : 'the p50 in §2'}, and the read-only gate of
   keeps under load 9 req/s → ${keepGet ? `${f(keepGet.requestsPerSecond, 0)} req/s` : 'the rate in §2'} (§2). Each step now looks up each new node's parents or children by index
   (a correlated \`ARRAY(SELECT …)\`), and the rows are fetched by primary key (\`id = ANY(…)\`), whatever the
   statistics say. Results are identical (the gate, scheduler, API, report and ingest integration suites
   pass on PGlite and PostgreSQL).`);

  if (keep && accept) {
    items.push(`3. **Gates that schedule re-anchoring no longer serialize per project (changed); they are still the slow gate.** \`POST /gate\` of a keep below threshold ran at
   ${f(keep.requestsPerSecond, 0)} req/s (p50 ${f(keep.latencyP50, 0)} ms, ${n(keep.non2xx)} non-2xx) against ${f(accept.requestsPerSecond, 0)} req/s for an accept${
     keepGet
       ? `; the
   read-only GET, which decides but does not schedule, ran at ${f(keepGet.requestsPerSecond, 0)} req/s`
       : ''
   }. Scheduling used to hold the project row lock (\`SELECT … FOR UPDATE\`) while it planned and inserted its jobs, so
   the calls of one project ran one at a time. It now shares the project's key lock (the lock order of job completions)
   and takes an advisory lock on the gated experiment only, so decisions of one project schedule in parallel
   (\`test/integration/scheduler.test.ts\`); the cost that remains is deciding twice (outside, then under the decision
   lock) and the job insert's own commit. A loop calls the gate once per keep, so this bounds many loops sharing one
   project, not one.`);
  }
  items.push(`4. **Concurrent first gates of a project could deadlock in pg-boss (gone with pg-boss).** The first re-anchoring of a
   project created its pg-boss queue; concurrent first calls deadlocked inside \`pgboss.create_queue\` (PostgreSQL 40P01,
   answered 503). Jobs now live in ECV's own \`jobs\` table, leased with \`FOR UPDATE SKIP LOCKED\` (docs/operations.md,
   "The job store"): there is no queue to create.${retries.length ? ` The accuracy loops retried ${retries.map(([d, c]) => `${c} × 503 "${d}"`).join(', ')}.` : ''}`);

  items.push(`5. **Ingest wrote every row three times (now twice).** An ingest INSERTs each experiment, then the rescore writes
   its score and its cascade (K): K is now compounded in memory from the new scores and stored with them in one
   UPDATE (\`saveScoring\`), and the rescore reads only the columns it scores from (\`src/db/scoring.repository.ts\`).
   Scoring new rows before the INSERT would remove the second write; the pure scoring itself (the σ nodes' E[Φ(μ/σ)]
   quadrature of every experiment, §3) is what dominates a large first ingest.`);

  items.push(`6. **Every write counted the whole project (fixed).** \`rescore\` starts with \`observationCount\` to decide whether
   statistics are due for a refit; it was count(*) of the project's experiments and reproductions, O(project) per write.
   On the 100,000-experiment project right after loading (visibility maps not yet set) that count took ~200 ms,
   and after the propagation runs' 100,000-row UPDATEs ~330 ms (PostgreSQL's slow-statement log, development). It
   now reads two counters on the project row (\`next_seq\`, and \`reproduction_count\` from \`sql/0003\`), kept under
   the project lock by the writes themselves.`);

  if (g && g.load.perBatchMs.length > 1) {
    items.push(`7. **Batch loads slow down as the project grows.** Each 10,000-experiment batch grows the project by ≥ 10%, which
   triggers a refit of the statistics over the whole project and, when they move materially, a rescore
   of every experiment: the gate bench's batches took ${g.load.perBatchMs.map((m) => f(m / 1000, 1)).join(', ')} s. The refit now reads
   only the columns it scores from; it still holds every row's stored and new score JSON at once, likely most of
   the peak RSS of the 100,000-experiment loads in §5 (not measured separately). Rescoring in chunks would bound it.
   Between refits (under 10% growth, above 500 observations) a write rescores only what it affects.`);
  }
  if (chainLeaf) {
    items.push(`8. **A reproduction's cost followed the un-anchored ancestors too, not only the descendants (fixed where no
   descendant has several premises).** The rescore recomputed K of the affected experiments by reloading their whole
   cascade back to the nearest anchors: at the leaf of the 10,000-deep chain, 1 descendant but 10,000 nodes loaded,
   213 ms in the previous full run. For a single premise K(X) = C(X)·K(P) (or C(X)·C(P) when P is an anchor), so it
   now extends the premises' stored cascades (K, ancestor count, weakest link and hard gate with their distances):
   this run, ${n(chainLeaf.cascadeNodes)} nodes loaded and ${f(chainLeaf.medianMs, 0)} ms at that leaf${
     runsLeaf
       ? `, ${f(runsLeaf.medianMs, 0)} ms at a leaf of the ${n(runsLeaf.projectSize)}-experiment project of short runs`
       : ''
   }. An affected experiment with several
   premises (a diamond) still loads its cascade up to the anchors, since its ancestors must be counted once.`);
  }
  return `## Findings: performance problems\n\n${items.join('\n\n')}\n`;
}
