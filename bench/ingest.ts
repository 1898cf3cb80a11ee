import { buildPremiseGraph, recomputeCompounded } from '../src/domain/cascade/index.js';
import { parseResultsTsv } from '../src/domain/ingest/index.js';
import { normalizeProject } from '../src/domain/project.js';
import {
  computeProjectStats,
  scoreProject,
  type ObservedExperiment,
} from '../src/domain/scoring/index.js';
import { buildBenchApp, call } from './lib/app.js';
import { createBenchDb, postgresAvailable } from './lib/db.js';
import type { MemoryWatch } from './lib/memory.js';
import type { Progress } from './lib/progress.js';
import { resultsTsv } from './lib/projects.js';
import { benchIncremental, type IncrementalResult } from './ingest-incremental.js';

export interface IngestResult {
  engine: string;
  rows: number;
  bytes: number;
  ecvSeconds: number;
  bareSeconds: number;
  /** Re-ingesting the same file (idempotent: nothing written). */
  reingestSeconds: number;
  /** ECV rows/s ÷ bare INSERT rows/s. */
  ratio: number;
  created: number;
  /** Where ECV's time goes: the pure steps timed alone on the same rows, in this process. */
  breakdown: { parse: number; stats: number; score: number; cascade: number };
  /** Re-ingest with --git, appending one row (TSV and --git), GET /graph in pages (issue 19). */
  incremental?: IncrementalResult;
}

const timed = async <T>(fn: () => Promise<T> | T): Promise<[T, number]> => {
  const t = performance.now();
  const out = await fn();
  return [out, (performance.now() - t) / 1000];
};

/**
 * Ingest (SPEC §14): a 100,000-row Karpathy-format results.tsv through POST /results (parse,
 * store, score every row, compound K along the premise DAG, one transaction) against a bare
 * multi-row INSERT of the same rows into a plain five-column table of the same database.
 */
export async function benchIngest(opts: {
  quick: boolean;
  progress: Progress;
  mem: MemoryWatch;
}): Promise<IngestResult> {
  const n = opts.quick ? 10_000 : 100_000;
  const engine = (await postgresAvailable()) ? 'postgres' : 'pglite';
  const db = await createBenchDb(engine);
  const app = await buildBenchApp(db.handle);
  try {
    const tsv = resultsTsv(n);
    await call(app, 'POST', '/v1/projects', {
      name: 'ingest',
      metric: { name: 'val_bpb', direction: 'minimize' },
    });

    opts.mem.enter('ingest: ECV');
    opts.progress.step(
      `POST /v1/projects/ingest/results: ${n.toLocaleString('en')} rows, ${(tsv.length / 2 ** 20).toFixed(1)} MiB (${engine})`,
    );
    const post = () =>
      app.inject({
        method: 'POST',
        url: '/v1/projects/ingest/results',
        headers: { 'content-type': 'text/tab-separated-values' },
        payload: tsv,
      });
    const [res, ecvSeconds] = await timed(post);
    if (res.statusCode >= 300)
      throw new Error(`ingest answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
    const created = (res.json() as { created: number }).created;
    opts.progress.tick(
      `${ecvSeconds.toFixed(1)} s, ${created} created (${Math.round(n / ecvSeconds)} rows/s)`,
    );

    opts.mem.enter('ingest: re-ingest');
    const [again, reingestSeconds] = await timed(post);
    opts.progress.tick(
      `same file again: ${reingestSeconds.toFixed(1)} s, created ${(again.json() as { created: number }).created}`,
    );

    const incremental = await benchIncremental(app, { project: 'ingest', rows: n, progress: opts.progress, mem: opts.mem });

    opts.mem.enter('ingest: bare INSERT');
    opts.progress.step('bare multi-row INSERT of the same rows into a plain table');
    const rows = tsv
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((l) => l.split('\t'));
    await db.handle.executeSql(
      'CREATE TABLE bare_results (commit text, val_bpb double precision, memory_gb double precision, status text, description text)',
    );
    const chunk = 10_000; // 5 parameters per row: 50,000 < 65,535
    const [, bareSeconds] = await timed(() =>
      db.handle.db.transaction().execute(async (trx) => {
        for (let i = 0; i < rows.length; i += chunk) {
          const part = rows.slice(i, i + chunk);
          const values = part
            .map(
              (_, j) =>
                `($${5 * j + 1}, $${5 * j + 2}, $${5 * j + 3}, $${5 * j + 4}, $${5 * j + 5})`,
            )
            .join(',');
          const params = part.flatMap((r) => [r[0], Number(r[1]), Number(r[2]), r[3], r[4]]);
          await trx.executeQuery({
            sql: `INSERT INTO bare_results VALUES ${values}`,
            parameters: params,
            query: { kind: 'RawNode' },
          } as never);
        }
      }),
    );
    opts.progress.tick(`${bareSeconds.toFixed(2)} s (${Math.round(n / bareSeconds)} rows/s)`);

    // The pure work of an ingest, alone: parse, fit statistics, score every row, compound K.
    opts.mem.enter('ingest: breakdown');
    const project = normalizeProject({
      name: 'ingest',
      metric: { name: 'val_bpb', direction: 'minimize' },
    });
    const [parsed, parse] = await timed(() =>
      parseResultsTsv(tsv, { metricName: 'val_bpb', direction: 'minimize' }),
    );
    const observed: ObservedExperiment[] = parsed.rows.map((r) => ({
      key: r.key,
      status: r.status,
      value: r.value ?? null,
      replicates: r.replicates ?? [],
      baseline: r.baseline ?? null,
      premiseKey: r.premises?.[0] ?? null,
      reproductions: [],
    }));
    const [stats, statsS] = await timed(() =>
      computeProjectStats({ project, experiments: observed }),
    );
    const [scored, score] = await timed(() => scoreProject({ project, experiments: observed, stats }));
    const scores = observed.map((o) => scored.get(o.key)!);
    const [, cascade] = await timed(() => {
      const nodes = parsed.rows.map((r, i) => ({
        key: r.key,
        premises: r.premises ?? [],
        confidence: scores[i].value,
        anchored: scores[i].anchorEligible,
        hardGate: scores[i].hardGate,
      }));
      return recomputeCompounded(
        buildPremiseGraph(nodes),
        nodes.map((x) => x.key),
      );
    });
    opts.progress.tick(
      `pure steps: parse ${parse.toFixed(2)} s, statistics ${statsS.toFixed(2)} s, score ${score.toFixed(2)} s, cascade ${cascade.toFixed(2)} s`,
    );

    return {
      engine,
      rows: n,
      bytes: tsv.length,
      ecvSeconds,
      bareSeconds,
      reingestSeconds,
      ratio: bareSeconds / ecvSeconds,
      created,
      breakdown: { parse, stats: statsS, score, cascade },
      incremental,
    };
  } finally {
    await app.close();
    await db.drop();
  }
}
