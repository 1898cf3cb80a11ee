import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { inferDirection } from '../domain/ingest/index.js';
import { normalizeProject } from '../domain/project.js';
import type { Direction, ProjectConfig } from '../domain/types.js';
import { CLIENT_OPTIONS, openClientFromFlags, serviceHoldingDataDir } from './client.js';
import { syncProjectConfig } from './config-sync.js';
import { ignoreDataDir, syncProgramMd, uncommitted } from './init-files.js';
import { projectNameFrom } from './ingest.js';
import { EXIT } from './exit.js';
import { PROJECT_FILE, readProjectFile } from './project-file.js';

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

/** Options that write ecv.json (given with an existing ecv.json, they need --force). */
const CONFIG_FLAGS = ['project', 'metric', 'direction', 'threshold', 'command', 'replicates', 'time-budget', 'protect'] as const;

/**
 * `ecv init`: writes ecv.json (the project's config) and the program.md gate paragraph, keeps
 * the embedded database out of git, and creates or updates the project on the service (or the
 * embedded database) from ecv.json. Re-run, it keeps ecv.json and brings program.md and the
 * service in line with it.
 */
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
      offline: { type: 'boolean' },
      ...CLIENT_OPTIONS,
    },
  });
  const dir = resolve(values.dir ?? process.cwd());
  const file = join(dir, PROJECT_FILE);
  const existing = readProjectFile(dir);
  let cfg: ProjectConfig;
  if (existing && !values.force) {
    const given = CONFIG_FLAGS.filter((k) => values[k] !== undefined);
    if (given.length > 0) {
      console.error(`ecv init: ${file} exists and is the project's config: edit it, or pass --force to rewrite it from --${given.join(', --')}`);
      return EXIT.usage;
    }
    cfg = normalizeProject(existing);
    console.log(`kept ${file} (project '${cfg.name}')`);
  } else {
    const metric = values.metric ?? 'val_bpb';
    const direction = (values.direction ?? inferDirection(metric)) as Direction | null;
    if (!direction || !['minimize', 'maximize'].includes(direction)) {
      console.error(`ecv init: cannot infer whether '${metric}' should go up or down; pass --direction minimize|maximize`);
      return EXIT.usage;
    }
    const name = values.project ?? existing?.name ?? projectNameFrom(dir);
    cfg = normalizeProject({
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
    const from = values.project || existing ? '' : ' (named after the directory; --project to choose)';
    console.log(`wrote ${file} (project '${name}'${from})`);
  }
  console.log(syncProgramMd(dir, PROGRAM_MARKER, programParagraph(cfg.name, cfg.metric)));
  // A service (--url, or the live one holding the data directory) or PostgreSQL gets the project
  // now; the embedded database is only opened by the first `ecv ingest`, which syncs it as well.
  const { loadConfig } = await import('../config.js');
  const { dataDir, databaseUrl } = loadConfig({ ...process.env, ...(values['data-dir'] ? { ECV_DATA_DIR: values['data-dir'] } : {}) });
  const url = values.url ?? process.env.ECV_URL;
  if (!url && !databaseUrl) {
    const ignored = ignoreDataDir(dir, dataDir);
    if (ignored) console.log(ignored);
  }
  if (!values.offline && (url || databaseUrl || (await serviceHoldingDataDir(dataDir)))) {
    const client = await openClientFromFlags(values);
    try {
      const s = await syncProjectConfig(client, cfg.name, cfg);
      console.log(`project '${cfg.name}' ${s.written ?? 'matches ecv.json'} at ${client.describe}`);
    } finally {
      await client.close();
    }
  } else if (!values.offline) {
    console.log(`the first \`ecv ingest\` creates project '${cfg.name}' from ecv.json in the embedded database (${dataDir})`);
  }
  const dirty = uncommitted(dir, [PROJECT_FILE, 'program.md', '.gitignore']);
  if (dirty.length > 0)
    console.log(`\nCommit ${dirty.join(', ')} now (git add ${dirty.join(' ')} && git commit -m "ECV gate"): the loop's first \`git reset --hard\` would otherwise wipe the paragraph.`);
  return EXIT.ok;
}
