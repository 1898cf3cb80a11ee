import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ecvPolicy, LiveRunners } from '../../bench/obey/ecv.js';
import { runObeyLoop, type ObeyLoop } from '../../bench/obey/loop.js';
import { modelPolicy } from '../../bench/obey/model.js';
import { DIGITS, OBEY_REGIMES } from '../../bench/obey/regimes.js';
import { Truth } from '../../bench/sim/ecv-loop.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';

const KARPATHY = OBEY_REGIMES.find((r) => r.id === 'karpathy')!;

/**
 * The obey bench pools 20 loops per regime through ECV's model (bench/obey/model.ts) and only a
 * few through the service; that is sound only while the model makes the service's decisions.
 * Here both run the same loops and must agree step by step.
 */
describe('the obey model makes the service’s decisions', () => {
  let t: TestApp;
  let truth: Truth;
  let runners: LiveRunners;
  beforeAll(async () => {
    t = await buildTestApp('pglite');
    truth = new Truth();
    runners = new LiveRunners(t.app, truth, 1);
    runners.start();
  });
  afterAll(async () => {
    await runners?.stop();
    await t?.close();
  });

  const cases = [
    { regime: KARPATHY, seed: 2, n: 36 },
    { regime: DIGITS, seed: 1, n: 30 },
  ];
  it.each(cases)('$regime.id seed $seed, $n experiments', { timeout: 240_000 }, async ({ regime, seed, n }) => {
    const service = await ecvPolicy(t.app, truth, runners, regime, seed, `model-${regime.id}-${seed}`, { wait: 10 });
    const viaService: ObeyLoop = await runObeyLoop(regime, seed, n, service, (k, v) => service.levels.set(k, v));
    const model = modelPolicy(regime, seed);
    const viaModel: ObeyLoop = await runObeyLoop(regime, seed, n, model, (k, v) => model.levels.set(k, v));

    expect(viaModel.baselineRuns).toBe(viaService.baselineRuns);
    // Something was decided on the way: keeps gated, reproductions run.
    expect(viaService.steps.filter((s) => s.keep).length).toBeGreaterThan(0);
    expect(viaService.steps.at(-1)!.runs).toBeGreaterThan(n);
    viaModel.steps.forEach((m, i) => {
      const s = viaService.steps[i];
      expect({ i, keep: m.keep, accepted: m.accepted, runs: m.runs }).toEqual({ i, keep: s.keep, accepted: s.accepted, runs: s.runs });
      if (s.s !== undefined) expect(m.s).toBeCloseTo(s.s, 9);
    });
  });
});
