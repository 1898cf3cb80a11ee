/**
 * The chain posterior of SPEC §3: every commit's level L as N(m, v), computed along the premise
 * chain from the roots by assumed-density filtering, in "better" units (u = s·value).
 *
 * - A root with runs: flat prior, m = mean of its runs, v = σ̂²/n.
 * - A commit X on premise P: L_X = L_P + μ_X with μ_X ~ g and runs of X ~ N(L_X, σ̂²). Its
 *   reference is P's *cavity* — P's posterior without X's own contribution — so a keep is
 *   judged against its premise's honest level, not the lucky value that made it a keep. With
 *   d = ū_X − m_ref and V = v_ref + σ̂²/n_X (w = (σ̂²/n_X)/V):
 *     m_X = m_ref + d − w·(d − E[μ|d]),  v_X = v_ref·(σ̂²/n_X)/V + w²·Var(μ|d).
 * - Every proposal C built on P (keeps, discards and rejected keeps alike) is also a run of
 *   L_P + μ_C and sends P a Gaussian message: the moment-matched tilt of P's base posterior by
 *   C's runs, divided by the base. P's full posterior is its base times every message.
 * - A premise without a level (no runs) falls back to the proposal's recorded baseline, read as
 *   one run of the baseline commit: N(baseline, σ̂²).
 *
 * Pure and deterministic; iterative (chains 100,000 deep are fine).
 */
import { effectPosterior, posteriorMoments, priorMoments, type AshPrior } from './ash.js';

export interface ChainNode {
  key: string;
  /** First premise's key; null or unknown key = no premise in the chain. */
  premise: string | null;
  /** Runs of this commit (value, replicates, reproductions with a value), better units. */
  runs: number[];
  /** Recorded baseline, better units. */
  baseline: number | null;
}

export interface Gaussian {
  m: number;
  v: number;
}

export interface NodeLevel {
  /** The reference X is compared with (its premise's cavity, or the baseline), or null. */
  reference: (Gaussian & { source: 'premise' | 'baseline' }) | null;
  /** Level after X's own runs (and the reference); null without runs and reference. */
  base: Gaussian | null;
  /** Level after every proposal built on X as well. */
  full: Gaussian | null;
  /** d = ū_X − m_ref and V = v_ref + σ̂²/n_X, when X has runs and a reference. */
  d: number | null;
  V: number | null;
  n: number;
  mean: number | null;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The posterior of the level of X given a reference N(m_ref, v_ref) and X's runs. */
export function stepLevel(ref: Gaussian, runs: number[], g: AshPrior, sigma: number): { level: Gaussian; d: number; V: number } {
  const n = runs.length;
  const noise = (sigma * sigma) / n;
  const d = mean(runs) - ref.m;
  const V = ref.v + noise;
  const post = posteriorMoments(effectPosterior(g, d, V, sigma));
  const w = noise / V;
  return {
    level: { m: ref.m + d - w * (d - post.mean), v: (ref.v * noise) / V + w * w * post.variance },
    d,
    V,
  };
}

/**
 * The message a proposal with runs `runs` sends to its premise's level, whose base is `base`:
 * natural parameters (precision, precision·mean), or null when moment matching gives no
 * positive precision (a bimodal tilt: the proposal says nothing Gaussian about its premise).
 */
export function childMessage(base: Gaussian, runs: number[], g: AshPrior, sigma: number): { lambda: number; eta: number } | null {
  const n = runs.length;
  const noise = (sigma * sigma) / n;
  const d = mean(runs) - base.m;
  const Vc = base.v + noise;
  const post = posteriorMoments(effectPosterior(g, d, Vc, sigma));
  const k = base.v / Vc;
  const mt = base.m + k * (d - post.mean);
  const vt = (base.v * noise) / Vc + k * k * post.variance;
  const lambda = 1 / vt - 1 / base.v;
  if (!(lambda > 1e-12 / base.v) || !Number.isFinite(lambda)) return null;
  return { lambda, eta: mt / vt - base.m / base.v };
}

/**
 * Levels of every node of a project, and the order they were computed in (premises first).
 * Nodes on a premise cycle (never stored: edges are acyclic) would be left out.
 *
 * `references` gives the premise cavity of nodes whose premise lies outside `nodes` (a subtree
 * rescored on its own, SPEC §4): a node's level depends only on its premise's cavity, its own
 * runs and its children's runs, so a subtree with its entry cavities reproduces what the whole
 * project would compute for it. A node missing there (or mapped to null) has no premise cavity
 * and falls back to its baseline, as a root does.
 */
export function computeLevels(
  nodes: readonly ChainNode[],
  g: AshPrior,
  sigma: number,
  references?: ReadonlyMap<string, Gaussian | null>,
): { levels: Map<string, NodeLevel>; order: string[] } {
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const children = new Map<string, ChainNode[]>();
  const roots: ChainNode[] = [];
  for (const n of nodes) {
    if (n.premise !== null && n.premise !== n.key && byKey.has(n.premise)) {
      const list = children.get(n.premise);
      if (list) list.push(n);
      else children.set(n.premise, [n]);
    } else roots.push(n);
  }
  const prior = priorMoments(g, sigma);
  const out = new Map<string, NodeLevel>();
  // Each queue entry: a node with the reference its premise offers (null: root).
  const queue: { node: ChainNode; premiseCavity: Gaussian | null }[] = roots.map((node) => ({ node, premiseCavity: references?.get(node.key) ?? null }));
  const visit = (node: ChainNode, premiseCavity: Gaussian | null) => {
    const n = node.runs.length;
    let reference: NodeLevel['reference'] = null;
    if (premiseCavity) reference = { ...premiseCavity, source: 'premise' };
    else if (node.baseline !== null && Number.isFinite(node.baseline))
      reference = { m: node.baseline, v: sigma * sigma, source: 'baseline' };
    let base: Gaussian | null = null;
    let d: number | null = null;
    let V: number | null = null;
    if (n > 0 && reference) {
      const st = stepLevel(reference, node.runs, g, sigma);
      base = st.level;
      d = st.d;
      V = st.V;
    } else if (n > 0) {
      base = { m: mean(node.runs), v: (sigma * sigma) / n };
    } else if (reference) {
      base = { m: reference.m + prior.mean, v: reference.v + prior.variance };
    }
    const kids = children.get(node.key) ?? [];
    const messages = base ? kids.map((c) => (c.runs.length > 0 ? childMessage(base, c.runs, g, sigma) : null)) : kids.map(() => null);
    let full: Gaussian | null = null;
    let lam = 0;
    let eta = 0;
    if (base) {
      lam = 1 / base.v;
      eta = base.m / base.v;
      for (const msg of messages) {
        if (!msg) continue;
        lam += msg.lambda;
        eta += msg.eta;
      }
      full = { m: eta / lam, v: 1 / lam };
    }
    out.set(node.key, { reference, base, full, d, V, n, mean: n > 0 ? mean(node.runs) : null });
    kids.forEach((c, i) => {
      const msg = messages[i];
      const cav = !full ? null : msg ? { m: (eta - msg.eta) / (lam - msg.lambda), v: 1 / (lam - msg.lambda) } : full;
      queue.push({ node: c, premiseCavity: cav });
    });
  };
  for (let i = 0; i < queue.length; i++) visit(queue[i].node, queue[i].premiseCavity);
  return { levels: out, order: queue.map((q) => q.node.key) };
}
