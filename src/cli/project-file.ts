import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DomainError } from '../domain/errors.js';
import type { ProjectInput } from '../domain/project.js';

export const PROJECT_FILE = 'ecv.json';

/** Reads ecv.json from a directory (the experiment repository's root); null when absent. */
export function readProjectFile(dir: string): ProjectInput | null {
  const p = join(dir, PROJECT_FILE);
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as ProjectInput;
  } catch (e) {
    throw new DomainError('validation_failed', `${p} is not valid JSON: ${(e as Error).message}`);
  }
}
