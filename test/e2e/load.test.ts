import { describe, expect, it } from 'vitest';
import { soakVerdict } from '../../bench/report-soak.js';
import { benchSoak } from '../../bench/soak.js';
import { MemoryWatch } from '../../bench/lib/memory.js';
import { Progress } from '../../bench/lib/progress.js';
import { ENGINES } from '../helpers/db.js';

/**
 * The bounded load test of `npm run bench` (bench/soak.ts) in its short form: a real service
 * process under concurrent autocannon gates and writes answers every request 2xx and stores every
 * write whole and once. Throughput and memory figures belong to docs/benchmarks.md, not here.
 */
describe.skipIf(!ENGINES.includes('postgres'))('load test (short)', () => {
  it('answers concurrent gates and writes without one error and stores every write once', { timeout: 240_000 }, async () => {
    const quiet = new Progress('soak');
    quiet.step = quiet.tick = () => undefined;
    const s = await benchSoak({ quick: true, progress: quiet, mem: new MemoryWatch() });
    const v = soakVerdict(s);
    expect(s.gate.ok).toBeGreaterThan(0);
    expect(s.ingest.ok).toBeGreaterThan(0);
    expect({ errors: v.errors, statuses: [s.gate.statusCodes, s.ingest.statusCodes] }).toEqual({
      errors: 0,
      statuses: [{ 200: s.gate.ok }, { 201: s.ingest.ok }],
    });
    expect(v.stored, `${s.experimentsStored} stored for ${s.batchesAnswered} answered batches`).toBe(true);
  });
});
