import { buildPremiseGraph, reanchorCandidate } from '../domain/cascade/index.js';
import { DomainError } from '../domain/errors.js';
import type { Reason } from '../domain/types.js';
import { getExperimentByKey, type ExperimentRecord } from '../db/experiments.repository.js';
import { cascadeSubgraph } from '../db/graph.repository.js';
import { insertGateDecision, listGateDecisions, reproductionCounts } from '../db/gates.repository.js';
import { findProject, type Executor, type ProjectRecord } from '../db/projects.repository.js';
import type { Deps } from './deps.js';
import { jobsOfExperiment } from '../db/jobs.repository.js';
import { jobView, scheduleReanchor, scoresTopic } from './scheduler.service.js';

export type Decision = 'accept' | 'reject' | 'reanchor';

export interface GateJob {
  id: string;
  experiment: string;
  seed: number;
  state: string;
}

export interface GateAnswer {
  decision: Decision;
  experiment: string;
  confidence: { value: number; components: Record<string, number>; reasons: Reason[] } | null;
  compounded: number | null;
  threshold: number;
  weakest: { key: string; confidence: number } | null;
  reasons: Reason[];
  reanchor: { candidate: string | null; jobs: GateJob[] };
  anchored: boolean;
}

/** What the gate needs to know about re-anchoring: the candidate, and whether rounds remain. */
export interface ReanchorPlan {
  candidate: { key: string; id: number; resultingK: number } | null;
}

const HARD_GATE_TEXT: Record<string, string> = {
  crash: 'the experiment crashed',
  discard: 'the experiment was discarded; a discard is never a premise',
  protected_path: 'the change touches a protected path (possible reward hacking)',
  unknown_status: 'the experiment status is unknown; it cannot be a premise',
};

/**
 * The candidate to reproduce for X: the member of {X} ∪ Anc*(X) whose anchoring lifts K(X)
 * the most, among those not anchored, not hard-gated and with re-anchoring rounds left.
 */
export async function planReanchor(db: Executor, project: ProjectRecord, x: ExperimentRecord): Promise<ReanchorPlan> {
  const nodes = await cascadeSubgraph(db, [x.id]);
  const perRound = project.config.reproduction.replicates;
  const maxRuns = perRound * (project.config.reproduction.rounds ?? 1);
  const counts = await reproductionCounts(db, nodes.map((n) => n.id));
  // Exhausted candidates are marked ineligible for the choice only (not for K).
  const graph = buildPremiseGraph(nodes.map((n) => ({ ...n, hardGate: n.hardGate ?? ((counts.get(n.id) ?? 0) >= maxRuns ? 'rounds_exhausted' : null) })));
  const c = reanchorCandidate(graph, x.key);
  if (!c) return { candidate: null };
  const id = nodes.find((n) => n.key === c.key)!.id;
  return { candidate: { key: c.key, id, resultingK: c.resultingK } };
}

/** Decides for one stored experiment (pure apart from the re-anchoring plan lookup). */
export async function decide(db: Executor, project: ProjectRecord, x: ExperimentRecord, threshold: number): Promise<{ answer: GateAnswer; plan: ReanchorPlan | null }> {
  const reasons: Reason[] = [];
  const K = x.cascade?.compounded ?? null;
  const s = x.score;
  const base = {
    experiment: x.key,
    confidence: s ? { value: s.value, components: { ...s.components }, reasons: s.reasons } : null,
    compounded: K,
    threshold,
    weakest: x.cascade?.weakest ?? null,
    anchored: x.anchored,
  };
  const own = s?.hardGate ?? null;
  const inherited = x.cascade?.hardGate && x.cascade.hardGate.key !== x.key ? x.cascade.hardGate : null;
  if (own) {
    reasons.push({ code: `hard_gate_${own}`, message: `Rejected: ${HARD_GATE_TEXT[own] ?? own}.` });
  } else if (inherited) {
    reasons.push({
      code: 'premise_hard_gated',
      message: `Rejected: premise ${inherited.key} is hard-gated (${HARD_GATE_TEXT[inherited.code] ?? inherited.code}); everything built on it inherits the gate.`,
    });
  }
  if (own || inherited) return { answer: { ...base, decision: 'reject', reasons, reanchor: { candidate: null, jobs: [] } }, plan: null };
  if (K === null) throw new DomainError('unavailable', `experiment '${x.key}' has not been scored yet; retry`);

  if (K >= threshold) {
    reasons.push({ code: 'above_threshold', message: `Compounded confidence K = ${K.toFixed(3)} ≥ threshold ${threshold}.` });
    if (x.anchored) reasons.push({ code: 'anchored', message: 'Reproduced: this experiment is an anchor.' });
    return { answer: { ...base, decision: 'accept', reasons, reanchor: { candidate: null, jobs: [] } }, plan: null };
  }
  reasons.push({ code: 'below_threshold', message: `Compounded confidence K = ${K.toFixed(3)} < threshold ${threshold}.` });
  if (base.weakest) {
    reasons.push({ code: 'weakest_link', message: `Weakest link: ${base.weakest.key} with C = ${base.weakest.confidence.toFixed(3)}.` });
  }
  const plan = await planReanchor(db, project, x);
  if (!plan.candidate) {
    reasons.push({
      code: 'reanchor_exhausted',
      message: 'No re-anchoring can lift it: every candidate is anchored, hard-gated or out of reproduction rounds. The decision is final until new evidence arrives.',
    });
    return { answer: { ...base, decision: 'reject', reasons, reanchor: { candidate: null, jobs: [] } }, plan };
  }
  reasons.push({
    code: 'reanchor_candidate',
    message: `Reproducing ${plan.candidate.key} could lift K to ${plan.candidate.resultingK.toFixed(3)} if it anchors.`,
  });
  return { answer: { ...base, decision: 'reanchor', reasons, reanchor: { candidate: plan.candidate.key, jobs: [] } }, plan };
}

export interface GateInput {
  experiment: string;
  threshold?: number;
  wait?: number;
}

/**
 * The gate (SPEC §5). Records every call. A `reanchor` decision schedules reproductions (or
 * reports the pending ones). With `wait`, long-polls until they finish and the decision leaves
 * `reanchor`, or the wait ends, then answers the fresh decision.
 */
export async function gate(deps: Deps, projectName: string, input: GateInput, caller: string, opts: { readOnly?: boolean } = {}): Promise<GateAnswer> {
  const deadline = Date.now() + Math.max(0, input.wait ?? 0) * 1000;
  const db = deps.db.db;
  const project = await findProject(db, projectName);
  if (!project) throw new DomainError('not_found', `no project '${projectName}'`);
  const threshold = input.threshold ?? project.config.threshold;
  let answer: GateAnswer;
  for (;;) {
    const x = await getExperimentByKey(db, project.id, input.experiment);
    if (!x) throw new DomainError('not_found', `no experiment '${input.experiment}' in project '${projectName}'`);
    const d = await decide(db, project, x, threshold);
    answer = d.answer;
    const cand = d.plan?.candidate;
    if (answer.decision === 'reanchor' && cand && deps.queue) {
      if (opts.readOnly) {
        answer.reanchor.jobs = (await jobsOfExperiment(db, cand.id)).map((j) => jobView(j, cand.key));
      } else {
        const s = await scheduleReanchor(deps, project, d.plan!);
        answer.reanchor.jobs = s.jobs;
        if (s.blocked && s.jobs.length === 0) {
          answer.decision = 'reject';
          answer.reasons.push(s.blocked);
        }
      }
    }
    const remaining = deadline - Date.now();
    if (answer.decision !== 'reanchor' || remaining <= 0 || !deps.notifier) break;
    // Woken by a completion in this process; re-checked every second for other processes.
    await deps.notifier.waitFor(scoresTopic(project.id), Math.min(remaining, 1000));
  }
  await insertGateDecision(db, {
    projectId: project.id,
    experiment: input.experiment,
    caller,
    inputs: { ...input, ...(opts.readOnly ? { readOnly: true } : {}) },
    decision: answer.decision,
    answer: answer as unknown as Record<string, unknown>,
  });
  return answer;
}

export async function gateLog(deps: Deps, projectName: string, opts: { after?: number; limit: number; experiment?: string }) {
  const project = await findProject(deps.db.db, projectName);
  if (!project) throw new DomainError('not_found', `no project '${projectName}'`);
  const items = await listGateDecisions(deps.db.db, project.id, opts);
  return { items, next: items.length === opts.limit ? items[items.length - 1].id : null };
}
