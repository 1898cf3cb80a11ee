/**
 * ECV as an obey-mode policy, through the service's public API only (app.inject on `buildApp`),
 * so it measures whatever gate is in the tree: every proposal is posted as an experiment
 * (premise = the head), a proposal is a keep when it beats the bar (`bar` of the last accepted
 * gate answer, or GET /v1/projects/{p}/bar; the head's recorded value while the service has
 * neither), a keep is gated with `wait`, and simulated runners lease and complete the jobs the
 * gate schedules from the hidden truth (`LiveRunners`). Reject → the loop reverts: the head stays
 * and the row is re-posted with status `discard`.
 */
import type { FastifyInstance } from 'fastify';
import { call } from '../lib/app.js';
import { Truth } from '../sim/ecv-loop.js';
import { better, type Decision, type Policy, type ProposalView } from './loop.js';
import type { ObeyRegime } from './regimes.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface JobSpec {
  id: string;
  project: string;
  experiment: string;
  seed: number;
}

/**
 * Simulated GPU runners that work in the background while loops wait at the gate: each worker
 * long-polls POST /v1/runners/lease and completes what it gets (POST /v1/jobs/{id}/complete) with
 * the commit's true level plus fresh keyed noise (or a crash), in seed order within a project.
 * Counts the runs it did per project (what a reproduction costs a loop at equal compute).
 */
export class LiveRunners {
  private running = false;
  private workers: Promise<void>[] = [];
  private readonly done = new Map<string, number>();
  errors = 0;

  constructor(
    private readonly app: FastifyInstance,
    private readonly truth: Truth,
    private readonly count = 2,
  ) {}

  completed(project: string): number {
    return this.done.get(project) ?? 0;
  }

  start(): void {
    this.running = true;
    this.workers = Array.from({ length: this.count }, (_, i) => this.work(`sim-gpu-${i + 1}`));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }

  private async work(runner: string): Promise<void> {
    while (this.running) {
      let jobs: JobSpec[];
      try {
        ({ jobs } = await call<{ jobs: JobSpec[] }>(this.app, 'POST', '/v1/runners/lease', {
          runner,
          maxJobs: 16,
          wait: 1,
        }));
      } catch {
        this.errors++;
        await sleep(50);
        continue;
      }
      for (const j of [...jobs].sort(
        (a, b) => a.project.localeCompare(b.project) || a.seed - b.seed,
      )) {
        const out = this.truth.reproduce(j.project, j.experiment, j.seed);
        // Counted before it lands: the gate call it wakes may answer before this worker resumes.
        this.done.set(j.project, (this.done.get(j.project) ?? 0) + 1);
        await call(this.app, 'POST', `/v1/jobs/${j.id}/complete`, {
          runner,
          seed: j.seed,
          ...(out.value === null
            ? { value: null, error: 'simulated crash' }
            : { value: out.value }),
          durationS: 300,
        });
      }
    }
  }
}

interface GateAnswer {
  decision: 'accept' | 'reject' | 'reanchor';
  confidence: { value: number; components: { statistics: number } } | null;
  bar?: number | null;
  level?: { mean: number; sd: number } | null;
  reanchor?: { jobs: { id: string; state: string }[] };
}

/** Where each proposal's bar came from, counted per loop (the report says which were used). */
export type BarSource = 'answer' | 'endpoint' | 'recorded';

/** Gate calls of one keep before the bench gives up on it (a safety cap, not the gate's budget). */
const MAX_GATE_CALLS = 40;

/** The ECV policy of one loop (project `project`, created here), on `app`. */
export async function ecvPolicy(
  app: FastifyInstance,
  truth: Truth,
  runners: LiveRunners,
  regime: ObeyRegime,
  loopSeed: number,
  project: string,
  opts: { wait?: number; sigma0?: boolean } = {},
): Promise<Policy & { levels: Map<string, number> }> {
  const wait = opts.wait ?? 30;
  await call(app, 'POST', '/v1/projects', {
    name: project,
    metric: { name: regime.metric, direction: regime.direction },
    ...(opts.sigma0 ? { sigma0: regime.sigma, nu0: 20 } : {}),
    reproduction: { command: 'uv run train.py', timeBudgetS: 300 },
  });
  const levels = truth.register(project, regime, loopSeed);
  const notes: Record<string, number> = {
    barFromAnswer: 0,
    barFromEndpoint: 0,
    barFromRecorded: 0,
    repostConflicts: 0,
    gateGaveUp: 0,
  };
  const base = `/v1/projects/${project}`;
  let endpoint: boolean | null = null; // GET …/bar exists (learnt on first use)
  let answerBar: number | null = null; // bar of the last accepted gate answer
  const post = (body: unknown) => call(app, 'POST', `${base}/experiments`, body);

  const barFor = async (head: ProposalView['head']): Promise<number> => {
    if (endpoint !== false) {
      const res = await app.inject({ method: 'GET', url: `${base}/bar` });
      if (res.statusCode === 200) {
        const b = (res.json() as { bar?: number | null }).bar;
        endpoint = true;
        if (typeof b === 'number') {
          notes.barFromEndpoint++;
          return b;
        }
      } else if (res.statusCode === 404) endpoint = false;
      else throw new Error(`GET ${base}/bar → ${res.statusCode}: ${res.body.slice(0, 300)}`);
    }
    if (answerBar !== null) {
      notes.barFromAnswer++;
      return answerBar;
    }
    notes.barFromRecorded++;
    return head.recorded;
  };

  /** Gates a keep with `wait` until the decision leaves reanchor; returns the final answer. */
  const gate = async (key: string): Promise<GateAnswer> => {
    let a: GateAnswer | null = null;
    for (let i = 0; i < MAX_GATE_CALLS; i++) {
      a = await call<GateAnswer>(app, 'POST', `${base}/gate`, { experiment: key, wait });
      if (a.decision !== 'reanchor') return a;
    }
    notes.gateGaveUp++;
    return { ...a!, decision: 'reject' };
  };

  const row = (p: ProposalView, status: string) => ({
    key: p.key,
    status,
    value: p.values[0] ?? null,
    ...(p.index > 0
      ? { baseline: p.head.recorded, premises: [p.head.key] }
      : { description: 'baseline' }),
    code: { paths: [{ path: 'train.py', added: 6, removed: 3 }] },
  });

  return {
    id: 'ecv',
    label: 'ECV (the gate in the tree, through the service)',
    runsPerProposal: 1,
    levels,
    notes: () => notes,
    start: async (root) => {
      await post(row(root, 'keep'));
      const before = runners.completed(project);
      const a = await gate(root.key);
      if (a.decision === 'accept' && typeof a.bar === 'number') answerBar = a.bar;
      return runners.completed(project) - before;
    },
    decide: async (p): Promise<Decision> => {
      if (p.crash) {
        await post(row(p, 'crash'));
        return { keep: false, accepted: false, reproductions: 0 };
      }
      const bar = await barFor(p.head);
      const keep = better(regime, p.values, bar) > 0;
      await post(row(p, keep ? 'keep' : 'discard'));
      if (!keep) return { keep, accepted: false, reproductions: 0 };
      const before = runners.completed(project);
      const a = await gate(p.key);
      const reproductions = runners.completed(project) - before;
      const s = a.confidence?.components.statistics;
      const accepted = a.decision === 'accept';
      if (accepted) answerBar = typeof a.bar === 'number' ? a.bar : null;
      else {
        // Revert: the row becomes a discard (a new version of it, SPEC §7).
        const res = await app.inject({
          method: 'POST',
          url: `${base}/experiments`,
          payload: row(p, 'discard'),
        });
        if (res.statusCode === 409) notes.repostConflicts++;
        else if (res.statusCode >= 300)
          throw new Error(
            `re-post of ${p.key} as discard → ${res.statusCode}: ${res.body.slice(0, 300)}`,
          );
      }
      return { keep, accepted, ...(s !== undefined ? { s } : {}), reproductions };
    },
  };
}
