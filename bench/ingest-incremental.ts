import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { injectClient } from '../src/cli/client.js';
import { runIngest } from '../src/cli/ingest.js';
import { createProgress } from '../src/cli/progress.js';
import { call } from './lib/app.js';
import { loopRepo } from './lib/git-repo.js';
import type { MemoryWatch } from './lib/memory.js';
import type { Progress } from './lib/progress.js';
import { resultsRows, resultsTsv } from './lib/projects.js';

/** Re-ingest, append and graph paging figures of the ingest section (issue 19). */
export interface IncrementalResult {
  /** `ecv ingest --git` (in process, a real repository): first ingest and the same file and branch again. */
  git: { rows: number; commits: number; firstSeconds: number; reingestSeconds: number };
  /** One row appended to a log of `rows` rows, then ingested: median seconds over `repeats` appends. */
  append: { rows: number; tsvSeconds: number; gitSeconds: number }[];
  repeats: number;
  /** GET /graph of the big project: the first page, and every page following `next`. */
  graph: { nodes: number; pageLimit: number; firstPageMs: number; firstPageBytes: number; wholeSeconds: number; wholeBytes: number; pages: number };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const now = () => performance.now() / 1000;

/** A row line appended to a results.tsv, numbered after its `i` rows: a discard, as most rows are. */
const extraRow = (i: number) => `${(0xe000000 + i * 40503).toString(16).slice(-7)}\t1.100000\t60.2\tdiscard\tappended ${i}\n`;

async function postTsv(app: FastifyInstance, project: string, body: string): Promise<void> {
  const res = await app.inject({ method: 'POST', url: `/v1/projects/${project}/results`, headers: { 'content-type': 'text/tab-separated-values' }, payload: body });
  if (res.statusCode >= 300) throw new Error(`ingest answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
}

/**
 * Runs after the big project (`project`, `rows` rows, ingested from `resultsTsv(rows)`) is stored:
 * appends to it and to a 100-row log (TSV and --git), then reads its graph in pages.
 */
export async function benchIncremental(app: FastifyInstance, opts: { project: string; rows: number; progress: Progress; mem: MemoryWatch; quiet?: boolean }): Promise<IncrementalResult> {
  const { progress, mem } = opts;
  const client = injectClient(app, async () => {});
  const cli = (file: string, project: string, dir: string) => runIngest(client, { file, project, git: dir, cwd: dir, progress: createProgress({ force: true, stream: { isTTY: false, write: () => true } }) });
  const repeats = 3;
  const newProject = (name: string) => call(app, 'POST', '/v1/projects', { name, metric: { name: 'val_bpb', direction: 'minimize' } });

  // --git: the CLI path on a real repository (one commit per kept row), first ingest then again.
  mem.enter('ingest: --git');
  const repo = loopRepo(resultsRows(opts.rows));
  const small = loopRepo(resultsRows(100));
  try {
    const file = join(repo.dir, 'results.tsv');
    writeFileSync(file, repo.tsv);
    await newProject('ingest-git');
    progress.step(`ecv ingest --git: ${opts.rows.toLocaleString('en')} rows, ${repo.commits.toLocaleString('en')} commits on the branch`);
    let t = now();
    await cli(file, 'ingest-git', repo.dir);
    const firstSeconds = now() - t;
    t = now();
    const again = await cli(file, 'ingest-git', repo.dir);
    const reingestSeconds = now() - t;
    if (again.created + again.updated !== 0) throw new Error(`--git re-ingest wrote ${again.created} new, ${again.updated} updated`);
    progress.tick(`first ${firstSeconds.toFixed(1)} s, same file and branch again ${reingestSeconds.toFixed(2)} s`);

    // Append one row to the big log and to a 100-row log, TSV and --git, `repeats` times each.
    mem.enter('ingest: append');
    progress.step(`append 1 row and ingest: ${opts.rows.toLocaleString('en')}-row log vs 100-row log (TSV and --git, median of ${repeats})`);
    let bigTsv = resultsTsv(opts.rows);
    let smallTsv = resultsTsv(100);
    await newProject('small');
    await postTsv(app, 'small', smallTsv);
    const smallFile = join(small.dir, 'results.tsv');
    writeFileSync(smallFile, small.tsv);
    await newProject('small-git');
    await cli(smallFile, 'small-git', small.dir);
    const times = { bigTsv: [] as number[], smallTsv: [] as number[], bigGit: [] as number[], smallGit: [] as number[] };
    for (let k = 0; k < repeats; k++) {
      bigTsv += extraRow(opts.rows + k);
      t = now();
      await postTsv(app, opts.project, bigTsv);
      times.bigTsv.push(now() - t);
      smallTsv += extraRow(100 + k);
      t = now();
      await postTsv(app, 'small', smallTsv);
      times.smallTsv.push(now() - t);
      // A kept experiment: a new commit on the branch and its row.
      writeFileSync(file, repo.appendKeep(0.5 - k * 1e-3));
      t = now();
      await cli(file, 'ingest-git', repo.dir);
      times.bigGit.push(now() - t);
      writeFileSync(smallFile, small.appendKeep(0.5 - k * 1e-3));
      t = now();
      await cli(smallFile, 'small-git', small.dir);
      times.smallGit.push(now() - t);
    }
    const append = [
      { rows: opts.rows, tsvSeconds: median(times.bigTsv), gitSeconds: median(times.bigGit) },
      { rows: 100, tsvSeconds: median(times.smallTsv), gitSeconds: median(times.smallGit) },
    ];
    progress.tick(append.map((a) => `${a.rows.toLocaleString('en')} rows: TSV ${a.tsvSeconds.toFixed(3)} s, --git ${a.gitSeconds.toFixed(3)} s`).join('; '));

    // GET /graph of the big project: first page, then the whole graph page by page.
    mem.enter('ingest: graph');
    progress.step(`GET /v1/projects/${opts.project}/graph in pages`);
    const get = (q: string) => app.inject({ method: 'GET', url: `/v1/projects/${opts.project}/graph${q}` });
    await get('?limit=10'); // warm the route and the plan
    t = now();
    const first = await get('');
    const firstPageMs = (now() - t) * 1000;
    const page0 = first.json() as { nodes: unknown[]; next: number | null };
    t = now();
    let nodes = 0;
    let bytes = 0;
    let pages = 0;
    let after: number | null = -1;
    while (after !== null) {
      const res = await get(pages === 0 ? '' : `?after=${after}`);
      const body = res.json() as { nodes: unknown[]; next: number | null };
      nodes += body.nodes.length;
      bytes += res.rawPayload.length;
      after = body.next;
      pages++;
    }
    const wholeSeconds = now() - t;
    progress.tick(`first page ${firstPageMs.toFixed(0)} ms (${page0.nodes.length} nodes), whole graph ${wholeSeconds.toFixed(2)} s in ${pages} pages, ${(bytes / 2 ** 20).toFixed(1)} MiB`);
    return {
      git: { rows: opts.rows, commits: repo.commits, firstSeconds, reingestSeconds },
      append,
      repeats,
      graph: { nodes, pageLimit: page0.nodes.length, firstPageMs, firstPageBytes: first.rawPayload.length, wholeSeconds, wholeBytes: bytes, pages },
    };
  } finally {
    repo.remove();
    small.remove();
  }
}
