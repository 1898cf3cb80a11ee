/**
 * The shared schemas written as TypeScript (`as const`), so the request types derive from them
 * (json-schema-to-ts `FromSchema`). The answers' schemas are the `*.json` files beside this one.
 * Both kinds are registered by `$id` (src/http/schemas.ts) for validation and openapi.yaml.
 */
import { CompleteIn } from './complete.js';
import { EdgesIn } from './edges-in.js';
import { ExperimentIn } from './experiment-in.js';
import { GateIn } from './gate.js';
import { ProjectIn } from './project.js';
import { LeaseIn } from './runner.js';
import { ExperimentKey, ProjectName, RunnerName } from './shared.js';
import { TokenIn } from './token-in.js';

/** The TypeScript schemas with an `$id`, by the file that holds them (files sort as the registry does). */
export const TS_SCHEMAS: Record<string, readonly { $id: string }[]> = {
  'complete.ts': [CompleteIn],
  'edges-in.ts': [EdgesIn],
  'experiment-in.ts': [ExperimentIn],
  'gate.ts': [GateIn],
  'project.ts': [ProjectIn],
  'runner.ts': [LeaseIn],
  'shared.ts': [ExperimentKey, ProjectName, RunnerName],
  'token-in.ts': [TokenIn],
};
