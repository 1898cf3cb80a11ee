/**
 * ECV's gate as a model of the service, for the obey bench at many loops: the same pure
 * functions the service calls on every write and gate call (computeProjectStats, scoreProject,
 * the cascade's compound, decideGate), with the database, the queue and the runners replaced by
 * an in-memory list of experiments and reproductions answered at once from the hidden truth.
 * It makes the decisions the service makes on the same seeds (test/integration/obey-model.test.ts
 * checks a loop step by step against `ecvPolicy`), about 30× faster, so the bench can pool 20
 * loops per regime instead of 4. The service run stays the authoritative one.
 */
import { buildPremiseGraph, compound } from '../../src/domain/cascade/index.js';
import { decideGate } from '../../src/domain/gate/decision.js';
import { normalizeProject } from '../../src/domain/project.js';
import { computeProjectStats, observations, scoreProject, sigmaIsKnown, statsDue, type ObservedExperiment } from '../../src/domain/scoring/index.js';
import { DEFAULTS, type ProjectStats, type Score } from '../../src/domain/types.js';
import { Truth } from '../sim/ecv-loop.js';
import { better, type Decision, type Policy, type ProposalView } from './loop.js';
import type { ObeyRegime } from './regimes.js';

/** Steps of one decision before the model gives up (the bench's MAX_GATE_CALLS counterpart). */
const MAX_STEPS = 40;

/** The model ECV policy of one loop; `levels` receives the truth (runObeyLoop's onTruth). */
export function modelPolicy(regime: ObeyRegime, loopSeed: number): Policy & { levels: Map<string, number> } {
  const project = normalizeProject({ name: 'model', metric: { name: regime.metric, direction: regime.direction } });
  const truth = new Truth();
  const levels = truth.register('model', regime, loopSeed);
  const experiments: ObservedExperiment[] = [];
  const byKey = new Map<string, ObservedExperiment>();
  const seeds = new Map<string, number>();
  const s = regime.direction === 'maximize' ? 1 : -1;
  let reproductions = 0;

  // The statistics are refit as the service refits them (statsDue after each write, always on an
  // edit), and held between refits; scoring the whole project under them gives what the service's
  // incremental rescoring stores (test/unit/scoring/subtree.test.ts).
  let stats: ProjectStats | null = null;
  let fittedAt = 0;
  const written = (edit: boolean, repeats: boolean) => {
    const count = experiments.length + reproductions;
    if (edit || statsDue(stats, stats ? fittedAt : null, count, repeats)) {
      stats = computeProjectStats({ project, experiments });
      fittedAt = count;
    }
  };
  const scoreAll = () => ({ stats: stats!, scores: scoreProject({ project, experiments, stats: stats! }) });
  const cascadeOf = (scores: Map<string, Score>, key: string) => {
    const graph = buildPremiseGraph(
      experiments.map((e) => {
        const sc = scores.get(e.key)!;
        return { key: e.key, premises: e.premiseKey ? [e.premiseKey] : [], confidence: sc.value, anchored: sc.anchorEligible, hardGate: sc.hardGate };
      }),
    );
    return compound(graph, key);
  };
  /** The bar (SPEC §5) of the head: its posterior level + s·barMargin·σ̂. */
  const barOf = (head: string): number | null => {
    const { stats, scores } = scoreAll();
    const level = scores.get(head)?.level;
    return level && stats.sigma !== null ? level.mean + s * DEFAULTS.barMargin * stats.sigma : null;
  };
  /** One reproduction of `key` with the next seed, from the truth (as the simulated runners). */
  const reproduce = (key: string) => {
    const seed = (seeds.get(key) ?? 0) + 1;
    seeds.set(key, seed);
    const out = truth.reproduce('model', key, seed);
    byKey.get(key)!.reproductions.push(out.value === null ? { seed, value: null, error: 'simulated crash' } : { seed, value: out.value });
    reproductions++;
    written(false, observations(byKey.get(key)!).length >= 2); // a repeated run can measure σ̂
  };
  /** A gate call with `wait`: steps of decideGate, each job run at once, until it decides. */
  const gate = (key: string) => {
    const spent = { decision: 0, anchor: 0, sigma: 0 };
    for (let i = 0; i < MAX_STEPS; i++) {
      const { stats, scores } = scoreAll();
      const score = scores.get(key)!;
      const k = cascadeOf(scores, key);
      const x = byKey.get(key)!;
      const premise = x.premiseKey ? byKey.get(x.premiseKey)! : null;
      const pScore = premise ? scores.get(premise.key)! : null;
      let root = x;
      while (root.premiseKey) root = byKey.get(root.premiseKey)!;
      const inherited = k.hardGate && k.hardGate.key !== key ? k.hardGate : null;
      const res = decideGate({
        x: { key, score, compounded: k.compounded, inheritedHardGate: inherited },
        premise: premise && !pScore!.hardGate && score.premiseLevel?.source === 'premise' ? { key: premise.key, runs: pScore!.nX } : null,
        root: { key: root.key, runs: scores.get(root.key)!.nX },
        threshold: project.threshold,
        sMin: DEFAULTS.sMin,
        sReject: DEFAULTS.sReject,
        minEffect: project.minEffect,
        maxReproductions: DEFAULTS.maxReproductions,
        maxAnchorReproductions: DEFAULTS.maxAnchorReproductions,
        spent,
        pending: false,
        sigmaKnown: sigmaIsKnown(stats.sigmaSource, stats.nu), // as gate.service reads it
        prior: stats.prior!,
        sigma: stats.sigma,
        nu: stats.nu,
      });
      if (res.decision !== 'reanchor' || !res.next) return { decision: res.decision, s: score.components.statistics };
      reproduce(res.next.key);
      spent[res.next.purpose]++;
    }
    return { decision: 'reject' as const, s: undefined };
  };
  const add = (p: ProposalView, status: 'keep' | 'discard' | 'crash'): ObservedExperiment => {
    const e: ObservedExperiment = {
      key: p.key,
      status,
      value: p.values[0] ?? null,
      replicates: [],
      baseline: p.index > 0 ? p.head.recorded : null,
      premiseKey: p.index > 0 ? p.head.key : null,
      reproductions: [],
      code: { paths: [{ path: 'train.py', added: 6, removed: 3 }] },
    };
    experiments.push(e);
    byKey.set(e.key, e);
    written(false, false);
    return e;
  };
  let lastBar: number | null = null;

  return {
    id: 'ecv',
    label: 'ECV (model of the service: the same pure functions, in memory)',
    runsPerProposal: 1,
    levels,
    start: (root) => {
      add(root, 'keep');
      const before = reproductions;
      if (gate(root.key).decision === 'accept') lastBar = barOf(root.key);
      return Promise.resolve(reproductions - before);
    },
    decide: (p): Promise<Decision> => {
      if (p.crash) {
        add(p, 'crash');
        return Promise.resolve({ keep: false, accepted: false, reproductions: 0 });
      }
      const bar = barOf(p.head.key) ?? lastBar ?? p.head.recorded;
      const keep = better(regime, p.values, bar) > 0;
      const e = add(p, keep ? 'keep' : 'discard');
      if (!keep) return Promise.resolve({ keep, accepted: false, reproductions: 0 });
      const before = reproductions;
      const g = gate(p.key);
      const accepted = g.decision === 'accept';
      if (accepted) lastBar = barOf(p.key);
      else {
        e.status = 'discard'; // the loop reverts and re-posts the row as a discard: an edit
        written(true, false);
      }
      return Promise.resolve({ keep, accepted, ...(g.s !== undefined ? { s: g.s } : {}), reproductions: reproductions - before });
    },
  };
}
