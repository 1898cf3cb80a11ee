import { describe, expect, expectTypeOf, it } from 'vitest';
import type { CompleteIn } from '../../../schemas/complete.js';
import type { GateIn } from '../../../schemas/gate.js';
import { ExperimentParams, type ExperimentsIn, type ListExperimentsQuery, type ResultsQuery } from '../../../schemas/routes.js';
import type { LeaseIn } from '../../../schemas/runner.js';
import { ExperimentKey } from '../../../schemas/shared.js';
import { KEY_PATTERN } from '../../../src/domain/ingest/values.js';
import { PROJECT_NAME } from '../../../src/domain/project.js';
import type { ExperimentInput } from '../../../src/domain/types.js';
import type { ExperimentIn } from '../../../schemas/experiment-in.js';
import { schemaValidator } from '../../helpers/schemas.js';

// The request types are derived from the schemas (json-schema-to-ts): these checks run in
// `npm run typecheck`, so a schema change that the handlers do not follow fails it.
describe('types derived from schemas/', () => {
  it('follow the request schemas: required members, optional ones, enums, filled defaults', () => {
    expectTypeOf<GateIn>().toEqualTypeOf<{ experiment: string; threshold?: number; wait?: number }>();
    expectTypeOf<CompleteIn>().toEqualTypeOf<{ runner: string; seed: number; value?: number | null; error?: string; durationS?: number; logTail?: string }>();
    // Defaults are filled in by validation before the handler runs: required in the type.
    expectTypeOf<LeaseIn['maxJobs']>().toEqualTypeOf<number>();
    expectTypeOf<ListExperimentsQuery['limit']>().toEqualTypeOf<number>();
    expectTypeOf<ListExperimentsQuery['status']>().toEqualTypeOf<('keep' | 'discard' | 'crash' | 'unknown')[] | undefined>();
    expectTypeOf<ResultsQuery['direction']>().toEqualTypeOf<'minimize' | 'maximize' | undefined>();
    // $refs resolve: the batch body is one experiment or an array of them.
    expectTypeOf<ExperimentsIn>().toEqualTypeOf<ExperimentIn | ExperimentIn[]>();
    // What the route hands the service is what the service takes.
    expectTypeOf<ExperimentIn>().toExtend<ExperimentInput>();
  });

  it('share one experiment-key pattern between bodies, parameters and the ingest parser', () => {
    expect(ExperimentParams.properties.key.pattern).toBe(ExperimentKey.pattern);
    expect(KEY_PATTERN.source).toBe(ExperimentKey.pattern);
    const gateIn = schemaValidator('GateIn');
    expect(gateIn({ experiment: 'abc1234' })).toBe(true);
    expect(gateIn({ experiment: 'a b' })).toBe(false);
    expect(PROJECT_NAME.test('my-project')).toBe(true);
    expect(PROJECT_NAME.test('My')).toBe(false);
  });
});
