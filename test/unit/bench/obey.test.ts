import { describe, expect, it } from 'vitest';
import {
  better,
  purePolicy,
  runObeyLoop,
  type ObeyLoop,
  type ObeyStep,
  type Policy,
} from '../../../bench/obey/loop.js';
import { gainShare, stepsWithin, summarizeObey } from '../../../bench/obey/metrics.js';
import { DIGITS, effectOf, OBEY_REGIMES, type ObeyRegime } from '../../../bench/obey/regimes.js';
import { v1Policy } from '../../../bench/obey/v1.js';
import { spliceObey } from '../../../bench/report-obey.js';
import { proposalStream } from '../../../bench/sim/proposals.js';

const KARPATHY = OBEY_REGIMES.find((r) => r.id === 'karpathy')!;

describe('obey regimes', () => {
  it('leaves the accuracy regimes’ effects as their streams draw them', () => {
    const stream = proposalStream(KARPATHY, 3, 50);
    stream.forEach((p, i) => expect(effectOf(KARPATHY, p, 3, i, 40)).toBe(p.effect));
  });

  it('digits-like: real gains shrink with the head’s true gain, down to the floor', () => {
    const real = proposalStream(DIGITS, 1, 400).find((p) => p.kind === 'real' && p.effect > 0)!;
    const at = (g: number) => effectOf(DIGITS, real, 1, 5, g);
    expect(at(0)).toBeCloseTo(real.effect, 12);
    expect(at(-3)).toBeCloseTo(real.effect, 12); // a false head does not earn more headroom
    expect(at(DIGITS.headroomSigma! / 2)).toBeCloseTo(real.effect / 2, 12);
    expect(at(100)).toBeCloseTo(real.effect * DIGITS.gainFloor!, 12);
  });

  it('digits-like: some harmful proposals are catastrophic, the same ones every time', () => {
    const stream = proposalStream(DIGITS, 2, 2000);
    const harmful = stream.map((p, i) => ({ p, i })).filter(({ p }) => p.kind === 'harmful');
    const effects = harmful.map(({ p, i }) => effectOf(DIGITS, p, 2, i, 0));
    expect(harmful.map(({ p, i }) => effectOf(DIGITS, p, 2, i, 5))).toEqual(effects);
    const cat = effects.filter((e) => e <= -DIGITS.catastrophicScale! * DIGITS.sigma);
    expect(cat.length / harmful.length).toBeGreaterThan(0.1);
    expect(cat.length / harmful.length).toBeLessThan(0.2);
    expect(Math.min(...cat)).toBeGreaterThanOrEqual(-2 * DIGITS.catastrophicScale! * DIGITS.sigma);
  });
});

describe('pure policies', () => {
  const view = (values: number[], recorded: number) => ({
    index: 1,
    key: 'e0001',
    crash: false,
    values,
    head: { key: 'baseline', trueLevel: recorded, recorded, gainSigma: 0 },
  });

  it('compare in the metric’s direction', () => {
    expect(better(KARPATHY, [0.99], 1)).toBeCloseTo(0.01, 12); // minimized: lower is better
    expect(better(DIGITS, [0.9], 0.88)).toBeCloseTo(0.02, 12); // maximized
  });

  it('flat keeps and accepts any gain; 2σ keeps it but accepts only beyond 2σ', async () => {
    const s = KARPATHY.sigma;
    const flat = purePolicy(KARPATHY, 'flat');
    const two = purePolicy(KARPATHY, '2sigma');
    expect(await flat.decide(view([1 - s], 1))).toMatchObject({ keep: true, accepted: true });
    expect(await flat.decide(view([1 + s], 1))).toMatchObject({ keep: false, accepted: false });
    expect(await two.decide(view([1 - s], 1))).toMatchObject({ keep: true, accepted: false });
    expect(await two.decide(view([1 - 2.5 * s], 1))).toMatchObject({ keep: true, accepted: true });
    expect(await flat.decide({ ...view([], 1), crash: true })).toMatchObject({ keep: false });
  });

  it('three seeds decides on the mean of its three runs', async () => {
    const three = purePolicy(DIGITS, 'three-seeds');
    expect(three.runsPerProposal).toBe(3);
    expect(await three.decide(view([0.95, 0.8, 0.8], 0.86))).toMatchObject({ keep: false });
    expect(await three.decide(view([0.87, 0.86, 0.88], 0.86))).toMatchObject({
      keep: true,
      accepted: true,
    });
  });
});

describe('runObeyLoop', () => {
  it('builds only on accepted keeps and counts every run', async () => {
    const seen: { head: string; key: string }[] = [];
    const truth = new Map<string, number>();
    const spy: Policy = {
      ...purePolicy(KARPATHY, '2sigma'),
      decide(p) {
        seen.push({ head: p.head.key, key: p.key });
        return purePolicy(KARPATHY, '2sigma').decide(p);
      },
    };
    const loop = await runObeyLoop(KARPATHY, 7, 80, spy, (k, v) => truth.set(k, v));
    expect(loop.steps).toHaveLength(79);
    expect(truth.size).toBe(80);
    expect(loop.steps.at(-1)!.runs).toBe(80);
    let head = 'baseline';
    loop.steps.forEach((st, i) => {
      expect(seen[i].head).toBe(head);
      if (st.accepted) head = seen[i].key;
    });
    // The head's gain moves only on accepts, by that step's true effect.
    let gain = 0;
    for (const st of loop.steps) {
      if (st.accepted) gain += st.effect / KARPATHY.sigma;
      expect(st.headGainSigma).toBeCloseTo(gain, 9);
    }
  });

  it('three seeds spends three runs per experiment', async () => {
    const loop = await runObeyLoop(KARPATHY, 1, 30, purePolicy(KARPATHY, 'three-seeds'));
    expect(loop.baselineRuns).toBe(3);
    expect(loop.steps.at(-1)!.runs).toBe(90);
  });
});

const step = (o: Partial<ObeyStep> & { index: number; runs: number }): ObeyStep => ({
  effect: 0,
  crash: false,
  keep: false,
  accepted: false,
  headGainSigma: 0,
  ...o,
});

describe('summarizeObey', () => {
  const sigma = 1;
  // 1 baseline run + 5 steps; reproductions at steps 2 and 4 (runs jump by 3 and 2).
  const loop: ObeyLoop = {
    policy: 'x',
    regime: 'r',
    loopSeed: 1,
    baselineRuns: 1,
    notes: {},
    steps: [
      step({ index: 1, runs: 2, keep: true, accepted: true, effect: 2, s: 0.95, headGainSigma: 2 }),
      step({
        index: 2,
        runs: 6,
        keep: true,
        accepted: true,
        effect: -0.5,
        s: 0.93,
        headGainSigma: 1.5,
      }),
      step({ index: 3, runs: 7, keep: true, accepted: false, effect: 1.5 }),
      step({
        index: 4,
        runs: 10,
        keep: true,
        accepted: true,
        effect: 0.5,
        s: 0.99,
        headGainSigma: 2,
      }),
      step({ index: 5, runs: 11, effect: 3, headGainSigma: 2 }),
    ],
  };

  it('pools the SPEC §14 figures at equal experiments', () => {
    const s = summarizeObey([loop], { mode: 'experiments', budget: 6, sigma });
    expect(s.experiments).toBe(6);
    expect(s.keeps).toBe(4);
    expect(s.accepted).toBe(3);
    expect(s.contamination).toBeCloseTo(1 / 3, 12);
    expect(s.keptReal).toBeCloseTo(2 / 3, 12);
    expect(s.keeps1s).toBe(2);
    expect(s.keptReal1s).toBeCloseTo(1 / 2, 12);
    expect(s.endToEnd1s).toBeCloseTo(1 / 3, 12); // effects 2, 1.5, 3: only the first accepted
    expect(s.reproductionsPerExperiment).toBeCloseTo((11 - 6) / 6, 12);
    expect(s.gainSigma).toBe(2);
    expect(s.falseInChain).toBe(1);
    expect(s.calibration).toEqual({
      n: 3,
      meanS: expect.closeTo((0.95 + 0.93 + 0.99) / 3, 12),
      shareReal: 2 / 3,
    });
  });

  it('cuts a loop where its runs reach the budget at equal compute', () => {
    expect(stepsWithin(loop, 'compute', 6).map((s) => s.index)).toEqual([1, 2]);
    expect(stepsWithin(loop, 'experiments', 6)).toHaveLength(5);
    const s = summarizeObey([loop], { mode: 'compute', budget: 6, sigma });
    expect(s.experiments).toBe(3);
    expect(s.reproductionsPerExperiment).toBeCloseTo((6 - 3) / 3, 12);
    expect(s.gainSigma).toBe(1.5);
    expect(s.contamination).toBe(0.5);
  });

  it('counts minEffect as the line between real and not', () => {
    const s = summarizeObey([loop], { mode: 'experiments', budget: 6, sigma, minEffect: 0.6 });
    expect(s.contamination).toBeCloseTo(2 / 3, 12);
  });

  it('gives the true gain as a share of flat keep’s', () => {
    const a = summarizeObey([loop], { mode: 'experiments', budget: 6, sigma });
    expect(gainShare(a, { ...a, gainSigma: 4 })).toBe(0.5);
    expect(gainShare(a, { ...a, gainSigma: 0 })).toBeNaN();
  });
});

describe('v1 baseline policy (the first design, in process)', () => {
  const run = async (regime: ObeyRegime, seed: number) => {
    const levels = new Map<string, number>();
    return runObeyLoop(regime, seed, 60, v1Policy(regime, seed, levels), (k, v) =>
      levels.set(k, v),
    );
  };

  it('gates flat keeps, reproduces in rounds of three, and is deterministic', async () => {
    const a = await run(KARPATHY, 2);
    expect(await run(KARPATHY, 2)).toEqual(a);
    const keeps = a.steps.filter((s) => s.keep);
    expect(keeps.length).toBeGreaterThan(0);
    expect(keeps.every((s) => s.s !== undefined && s.s >= 0 && s.s <= 1)).toBe(true);
    expect(a.steps.filter((s) => !s.keep).every((s) => !s.accepted)).toBe(true);
    expect((a.steps.at(-1)!.runs - 60) % 3).toBe(0);
    // It rejects some keeps (a gate, not flat keep) and reproduces some.
    expect(keeps.some((s) => !s.accepted)).toBe(true);
    expect(a.steps.at(-1)!.runs).toBeGreaterThan(60);
  });

  it('works on a maximized metric', async () => {
    const d = await run(DIGITS, 1);
    expect(d.steps.at(-1)!.headGainSigma).toBeGreaterThan(0);
  });
});

describe('spliceObey', () => {
  const doc = '# B\n\n## Targets\n\nt\n\n## 1. Accuracy\n\na\n\n## 2. Gate\n\ng\n';
  it('inserts the section before §2 the first time, then replaces only it', () => {
    const once = spliceObey(doc, '## 1b. Obey\n\nfirst\n');
    expect(once).toBe(
      '# B\n\n## Targets\n\nt\n\n## 1. Accuracy\n\na\n\n## 1b. Obey\n\nfirst\n\n## 2. Gate\n\ng\n',
    );
    expect(spliceObey(once, '## 1b. Obey\n\nsecond')).toBe(once.replace('first', 'second'));
  });
  it('appends when there is no §2', () => {
    expect(spliceObey('# B\n\n## 1. A\n', '## 1b. O\n')).toBe('# B\n\n## 1. A\n\n## 1b. O\n\n');
  });
});
