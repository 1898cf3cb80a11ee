import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import {
  decideGate,
  type Decision,
  type DecisionInput,
  type NextJob,
} from '../domain/gate/decision.js';
import type { ThresholdSource } from '../domain/gate/threshold.js';
import { DomainError } from '../domain/errors.js';
import { defaultPrior, sigmaIsKnown } from '../domain/scoring/index.js';
import { DEFAULTS, type Reason } from '../domain/types.js';
import type { Database } from '../db/schema.js';
import type { DbHandle } from '../db/connection.js';
import { firstRoot, getExperimentByKey, type ExperimentRecord } from '../db/experiments.repository.js';
import { keysByIds } from '../db/graph.repository.js';
import { latestAccepted, listGateDecisions, type GateDecisionRow } from '../db/gates.repository.js';
import { readGate, type GateJobRow, type GateRead, type GateSubject } from '../db/gate-read.repository.js';
import { findProject, shareProjectKey, type Executor, type ProjectRecord } from '../db/projects.repository.js';
import {
  descendantCount,
  gpuMinutesCommitted,
  insertJob,
  jobsOfDecision,
  lockDecision,
  lockGpuBudget,
  usedSeeds,
  type JobRecord,
} from '../db/jobs.repository.js';
import type { Deps } from './deps.js';
import { JOBS_TOPIC, scoresTopic } from './scheduler.service.js';

export type { Decision } from '../domain/gate/decision.js';

export interface GateJob {
  id: string;
  experiment: string;
  seed: number;
  state: string;
  purpose?: string;
}

export interface GateAnswer {
  decision: Decision;
  experiment: string;
  confidence: { value: number; components: Record<string, number>; reasons: Reason[] } | null;
  compounded: number | null;
  threshold: number;
  weakest: { key: string; confidence: number } | null;
  reasons: Reason[];
  reanchor: { candidate: string | null; jobs: GateJob[]; used: number; budget: number };
  anchored: boolean;
  /** Posterior level of the experiment, metric units (SPEC §5). */
  level: { mean: number; sd: number } | null;
  /** What the next proposal on the accepted head must beat to count as a keep. */
  bar: number | null;
  /** The accepted head the bar is measured from. */
  head: string | null;
}

type Trx = Transaction<Database>;

/** The project's gate settings with their defaults (SPEC §5). */
export function gateSettings(project: ProjectRecord) {
  const c = project.config;
  const num = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) ? v : d);
  return {
    sMin: num(c.sMin, DEFAULTS.sMin),
    sReject: num(c.sReject, DEFAULTS.sReject),
    barMargin: num(c.barMargin, DEFAULTS.barMargin),
    maxReproductions: num(c.reproduction.maxReproductions, DEFAULTS.maxReproductions),
    maxAnchorReproductions: DEFAULTS.maxAnchorReproductions,
  };
}

const runsOf = (e: Pick<ExperimentRecord, 'score'>): number => (e.score?.nX ?? 0) as number;

/** A chain end as the decision reads it: key, whether hard-gated, runs (score.nX). */
type ChainEnd = { key: string; hardGate?: unknown; runs: number };

/**
 * The experiment's first premise and the root of its chain (walked only when σ is unknown).
 * `known`: the premise as the gate's one-statement read found it (undefined: read it here).
 */
async function chainContext(
  db: Executor,
  project: ProjectRecord,
  x: GateSubject,
  needRoot: boolean,
  known?: GateRead['premise'],
): Promise<{ premise: ChainEnd | null; root: ChainEnd | null }> {
  const first = x.premises[0];
  const full = first && (known === undefined || needRoot) ? await getExperimentByKey(db, project.id, first) : null;
  const premise = full ? { key: full.key, hardGate: full.score?.hardGate, runs: runsOf(full) } : (known ?? null);
  if (!needRoot) return { premise, root: null };
  let root: Pick<ExperimentRecord, 'key' | 'premises' | 'score'> | null = full ?? x;
  const seen = new Set<string>([x.key]);
  while (root && root.premises[0] && !seen.has(root.premises[0]) && seen.size < 10_000) {
    seen.add(root.key);
    const up = await getExperimentByKey(db, project.id, root.premises[0]);
    if (!up) break;
    root = up;
  }
  return { premise, root: root ? { key: root.key, runs: runsOf(root) } : null };
}

/**
 * Everything the pure decision reads, from the stored scores and this decision's jobs. `pre`: what
 * the gate's one-statement read already holds (absent: read here, in the caller's transaction).
 */
async function decisionInput(
  db: Executor,
  project: ProjectRecord,
  x: GateSubject,
  threshold: number,
  pre?: Pick<GateRead, 'premise' | 'jobs'>,
): Promise<DecisionInput> {
  const stats = project.stats;
  const sigmaKnown = sigmaIsKnown(stats?.sigmaSource, stats?.nu);
  const { premise, root } = await chainContext(db, project, x, !sigmaKnown, pre?.premise);
  const jobs = pre?.jobs ?? (await jobsOfDecision(db, x.id));
  const spent = { decision: 0, anchor: 0, sigma: 0 };
  for (const j of jobs) spent[j.purpose] += 1;
  const settings = gateSettings(project);
  const inherited = x.cascade?.hardGate ?? null;
  const premiseUsable =
    premise && !premise.hardGate && x.score?.premiseLevel?.source === 'premise'
      ? premise
      : null;
  return {
    x: {
      key: x.key,
      score: x.score,
      compounded: x.cascade?.compounded ?? null,
      inheritedHardGate: inherited ? { key: inherited.key, code: inherited.code } : null,
    },
    premise: premiseUsable ? { key: premiseUsable.key, runs: premiseUsable.runs } : null,
    root,
    threshold,
    sMin: settings.sMin,
    sReject: settings.sReject,
    minEffect: Number.isFinite(project.config.minEffect) ? project.config.minEffect : 0,
    maxReproductions: settings.maxReproductions,
    maxAnchorReproductions: settings.maxAnchorReproductions,
    spent,
    pending: jobs.some((j) => j.state === 'queued' || j.state === 'active'),
    sigmaKnown,
    prior: stats?.prior ?? defaultPrior(),
    sigma: stats?.sigma ?? null,
    nu: stats?.nu ?? 0,
  };
}

/** The bar (SPEC §5): the accepted head's posterior mean level + s·barMargin·σ̂, metric units. */
export function barFrom(
  head: { score: { level?: { mean: number; sd: number } | null } | null } | null,
  project: ProjectRecord,
): { bar: number | null; level: { mean: number; sd: number } | null } {
  const level = head?.score?.level ?? null;
  const sigma = project.stats?.sigma ?? null;
  if (!level || sigma === null) return { bar: null, level };
  const s = project.config.metric.direction === 'minimize' ? -1 : 1;
  return { bar: level.mean + s * gateSettings(project).barMargin * sigma, level };
}

/**
 * The accepted head: the experiment of the project's latest accept that still stands (present
 * in the latest log, not hard-gated); without one, the project's first root.
 */
export async function acceptedHead(
  db: Executor,
  project: ProjectRecord,
): Promise<ExperimentRecord | null> {
  for (const key of await latestAccepted(db, project.id, 50)) {
    const e = await getExperimentByKey(db, project.id, key);
    if (e && !e.absent && !e.score?.hardGate && !e.cascade?.hardGate) return e;
  }
  return firstRoot(db, project.id);
}

/** GET /v1/projects/{p}/bar (SPEC §5). */
export async function projectBar(deps: Deps, projectName: string) {
  const project = await findProject(deps.db.db, projectName);
  if (!project) throw new DomainError('not_found', `no project '${projectName}'`);
  const head = await acceptedHead(deps.db.db, project);
  const { bar, level } = barFrom(head, project);
  return {
    project: projectName,
    bar,
    head: head?.key ?? null,
    level,
    sigma: project.stats?.sigma ?? null,
    direction: project.config.metric.direction,
    margin: gateSettings(project).barMargin,
  };
}

/** Tries before giving up on a free seed that concurrent decisions keep taking first. */
const SEED_TRIES = 8;

/**
 * Queues the next reproduction of a decision (SPEC §6), in the caller's transaction: never the
 * same (experiment, seed) twice (UNIQUE: a seed a concurrent decision took first is skipped);
 * within the GPU budget (checked under the project's budget lock, taken only when the project has
 * a budget); priority = downstream work waiting. Returns the job, or a reason it could not be
 * queued.
 */
export async function queueReproduction(
  deps: Deps,
  trx: Trx,
  project: ProjectRecord,
  gated: ExperimentRecord,
  next: NextJob,
): Promise<{ job?: JobRecord; blocked?: Reason }> {
  if (!deps.queue) throw new DomainError('unavailable', 'the job queue is not running');
  const target =
    next.key === gated.key ? gated : await getExperimentByKey(trx, project.id, next.key);
  if (!target)
    return {
      blocked: { code: 'target_missing', message: `experiment '${next.key}' to reproduce is gone` },
    };
  const policy = project.config.reproduction;
  if (policy.gpuMinutesPerDay !== undefined) {
    await lockGpuBudget(trx, project.id);
    const committed = await gpuMinutesCommitted(trx, project.id);
    const needed = policy.timeBudgetS / 60;
    if (committed + needed > policy.gpuMinutesPerDay) {
      return {
        blocked: {
          code: 'gpu_budget_exhausted',
          message: `GPU budget: ${committed.toFixed(1)} of ${policy.gpuMinutesPerDay} GPU-minutes used or reserved in the last 24 h; a reproduction needs ${needed.toFixed(1)}.`,
        },
      };
    }
  }
  const priority = Math.min(1_000_000, await descendantCount(trx, gated.id));
  const used = await usedSeeds(trx, target.id);
  let seed = 0;
  for (let tries = 0; tries < SEED_TRIES; tries++) {
    seed = 1;
    while (used.has(seed)) seed++;
    const job = await insertJob(trx, {
      id: randomUUID(),
      projectId: project.id,
      experimentId: target.id,
      seed,
      priority,
      timeBudgetS: policy.timeBudgetS,
      gatedExperimentId: gated.id,
      purpose: next.purpose,
    });
    if (job) return { job };
    used.add(seed);
  }
  return {
    blocked: { code: 'seed_taken', message: `seed ${seed} of ${target.key} is already queued` },
  };
}

/**
 * Decides for a stored experiment and, when the decision needs one more reproduction and none
 * is in flight, queues it — in the caller's transaction. Takes the decision's own lock (gate
 * calls and job completions of this decision serialise here; other decisions of the project do
 * not), then re-reads the experiment, so the decision reads what the lock protects: its jobs.
 * Used by the gate and by job completion (the next step is taken as soon as a job lands).
 */
export async function advanceDecision(
  deps: Deps,
  trx: Trx,
  project: ProjectRecord,
  x: { id: number; key: string },
  threshold: number,
): Promise<{ answer: GateAnswer; queued: boolean }> {
  // Lock order project → decision → GPU budget, as job completions take them (they hold the
  // project lock): this shares it, so gates of one project do not wait on each other here.
  await shareProjectKey(trx, project.id);
  await lockDecision(trx, x.id);
  const fresh = await getExperimentByKey(trx, project.id, x.key);
  if (!fresh) throw new DomainError('not_found', `no experiment '${x.key}' in project '${project.config.name}'`);
  const result = decideGate(await decisionInput(trx, project, fresh, threshold));
  let queued = false;
  if (result.next) {
    const q = await queueReproduction(deps, trx, project, fresh, result.next);
    if (q.job) queued = true;
    else if (q.blocked) {
      result.decision = 'reject';
      result.reasons.push(q.blocked);
    }
  }
  const answer = await answerOf(
    trx,
    project,
    fresh,
    threshold,
    result.decision,
    result.reasons,
    result.next?.key ?? null,
  );
  return { answer, queued };
}

/** The decision's jobs with the keys of the experiments they reproduce, read in the caller's transaction. */
async function jobRowsOf(db: Executor, x: GateSubject): Promise<GateJobRow[]> {
  const jobs = await jobsOfDecision(db, x.id);
  const keys = new Map<number, string | null>([[x.id, x.key]]);
  const others = [...new Set(jobs.map((j) => j.experimentId).filter((id) => id !== x.id))];
  for (const [id, key] of await keysByIds(db, others)) keys.set(id, key);
  return jobs.map((j) => ({
    id: j.id,
    experimentId: j.experimentId,
    experimentKey: keys.get(j.experimentId) ?? null,
    seed: j.seed,
    state: j.state,
    purpose: j.purpose,
  }));
}

/**
 * The gate's answer (SPEC §5). `pre`: the decision's jobs and the accepted head as the gate's
 * one-statement read found them (absent: read here, in the caller's transaction).
 */
async function answerOf(
  db: Executor,
  project: ProjectRecord,
  x: GateSubject,
  threshold: number,
  decision: Decision,
  reasons: Reason[],
  candidate: string | null,
  pre?: Pick<GateRead, 'jobs' | 'head'>,
): Promise<GateAnswer> {
  const s = x.score;
  const jobs = pre?.jobs ?? (await jobRowsOf(db, x));
  const keyOf = (j: GateJobRow) => j.experimentKey ?? String(j.experimentId);
  const head = decision === 'accept' ? x : pre ? pre.head : await acceptedHead(db, project);
  const { bar } = barFrom(head, project);
  const pendingKey = jobs.find((j) => j.state === 'queued' || j.state === 'active');
  return {
    decision,
    experiment: x.key,
    confidence: s ? { value: s.value, components: { ...s.components }, reasons: s.reasons } : null,
    compounded: x.cascade?.compounded ?? null,
    threshold,
    weakest: x.cascade?.weakest ?? null,
    reasons,
    reanchor: {
      candidate: candidate ?? (pendingKey ? keyOf(pendingKey) : null),
      jobs: jobs.map((j) => ({
        id: j.id,
        experiment: keyOf(j),
        seed: j.seed,
        state: j.state,
        purpose: j.purpose,
      })),
      used: jobs.length,
      budget: gateSettings(project).maxReproductions,
    },
    anchored: x.anchored,
    level: s?.level ?? null,
    bar,
    head: head?.key ?? null,
  };
}

export interface GateInput {
  experiment: string;
  threshold?: number;
  wait?: number;
  thresholdSource?: ThresholdSource;
}

/**
 * The gate (SPEC §5). Records every call. A `reanchor` decision queues the next reproduction
 * (one at a time; job completion queues the following one itself). With `wait`, long-polls until
 * the decision leaves `reanchor` or the wait ends, then answers the fresh decision.
 */
export async function gate(
  deps: Deps,
  projectName: string,
  input: GateInput,
  caller: string,
  opts: { readOnly?: boolean; signal?: AbortSignal } = {},
): Promise<GateAnswer> {
  const deadline = Date.now() + Math.max(0, input.wait ?? 0) * 1000;
  const db = deps.db.db;
  let project: ProjectRecord;
  let threshold: number | undefined;
  let answer: GateAnswer;
  for (;;) {
    // One statement: the project (cached by version), the experiment, its premise, its jobs, the head.
    const read = await readGate(deps.db, projectName, input.experiment);
    if (!read) throw new DomainError('not_found', `no project '${projectName}'`);
    project = read.project;
    // The threshold of the call is fixed by its first read (a long poll keeps it).
    threshold ??= input.threshold ?? project.config.threshold;
    const x = read.x;
    if (!x)
      throw new DomainError(
        'not_found',
        `no experiment '${input.experiment}' in project '${projectName}'`,
      );
    if (!x.score || !x.cascade)
      throw new DomainError('unavailable', `experiment '${x.key}' has not been scored yet; retry`);
    const result = decideGate(await decisionInput(db, project, x, threshold, read));
    if (result.next && !opts.readOnly && deps.queue) {
      // Scheduling writes: advanceDecision takes this decision's lock and decides again on what
      // it protects (not the project's: other decisions of the project go on meanwhile).
      const p = project;
      const t = threshold;
      const out = await db.transaction().execute((trx) => advanceDecision(deps, trx, p, x, t));
      answer = out.answer;
      if (out.queued) deps.notifier.notify(JOBS_TOPIC);
    } else {
      answer = await answerOf(
        db,
        project,
        x,
        threshold,
        result.decision,
        result.reasons,
        result.next?.key ?? null,
        read,
      );
      if (result.next && !deps.queue)
        answer.reasons.push({
          code: 'no_queue',
          message: 'The job queue is not running here: no reproduction can be scheduled.',
        });
    }
    const remaining = deadline - Date.now();
    // Without a queue here no reproduction is scheduled that the wait could see: answer now.
    if (answer.decision !== 'reanchor' || remaining <= 0 || !deps.queue || opts.signal?.aborted) break;
    // Sleeps until a completion of this project is notified (this process, or another one over
    // LISTEN/NOTIFY), the client goes away, or a long fallback interval passes: a quiet wait
    // costs no database round trip.
    await deps.notifier.waitFor(scoresTopic(project.id), Math.min(remaining, deps.notifier.recheckMs), opts.signal);
    if (opts.signal?.aborted) break;
    deps.metrics.longPollCheck('gate');
  }
  deps.metrics.gateDecision(answer.decision);
  const row: GateDecisionRow = {
    projectId: project.id,
    experiment: input.experiment,
    caller,
    inputs: { ...input, ...(opts.readOnly ? { readOnly: true } : {}) },
    decision: answer.decision,
    answer: answer as unknown as Record<string, unknown>,
    threshold,
    ...(input.thresholdSource ? { thresholdSource: input.thresholdSource } : {}),
  };
  // Answered once the row is committed, batched with concurrent calls' rows (one commit for the batch).
  await deps.gateWriter.record(row);
  return answer;
}

export async function gateLog(
  deps: Deps,
  projectName: string,
  opts: { after?: number; limit: number; experiment?: string },
) {
  const project = await findProject(deps.db.db, projectName);
  if (!project) throw new DomainError('not_found', `no project '${projectName}'`);
  const items = await listGateDecisions(deps.db.db, project.id, opts);
  return { items, next: items.length === opts.limit ? items[items.length - 1].id : null };
}

/**
 * The answer the gate gives for a stored experiment, read as the gate reads it (one statement),
 * scheduling and recording nothing: the benchmark's what-if of the gate without its INSERT.
 */
export async function answerStored(handle: DbHandle, projectName: string, key: string): Promise<GateAnswer | null> {
  const db = handle.db;
  const read = await readGate(handle, projectName, key);
  if (!read?.x?.score || !read.x.cascade) return null;
  const threshold = read.project.config.threshold;
  const r = decideGate(await decisionInput(db, read.project, read.x, threshold, read));
  return answerOf(db, read.project, read.x, threshold, r.decision, r.reasons, r.next?.key ?? null, read);
}
