/**
 * The first gate design (v1) as an obey-mode policy, in process, on its own pure modules
 * (bench/baselines/v1, copied from git commit 3b67ef4): keep when a run beats the head's recorded
 * value (v1's loop), accept when K = C(X)·Π C(Anc*) ≥ threshold; otherwise one round of 3
 * reproductions of the re-anchoring candidate (the member of the cascade whose anchoring lifts K
 * the most), then the decision again; reject on a hard gate or when no candidate is left.
 * Statistics are refit as v1's service did: when observations grew by max(1, 10%), kept when
 * they did not move materially. Reproductions are answered from the hidden truth.
 */
import { buildPremiseGraph, type CascadeNode } from '../baselines/v1/cascade/graph.js';
import { compound } from '../baselines/v1/cascade/compound.js';
import { reanchorCandidate } from '../baselines/v1/cascade/reanchor.js';
import { scoreExperiment } from '../baselines/v1/scoring/confidence.js';
import type { ObservedExperiment } from '../baselines/v1/scoring/observed.js';
import { computeProjectStats, statsMovedMaterially } from '../baselines/v1/scoring/stats.js';
import {
  DEFAULT_WEIGHTS,
  DEFAULTS,
  type ProjectConfig,
  type ProjectStats,
  type Score,
} from '../baselines/v1/types.js';
import { keyedRng } from '../sim/prng.js';
import { reproductionNoise } from '../sim/proposals.js';
import { better, type Decision, type Policy, type ProposalView } from './loop.js';
import type { ObeyRegime } from './regimes.js';

const CODE = { paths: [{ path: 'train.py', added: 6, removed: 3 }] };

/** A v1 policy for one loop; `levels` is the hidden truth the simulated runners answer from. */
export function v1Policy(
  regime: ObeyRegime,
  loopSeed: number,
  levels: Map<string, number>,
): Policy {
  const project: ProjectConfig = {
    name: `v1-${regime.id}-${loopSeed}`,
    metric: { name: regime.metric, direction: regime.direction },
    threshold: DEFAULTS.threshold,
    weights: { ...DEFAULT_WEIGHTS },
    nu0: DEFAULTS.nu0,
    minEffect: 0,
    anchorMin: DEFAULTS.anchorMin,
    protectedPaths: [],
    reproduction: { command: 'uv run train.py', replicates: 3, rounds: 1, timeBudgetS: 300 },
  };
  const perRound = project.reproduction.replicates;
  const maxRuns = perRound * project.reproduction.rounds;
  const exps = new Map<string, ObservedExperiment>();
  let stats: ProjectStats | null = null;
  let statsAt = 0;
  let observationsCount = 0;

  const refresh = () => {
    if (stats && observationsCount < statsAt + Math.max(1, 0.1 * statsAt)) return;
    const fresh = computeProjectStats({
      project,
      experiments: [...exps.values()],
      previousVersion: stats?.version ?? 0,
    });
    if (!stats || statsMovedMaterially(stats, fresh)) stats = fresh;
    statsAt = observationsCount;
  };
  const score = (e: ObservedExperiment): Score =>
    scoreExperiment({
      project,
      experiment: e,
      premise: e.premiseKey ? (exps.get(e.premiseKey) ?? null) : null,
      stats: stats!,
    });
  /** X and its ancestors up to the nearest anchor, as the cascade sees them (a chain: one premise). */
  const cascadeOf = (key: string) => {
    const nodes: CascadeNode[] = [];
    const scores = new Map<string, Score>();
    for (let k: string | null = key; k !== null;) {
      const e: ObservedExperiment = exps.get(k)!;
      const sc = score(e);
      scores.set(k, sc);
      nodes.push({
        key: k,
        premises: e.premiseKey ? [e.premiseKey] : [],
        confidence: sc.value,
        anchored: sc.anchorEligible,
        hardGate: sc.hardGate,
      });
      if (sc.anchorEligible) break;
      k = e.premiseKey;
    }
    // The anchor that ends the walk keeps its premise edge out of the graph (its premise is not loaded).
    const last = nodes.at(-1)!;
    if (last.premises.length && !nodes.some((n) => n.key === last.premises[0])) last.premises = [];
    // v1's planner: a member out of reproduction rounds cannot be a candidate.
    const planning = nodes.map((n) => ({
      ...n,
      hardGate:
        n.hardGate ??
        (exps.get(n.key)!.reproductions.length >= maxRuns ? 'rounds_exhausted' : null),
    }));
    return { graph: buildPremiseGraph(nodes), planning: buildPremiseGraph(planning), scores };
  };
  const reproduce = (key: string) => {
    const e = exps.get(key)!;
    const level = levels.get(key)!;
    for (let k = 0; k < perRound; k++) {
      const seed = 1 + e.reproductions.length;
      const crash = keyedRng('repro-crash', regime.id, loopSeed, key, seed).chance(regime.pCrash);
      e.reproductions.push({
        seed,
        value: crash
          ? null
          : level + regime.sigma * reproductionNoise(regime.id, loopSeed, key, seed),
      });
      observationsCount++;
    }
  };
  /** v1's gate for one keep; returns the decision, S of X at it, and reproductions spent. */
  const gate = (key: string): { accepted: boolean; s: number; reproductions: number } => {
    let reproductions = 0;
    for (;;) {
      refresh();
      const { graph, planning, scores } = cascadeOf(key);
      const k = compound(graph, key);
      const s = scores.get(key)!.components.statistics;
      if (k.hardGate) return { accepted: false, s, reproductions };
      if (k.compounded >= project.threshold) return { accepted: true, s, reproductions };
      const cand = reanchorCandidate(planning, key);
      if (!cand) return { accepted: false, s, reproductions };
      reproduce(cand.key);
      reproductions += perRound;
    }
  };
  const add = (p: ProposalView, status: ObservedExperiment['status']) => {
    exps.set(p.key, {
      key: p.key,
      status,
      value: p.values[0] ?? null,
      replicates: [],
      baseline: p.index === 0 ? null : p.head.recorded,
      premiseKey: p.index === 0 ? null : p.head.key,
      reproductions: [],
      code: CODE,
    });
    observationsCount++;
  };
  return {
    id: 'v1',
    label: 'first design (v1)',
    runsPerProposal: 1,
    start: (root) => {
      add(root, 'keep');
      return Promise.resolve(gate(root.key).reproductions);
    },
    decide: (p): Promise<Decision> => {
      if (p.crash) {
        add(p, 'crash');
        return Promise.resolve({ keep: false, accepted: false, reproductions: 0 });
      }
      const keep = better(regime, p.values, p.head.recorded) > 0;
      add(p, keep ? 'keep' : 'discard');
      if (!keep) return Promise.resolve({ keep, accepted: false, reproductions: 0 });
      const g = gate(p.key);
      if (!g.accepted) exps.get(p.key)!.status = 'discard'; // the loop reverts and marks it
      return Promise.resolve({
        keep,
        accepted: g.accepted,
        s: g.s,
        reproductions: g.reproductions,
      });
    },
  };
}
