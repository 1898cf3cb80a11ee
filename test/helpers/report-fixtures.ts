/**
 * Projects for report tests: a real autoresearch log read with a tiny local TSV reader (the
 * ingestion service has its own, fuller parser), a deterministic synthetic loop, and
 * reproductions stored the way a finished job stores them (row + rescore in one transaction).
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { DbHandle } from '../../src/db/connection.js';
import { insertReproduction } from '../../src/db/jobs.repository.js';
import { lockProject } from '../../src/db/projects.repository.js';
import { rescore } from '../../src/services/scoring.service.js';
import type { ExperimentInput } from '../../src/domain/types.js';

import { KARPATHY_LOG } from './corpus.js';
import { rng } from './prng.js';

export const REAL_LOG = KARPATHY_LOG;

/**
 * results.tsv rows → experiments with the loop's own lineage: each row's premise is the latest
 * keep before it. Columns: commit, metric, …, status, description (by header name).
 */
export function experimentsFromTsv(text: string): ExperimentInput[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const header = lines[0].split('\t').map((h) => h.trim().toLowerCase());
  const col = (name: string) => header.indexOf(name);
  const [iCommit, iStatus, iDesc] = [col('commit'), col('status'), col('description')];
  const iValue = header.findIndex((h, i) => i !== iCommit && h !== 'status' && h !== 'description');
  const seen = new Map<string, number>();
  let premise: string | undefined;
  return lines.slice(1).map((line) => {
    const f = line.split('\t');
    const raw = (f[iStatus] ?? '').trim().toLowerCase();
    const status = raw === 'keep' || raw === 'discard' || raw === 'crash' ? raw : 'unknown';
    const commit = (f[iCommit] ?? '').trim() || 'row';
    const n = (seen.get(commit) ?? 0) + 1;
    seen.set(commit, n);
    const key = n === 1 ? commit : `${commit}-${n}`;
    const v = Number(f[iValue]);
    const e: ExperimentInput = { key, status, value: status === 'crash' || !Number.isFinite(v) ? null : v, description: f[iDesc] ?? '' };
    if (premise) e.premises = [premise];
    if (status === 'keep') premise = key;
    return e;
  });
}

export const realLogExperiments = () => experimentsFromTsv(readFileSync(REAL_LOG, 'utf8'));


const IDEAS = ['raise LR', 'lower LR', 'wider MLP', 'deeper model', 'longer warmup', 'shorter warmdown', 'RoPE base', 'window pattern', 'weight decay', 'batch size', 'grad clip', 'init scale'];

/**
 * A keep-if-better loop of `n` (≥ 2) experiments on val_bpb (minimize): mostly discards, some
 * crashes, keeps that advance the main chain, and a few kept side branches.
 */
export function syntheticExperiments(n: number, seed = 7): ExperimentInput[] {
  const r = rng(seed);
  const out: ExperimentInput[] = [{ key: 's0000', status: 'keep', value: 1.0, description: 'baseline' }];
  let head = 's0000';
  let best = 1.0;
  const branchTips: { key: string; value: number }[] = [];
  for (let i = 1; i < n - 1; i++) {
    const key = `s${String(i).padStart(4, '0')}`;
    const idea = `${IDEAS[Math.floor(r() * IDEAS.length)]} ${(0.5 + r() * 2).toFixed(2)}x`;
    const u = r();
    const noise = (r() - 0.5) * 0.004;
    if (u < 0.06) {
      out.push({ key, status: 'crash', value: null, premises: [head], description: `${idea} (OOM)` });
    } else if (u < 0.2) {
      // Diminishing returns: early keeps gain more than late ones.
      best -= 0.0003 + r() * 0.006 * Math.exp(-i / 120);
      out.push({ key, status: 'keep', value: best + noise * 0.2, premises: [head], description: idea });
      head = key;
    } else if (u < 0.25 && i > 20) {
      // A side branch: kept on an older premise, or continuing an earlier branch.
      const tip = branchTips.length && r() < 0.5 ? branchTips[Math.floor(r() * branchTips.length)] : null;
      const base = tip ?? { key: out[Math.floor(r() * i)].key, value: best + 0.01 };
      const from = out.find((e) => e.key === base.key)!;
      const premise = from.status === 'keep' ? from.key : head;
      const value = base.value - 0.001 - r() * 0.002;
      out.push({ key, status: 'keep', value, premises: [premise], description: `branch: ${idea}` });
      branchTips.push({ key, value });
    } else {
      out.push({ key, status: 'discard', value: best + 0.002 + Math.abs(noise), premises: [head], description: idea });
    }
  }
  // The latest keep must be the main-chain head: end on a chain keep.
  best -= 0.0005;
  out.push({ key: `s${String(n - 1).padStart(4, '0')}`, status: 'keep', value: best, premises: [head], description: 'final tune' });
  return out;
}

/** Stores finished reproductions of one experiment and rescores, as a completed job would. */
export async function addReproductions(
  db: DbHandle,
  projectName: string,
  key: string,
  runs: { seed: number; value: number | null; runner?: string; durationS?: number; error?: string }[],
): Promise<void> {
  await db.db.transaction().execute(async (trx) => {
    const project = (await lockProject(trx, projectName))!;
    const x = await trx.selectFrom('experiments').select(['id', 'premises', 'value']).where('project_id', '=', project.id).where('key', '=', key).executeTakeFirstOrThrow();
    const premiseKey = (x.premises as string[])[0];
    const p = premiseKey
      ? await trx.selectFrom('experiments').select(['value']).where('project_id', '=', project.id).where('key', '=', premiseKey).executeTakeFirst()
      : undefined;
    const sign = project.config.metric.direction === 'maximize' ? 1 : -1;
    for (const run of runs) {
      const ok = run.value !== null && (p?.value == null ? true : sign * (run.value - p.value) > 0);
      await insertReproduction(trx, {
        project_id: project.id,
        experiment_id: x.id,
        seed: run.seed,
        value: run.value,
        ok,
        runner: run.runner ?? 'test-runner',
        duration_s: run.durationS ?? 300,
        error: run.error ?? null,
      });
    }
    await rescore(trx, project, [x.id]);
  });
}

/** Records a gate call through the API, as a loop runner would. */
export async function gateCall(app: FastifyInstance, project: string, experiment: string, threshold?: number) {
  const res = await app.inject({ method: 'POST', url: `/v1/projects/${project}/gate`, payload: { experiment, ...(threshold !== undefined ? { threshold } : {}) } });
  return res.json() as { decision: string };
}
