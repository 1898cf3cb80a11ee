import { auroc, mean, reliability, share, type ReliabilityBin } from '../lib/stats.js';
import type { LoopResult, ProposalOutcome } from './loop.js';

/** Per-method, per-regime results over all loops (keeps pooled across loops). */
export interface MethodSummary {
  method: string;
  loops: number;
  experiments: number;
  keeps: number;
  /** Share of keeps whose true effect is ≤ 0 (what flat keep/discard builds on). */
  falseKeeps: number;
  /** AUROC of the method's score, real vs false keeps (final scores). */
  auroc: number;
  /** ECV: AUROC of C at the first gate call, before any reproduction. */
  aurocFirst: number;
  /** AUROC over every non-crash proposal (keeps and discards): real improvement vs not. */
  aurocAll: number;
  /** Share of accepted premises whose true effect is ≤ 0. */
  contamination: number;
  accepted: number;
  /** Share of truly improving keeps accepted: all of them, and those ≥ 1σ. */
  keptReal: number;
  keptReal1s: number;
  /** Share of all ≥ 1σ proposals that ended up accepted (the loop's keep rule included). */
  endToEnd1s: number;
  reproductionsPerExperiment: number;
  /** Mean true gain of the final premise over the baseline, σ units. */
  gainSigma: number;
  /** Mean number of false premises left on the final chain. */
  falseInChain: number;
  /** ECV: accepted keeps by how the gate got there (no reproduction / after re-anchoring), with their false share. */
  paths?: {
    direct: number;
    directFalse: number;
    reanchored: number;
    reanchoredFalse: number;
    anchoredAccepted: number;
    /** Mean components of C and K at the first gate of the keeps accepted without reproduction, false ones and real ones. */
    directComponents: { false: Components | null; real: Components | null };
    /** Keeps per experiment, and re-anchoring rounds per keep. */
    keepsPerExperiment: number;
    roundsPerKeep: number;
  };
  /** ECV: calibration of S over every non-crash proposal, and over keeps. */
  calibration?: {
    all: { bins: ReliabilityBin[]; ece: number };
    keeps: { bins: ReliabilityBin[]; ece: number };
  };
}

interface Components {
  n: number;
  reproduction: number;
  statistics: number;
  effect: number;
  c: number;
  k: number;
}

function meanComponents(os: ProposalOutcome[]): Components | null {
  const g = os.filter((o) => o.firstGate);
  if (g.length === 0) return null;
  return {
    n: g.length,
    reproduction: mean(g.map((o) => o.firstGate!.components.reproduction)),
    statistics: mean(g.map((o) => o.firstGate!.components.statistics)),
    effect: mean(g.map((o) => o.firstGate!.components.effect)),
    c: mean(g.map((o) => o.firstScore ?? NaN)),
    k: mean(g.map((o) => o.firstGate!.compounded)),
  };
}

export function summarize(loops: LoopResult[], sigma: number): MethodSummary {
  const all = loops.flatMap((l) => l.outcomes);
  const proposals = all.filter((o) => o.status !== 'crash');
  const keeps = proposals.filter((o) => o.status === 'keep');
  const real = (o: { effect: number }) => o.effect > 0;
  const accepted = keeps.filter((o) => o.accepted);
  const realKeeps = keeps.filter(real);
  const bigKeeps = keeps.filter((o) => o.effect >= sigma);
  const withS = proposals.filter((o) => o.statistics !== undefined);
  const keepsS = withS.filter((o) => o.status === 'keep');
  return {
    method: loops[0]?.method ?? '',
    loops: loops.length,
    experiments: loops.reduce((n, l) => n + l.outcomes.length + 1, 0),
    keeps: keeps.length,
    falseKeeps: share(keeps, (o) => !real(o)),
    auroc: auroc(
      keeps.map((o) => o.score),
      keeps.map(real),
    ),
    aurocFirst: keeps.every((o) => o.firstScore !== undefined)
      ? auroc(
          keeps.map((o) => o.firstScore!),
          keeps.map(real),
        )
      : NaN,
    aurocAll: auroc(
      proposals.map((o) => o.score),
      proposals.map(real),
    ),
    contamination: share(accepted, (o) => !real(o)),
    accepted: accepted.length,
    keptReal: share(realKeeps, (o) => o.accepted),
    keptReal1s: share(bigKeeps, (o) => o.accepted),
    endToEnd1s: share(
      proposals.filter((o) => o.effect >= sigma),
      (o) => o.accepted,
    ),
    reproductionsPerExperiment:
      loops.reduce((n, l) => n + l.reproductions, 0) /
      Math.max(
        1,
        loops.reduce((n, l) => n + l.outcomes.length + 1, 0),
      ),
    gainSigma: mean(loops.map((l) => l.trueGainSigma)),
    falseInChain: mean(loops.map((l) => l.falseInChain)),
    ...(keeps.some((o) => o.gateRounds !== undefined)
      ? {
          paths: {
            direct: accepted.filter((o) => o.gateRounds === 0).length,
            directFalse: share(
              accepted.filter((o) => o.gateRounds === 0),
              (o) => !real(o),
            ),
            reanchored: accepted.filter((o) => (o.gateRounds ?? 0) > 0).length,
            reanchoredFalse: share(
              accepted.filter((o) => (o.gateRounds ?? 0) > 0),
              (o) => !real(o),
            ),
            anchoredAccepted: share(accepted, (o) => o.anchored === true),
            directComponents: {
              false: meanComponents(accepted.filter((o) => o.gateRounds === 0 && !real(o))),
              real: meanComponents(accepted.filter((o) => o.gateRounds === 0 && real(o))),
            },
            keepsPerExperiment:
              keeps.length /
              Math.max(
                1,
                loops.reduce((x, l) => x + l.outcomes.length + 1, 0),
              ),
            roundsPerKeep: mean(keeps.map((o) => o.gateRounds ?? 0)),
          },
        }
      : {}),
    ...(withS.length
      ? {
          calibration: {
            all: reliability(
              withS.map((o) => o.statistics!),
              withS.map(real),
            ),
            keeps: reliability(
              keepsS.map((o) => o.statistics!),
              keepsS.map(real),
            ),
          },
        }
      : {}),
  };
}
