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

/** The paragraph that tells an agent loop how to use the gate (appended to program.md). */
export function programParagraph(project: string): string {
  return `
${PROGRAM_MARKER}
## Quality gate (ECV)

After every experiment you KEEP (the metric improved and you committed it), run:

    ecv ingest results.tsv --git . && ecv gate <short-commit> --project ${project}

- exit 0 (accept): build on this commit as usual.
- exit 1 (reject): the improvement is not trustworthy (noise, crash, discard, or a protected
  file changed). Revert to the previous kept commit (\`git reset --hard <previous keep>\`), mark
  the row \`discard\` in results.tsv, and try a different idea.
- exit 3 (reanchor): reproductions were scheduled; continue with an idea that does not build
  on this commit, or wait with \`ecv gate <commit> --wait 900\` and act on the final answer.
- Never edit the protected files listed in ecv.json: any change to them is rejected.
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
  if (!current.includes(PROGRAM_MARKER)) appendFileSync(program, programParagraph(name));
  console.log(`wrote ${file}\n${current.includes(PROGRAM_MARKER) ? 'program.md already has the ECV paragraph' : `added the ECV gate paragraph to ${program}`}`);
  return EXIT.ok;
}
