import { randomUUID } from 'node:crypto';
import { DomainError } from '../domain/errors.js';
import type { Reason } from '../domain/types.js';
import type { ExperimentRecord } from '../db/experiments.repository.js';
import { lockProject, type ProjectRecord } from '../db/projects.repository.js';
import { descendantCount, gpuMinutesCommitted, insertJob, jobsOfExperiment, type JobRecord } from '../db/jobs.repository.js';
import { ensureProjectQueue, trxExecutor } from '../queue/boss.js';
import type { Deps } from './deps.js';
import type { GateJob, ReanchorPlan } from './gate.service.js';

export const jobView = (j: JobRecord, experiment: string): GateJob => ({ id: j.id, experiment, seed: j.seed, state: j.state });

/** Topic a long poll waits on for one project's score changes. */
export const scoresTopic = (projectId: number) => `scores:${projectId}`;
export const JOBS_TOPIC = 'jobs:new';

/**
 * Schedules one round of reproductions of the plan's candidate (SPEC §6): pending jobs are
 * answered as they are; never the same (experiment, seed) twice; within the GPU budget;
 * priority = how much downstream work waits on the candidate. Queue and job rows commit in
 * one transaction (pg-boss runs on the transaction's connection).
 */
export async function scheduleReanchor(deps: Deps, project: ProjectRecord, plan: ReanchorPlan): Promise<{ jobs: GateJob[]; blocked?: Reason }> {
  const cand = plan.candidate;
  if (!cand) return { jobs: [] };
  const boss = deps.queue;
  if (!boss) throw new DomainError('unavailable', 'the job queue is not running');
  const policy = project.config.reproduction;
  // Most gates of a candidate find its round already queued: answer those without the project
  // lock (which every write of the project also takes). Scheduling re-checks under the lock.
  const seen = await jobsOfExperiment(deps.db.db, cand.id);
  const pendingNow = seen.filter((j) => j.state === 'queued' || j.state === 'active');
  if (pendingNow.length > 0) return { jobs: pendingNow.map((j) => jobView(j, cand.key)) };
  const queue = await ensureProjectQueue(boss, project.id, deps.queueOptions ?? deps.config.queue);
  const out = await deps.db.db.transaction().execute(async (trx) => {
    const locked = await lockProject(trx, project.config.name);
    if (!locked) throw new DomainError('not_found', `no project '${project.config.name}'`);
    const jobs = await jobsOfExperiment(trx, cand.id);
    const pending = jobs.filter((j) => j.state === 'queued' || j.state === 'active');
    if (pending.length > 0) return { jobs: pending.map((j) => jobView(j, cand.key)), created: 0 };
    const finished = jobs.length;
    const round = Math.floor(finished / policy.replicates);
    if (round >= (policy.rounds ?? 1)) return { jobs: [], created: 0 };
    if (policy.gpuMinutesPerDay !== undefined) {
      const committed = await gpuMinutesCommitted(trx, project.id);
      const needed = (policy.replicates * policy.timeBudgetS) / 60;
      if (committed + needed > policy.gpuMinutesPerDay) {
        return {
          jobs: [],
          created: 0,
          blocked: {
            code: 'gpu_budget_exhausted',
            message: `GPU budget: ${committed.toFixed(1)} of ${policy.gpuMinutesPerDay} GPU-minutes used or reserved in the last 24 h; a round needs ${needed.toFixed(1)}.`,
          },
        };
      }
    }
    const used = new Set(jobs.map((j) => j.seed));
    const priority = Math.min(1_000_000, await descendantCount(trx, cand.id));
    const created: GateJob[] = [];
    let seed = 1;
    while (created.length < policy.replicates) {
      while (used.has(seed)) seed++;
      const id = randomUUID();
      if (await insertJob(trx, { id, projectId: project.id, experimentId: cand.id, seed, round, priority, timeBudgetS: policy.timeBudgetS })) {
        await boss.send(queue, { jobId: id, projectId: project.id, experimentId: cand.id, seed }, { id, priority, singletonKey: `${cand.id}:${seed}`, db: trxExecutor(trx) } as never);
        created.push({ id, experiment: cand.key, seed, state: 'queued' });
      }
      used.add(seed);
    }
    return { jobs: created, created: created.length };
  });
  if (out.created > 0) deps.notifier?.notify(JOBS_TOPIC);
  return { jobs: out.jobs, ...(out.blocked ? { blocked: out.blocked } : {}) };
}

/** Jobs of an experiment as the gate reports them. */
export async function jobsFor(deps: Deps, experiment: ExperimentRecord): Promise<GateJob[]> {
  return (await jobsOfExperiment(deps.db.db, experiment.id)).map((j) => jobView(j, experiment.key));
}
