import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The real-log corpus (SPEC §7): `../shared/data/real-results/` beside the checkout, locally and
 * in CI. A clone without it skips the tests that read it, saying so in one line; under CI=true a
 * missing corpus fails them instead (they run and cannot read it).
 */
export const CORPUS_DIR = fileURLToPath(new URL('../../../shared/data/real-results/', import.meta.url));
export const KARPATHY_LOG = `${CORPUS_DIR}karpathy__autoresearch__exp-H100-mar8__results.tsv`;
export const HAVE_CORPUS = existsSync(CORPUS_DIR);

/** Whether tests on the corpus skip here (missing, CI unset); logs the one line saying why. */
export function skipWithoutCorpus(what: string): boolean {
  if (HAVE_CORPUS || process.env.CI) return false;
  console.log(`skipping ${what}: the real-log corpus ${CORPUS_DIR} is missing (../shared beside the checkout)`);
  return true;
}

/** The corpus's results.tsv files, sorted; [] where its tests skip, and a throw under CI when it is missing. */
export function corpusFiles(skip: boolean): string[] {
  return skip ? [] : readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.tsv')).sort();
}
