import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { inferDirection } from '../domain/ingest/index.js';
import { normalizeProject } from '../domain/project.js';
import type { Direction } from '../domain/types.js';
import { projectNameFrom } from './ingest.js';
import { EXIT } from './main.js';
import { PROJECT_FILE } from './project-file.js';

export const PROGRAM_MARKER = '<!-- ecv:gate -->';

/**
 * The paragraph that tells an agent loop how to use the gate (appended to program.md). It is
 * the loop protocol of SPEC §8, followed literally by `examples/digits-loop --mode obey`.
 */
export function programParagraph(project: string, metric?: { name: string; direction: Direction }): string {
  const beat = metric ? ` (${metric.name} ${metric.direction === 'minimize' ? 'below' : 'above'} it)` : '';
  return `
${PROGRAM_MARKER}
## Quality gate (ECV)

Every \`ecv\` command reads the project (${project}) from ecv.json. For every experiment:

1. Run it. The first run, the baseline, is a keep. A later run is a KEEP only when it beats
   the bar${beat} that \`ecv bar --quiet\` prints (if it prints nothing, the value of the keep
   you build on).
2. Write its row to results.tsv. A discard or crash is reverted as usual (\`git reset --hard HEAD~1\`).
3. Ingest after every experiment: \`ecv ingest results.tsv --git .\`
4. After each keep (once ingested), run \`ecv gate <short-commit> --wait 900\`:
   - exit 0 (accept): build on this commit.
   - exit 1 (reject): \`git reset --hard <previous accepted keep>\`, change the row's status
     from \`keep\` to \`discard\` in results.tsv, and run \`ecv ingest results.tsv --git .\` again.
   - exit 3 (reanchor: the wait ended before its reproductions did): do not build on it; run
     the same \`ecv gate\` again and act on its answer.
5. Never edit the protected files listed in ecv.json: any change to them is rejected.
`;
}

/** `ecv init [--project p] [--metric m] [--direction d] [--command c] [--protect glob …] [--force]`. */
export async function initCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      project: { type: 'string', short: 'p' },
      metric: { type: 'string' },
      direction: { type: 'string' },
      threshold: { type: 'string' },
      command: { type: 'string' },
      replicates: { type: 'string' },
      'time-budget': { type: 'string' },
      protect: { type: 'string', multiple: true },
      dir: { type: 'string' },
      force: { type: 'boolean' },
    },
  });
  const dir = values.dir ?? process.cwd();
  const metric = values.metric ?? 'val_bpb';
  const direction = (values.direction ?? inferDirection(metric)) as Direction | null;
  if (!direction || !['minimize', 'maximize'].includes(direction)) {
    console.error(`ecv init: cannot infer whether '${metric}' should go up or down; pass --direction minimize|maximize`);
    return EXIT.usage;
  }
  const file = join(dir, PROJECT_FILE);
  if (existsSync(file) && !values.force) {
    console.error(`ecv init: ${file} exists (use --force to overwrite)`);
    return EXIT.usage;
  }
  const name = values.project ?? projectNameFrom(dir);
  const cfg = normalizeProject({
    name,
    metric: { name: metric, direction },
    ...(values.threshold ? { threshold: Number(values.threshold) } : {}),
    protectedPaths: values.protect ?? ['prepare.py'],
    reproduction: {
      command: values.command ?? 'uv run train.py',
      replicates: values.replicates ? Number(values.replicates) : 3,
      timeBudgetS: values['time-budget'] ? Number(values['time-budget']) : 600,
    },
  });
  writeFileSync(file, `${JSON.stringify(cfg, null, 2)}\n`);
  const program = join(dir, 'program.md');
  const current = existsSync(program) ? readFileSync(program, 'utf8') : '';
  if (!current.includes(PROGRAM_MARKER)) appendFileSync(program, programParagraph(name, cfg.metric));
  console.log(`wrote ${file}\n${current.includes(PROGRAM_MARKER) ? 'program.md already has the ECV paragraph' : `added the ECV gate paragraph to ${program}`}`);
  return EXIT.ok;
}
