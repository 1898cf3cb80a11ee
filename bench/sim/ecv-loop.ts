import type { FastifyInstance } from 'fastify';
import type { DbHandle } from '../../src/db/connection.js';
import { call } from '../lib/app.js';
import { keyOf, type LoopResult, type ProposalOutcome } from './loop.js';
import { keyedRng } from './prng.js';
import { reproductionNoise, type Proposal } from './proposals.js';
import type { Regime } from './regimes.js';

/** How the simulated user configured the project. */
export interface EcvSetup {
  id: string;
  label: string;
  /** sigma0 = the true σ with this nu0, or no noise prior at all. */
  sigmaPrior: { nu0: number } | null;
}

/** Ground truth of every simulated project, for the simulated runners (who run any project's jobs). */
export class Truth {
  private readonly projects = new Map<
    string,
    { regime: Regime; loopSeed: number; levels: Map<string, number> }
  >();

  register(project: string, regime: Regime, loopSeed: number): Map<string, number> {
    const levels = new Map<string, number>();
    this.projects.set(project, { regime, loopSeed, levels });
    return levels;
  }

  /** A reproduction's outcome: the commit's true level plus fresh seed noise (or a crash). */
  reproduce(project: string, key: string, seed: number): { value: number | null } {
    const p = this.projects.get(project);
    const level = p?.levels.get(key);
    if (!p || level === undefined) throw new Error(`simulated runner: unknown ${project}/${key}`);
    if (keyedRng('repro-crash', p.regime.id, p.loopSeed, key, seed).chance(p.regime.pCrash))
      return { value: null };
    return {
      value: level + p.regime.sigma * reproductionNoise(p.regime.id, p.loopSeed, key, seed),
    };
  }
}

interface GateAnswer {
  decision: 'accept' | 'reject' | 'reanchor';
  confidence: {
    value: number;
    components: NonNullable<ProposalOutcome['firstGate']>['components'];
  } | null;
  compounded: number | null;
  reanchor: { jobs: { id: string; state: string }[] };
}

interface JobSpec {
  id: string;
  project: string;
  experiment: string;
  seed: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Simulated GPU runners shared by all loops of a run: they lease any project's jobs over HTTP
 * (POST /v1/runners/lease) and hold them until the owning loop reports them. A loop completes a
 * round only once all of its jobs are leased, in seed order, so each project sees the same
 * sequence of writes however the concurrent loops interleave (runs stay reproducible).
 */
export class RunnerPool {
  private readonly held = new Map<string, JobSpec[]>();
  readonly runner = 'sim-gpu-pool';

  constructor(
    private readonly app: FastifyInstance,
    private readonly truth: Truth,
  ) {}

  private async fetch(): Promise<number> {
    const { jobs } = await call<{ jobs: JobSpec[] }>(this.app, 'POST', '/v1/runners/lease', {
      runner: this.runner,
      maxJobs: 64,
      wait: 0,
    });
    for (const j of jobs) this.held.set(j.project, [...(this.held.get(j.project) ?? []), j]);
    return jobs.length;
  }

  /** Runs the given jobs of one project: waits until all are leased, then reports each outcome. */
  async runRound(project: string, ids: string[]): Promise<void> {
    for (;;) {
      const mine = new Set((this.held.get(project) ?? []).map((j) => j.id));
      if (ids.every((id) => mine.has(id))) break;
      if ((await this.fetch()) === 0) await sleep(2);
    }
    const wanted = new Set(ids);
    const all = this.held.get(project) ?? [];
    this.held.set(
      project,
      all.filter((j) => !wanted.has(j.id)),
    );
    for (const j of all.filter((x) => wanted.has(x.id)).sort((a, b) => a.seed - b.seed)) {
      const out = this.truth.reproduce(j.project, j.experiment, j.seed);
      await call(this.app, 'POST', `/v1/jobs/${j.id}/complete`, {
        runner: this.runner,
        seed: j.seed,
        ...(out.value === null ? { value: null, error: 'simulated crash' } : { value: out.value }),
        durationS: 300,
      });
    }
  }
}

/**
 * One keep-if-better loop driven by ECV, through the real service: every run is posted as an
 * experiment (premise = the current accepted premise, baseline = its recorded value); every
 * keep is gated, and when the gate answers `reanchor` the loop runs the scheduled reproductions
 * (lease + complete) and gates again. Accept → the keep becomes the premise; reject → reset.
 */
export async function runEcvLoop(
  app: FastifyInstance,
  db: DbHandle,
  truth: Truth,
  runners: RunnerPool,
  regime: Regime,
  setup: EcvSetup,
  loopSeed: number,
  stream: Proposal[],
): Promise<LoopResult> {
  const project = `sim-${regime.id}-${setup.id}-${loopSeed}`;
  const sigma = regime.sigma;
  await call(app, 'POST', '/v1/projects', {
    name: project,
    metric: { name: 'val_bpb', direction: 'minimize' },
    ...(setup.sigmaPrior ? { sigma0: sigma, nu0: setup.sigmaPrior.nu0 } : {}),
    reproduction: { command: 'uv run train.py', replicates: 3, timeBudgetS: 300 },
  });
  const levels = truth.register(project, regime, loopSeed);
  const post = (body: unknown) => call(app, 'POST', `/v1/projects/${project}/experiments`, body);

  const gateKeep = async (
    key: string,
  ): Promise<{
    accepted: boolean;
    first: number;
    rounds: number;
    firstGate?: ProposalOutcome['firstGate'];
  }> => {
    let first: number | null = null;
    let firstGate: ProposalOutcome['firstGate'];
    // The gate makes at most `rounds` rounds per candidate; the cap only guards the benchmark.
    for (let round = 0; round < 20; round++) {
      const a = await call<GateAnswer>(app, 'POST', `/v1/projects/${project}/gate`, {
        experiment: key,
      });
      if (first === null) {
        first = a.confidence?.value ?? 0;
        if (a.confidence)
          firstGate = { components: a.confidence.components, compounded: a.compounded ?? 0 };
      }
      if (a.decision !== 'reanchor')
        return { accepted: a.decision === 'accept', first, rounds: round, firstGate };
      const ids = a.reanchor.jobs
        .filter((j) => j.state === 'queued' || j.state === 'active')
        .map((j) => j.id);
      if (ids.length === 0) return { accepted: false, first, rounds: round, firstGate };
      await runners.runRound(project, ids);
    }
    throw new Error(`gate of ${project}/${key} still answers reanchor after 20 rounds`);
  };

  // The baseline run is the root: a level, not an improvement.
  let head = {
    key: keyOf(0),
    trueLevel: regime.level0,
    recorded: regime.level0 + sigma * stream[0].noise,
  };
  levels.set(head.key, head.trueLevel);
  await post({ key: head.key, status: 'keep', value: head.recorded, description: 'baseline' });
  await gateKeep(head.key);

  const outcomes: ProposalOutcome[] = [];
  let falseInChain = 0;
  let chainLength = 0;
  for (let i = 1; i < stream.length; i++) {
    const p = stream[i];
    const key = keyOf(i);
    const trueLevel = head.trueLevel - p.effect;
    levels.set(key, trueLevel);
    const code = { paths: [{ path: 'train.py', added: 6, removed: 3 }] };
    if (p.crash) {
      await post({
        key,
        status: 'crash',
        value: null,
        baseline: head.recorded,
        premises: [head.key],
        code,
      });
      outcomes.push({
        index: i,
        key,
        status: 'crash',
        effect: p.effect,
        observedDelta: null,
        accepted: false,
        score: 0,
      });
      continue;
    }
    const value = trueLevel + sigma * p.noise;
    const d = head.recorded - value;
    const status = d > 0 ? 'keep' : 'discard';
    await post({ key, status, value, baseline: head.recorded, premises: [head.key], code });
    const o: ProposalOutcome = {
      index: i,
      key,
      status,
      effect: p.effect,
      observedDelta: d,
      accepted: false,
      score: 0,
    };
    if (status === 'keep') {
      const g = await gateKeep(key);
      o.accepted = g.accepted;
      o.firstScore = g.first;
      o.gateRounds = g.rounds;
      if (g.firstGate) o.firstGate = g.firstGate;
    }
    outcomes.push(o);
    const accepted = o.accepted;
    if (accepted) {
      head = { key, trueLevel, recorded: value };
      chainLength++;
      if (p.effect <= 0) falseInChain++;
    }
  }

  // Final scores (C and S) as stored, after every reproduction of the loop.
  const pid = (
    await db.db
      .selectFrom('projects')
      .select('id')
      .where('name', '=', project)
      .executeTakeFirstOrThrow()
  ).id;
  const rows = await db.db
    .selectFrom('experiments')
    .select(['key', 'score', 'anchored'])
    .where('project_id', '=', pid)
    .execute();
  const byKey = new Map(rows.map((r) => [r.key, r]));
  for (const o of outcomes) {
    const row = byKey.get(o.key);
    const s = row?.score as unknown as
      { value: number; components: { statistics: number } } | null | undefined;
    o.score = s?.value ?? 0;
    if (s) o.statistics = s.components.statistics;
    if (o.status === 'keep') o.anchored = row?.anchored ?? false;
  }
  const reps = await db.db
    .selectFrom('reproductions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('project_id', '=', pid)
    .executeTakeFirstOrThrow();
  return {
    method: `ECV (${setup.label})`,
    loopSeed,
    outcomes,
    reproductions: Number(reps.n),
    trueGainSigma: (regime.level0 - head.trueLevel) / sigma,
    falseInChain,
    chainLength,
  };
}
