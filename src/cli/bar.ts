import { parseArgs } from 'node:util';
import type { Direction } from '../domain/types.js';
import { CLIENT_OPTIONS, openClientFromFlags, raiseProblem } from './client.js';
import { EXIT } from './exit.js';
import { readProjectFile } from './project-file.js';

/** `GET /v1/projects/{p}/bar` (SPEC §5): the value the next keep on the accepted head must beat. */
export interface BarAnswer {
  project: string;
  bar: number | null;
  head: string | null;
  level: { mean: number; sd: number } | null;
  sigma: number | null;
  direction: Direction;
  margin: number;
}

export const BAR_USAGE = `usage: ecv bar [--project p] [--quiet | --json] [--url URL] [--token T] [--data-dir D]

Prints the bar: the value the next run built on the accepted head must beat to count as a
keep (the head's posterior level plus margin·σ̂, direction-aware; SPEC §5).

  --project, -p  project name (default: ECV_PROJECT, else ecv.json's name)
  --quiet, -q    only the number (nothing when there is no bar yet)
  --json         the service's answer as JSON

example:  ecv bar --quiet          # 0.953412
exit: 0 printed (also when there is no bar yet); 2 usage or service error.`;

/** One human-readable line for a bar answer. */
export function formatBar(a: BarAnswer): string {
  if (a.bar === null) return `no bar yet in project ${a.project} (no scored head or no σ̂): a keep must beat the keep it builds on`;
  const beat = a.direction === 'minimize' ? 'below' : 'above';
  const level = a.level ? `level ${a.level.mean} ± ${a.level.sd}` : 'level n/a';
  const sigma = a.sigma !== null ? `, σ̂ ${a.sigma}` : '';
  return `bar ${a.bar}  (a keep must be ${beat} it; head ${a.head ?? 'n/a'}, ${level}${sigma}, margin ${a.margin}σ̂)`;
}

/** `ecv bar [--project p] [--quiet|--json]`: exit 0 printed, 2 error. */
export async function barCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      project: { type: 'string', short: 'p' },
      quiet: { type: 'boolean', short: 'q' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      ...CLIENT_OPTIONS,
    },
  });
  if (values.help) {
    console.log(BAR_USAGE);
    return EXIT.ok;
  }
  const project = values.project ?? process.env.ECV_PROJECT ?? readProjectFile(process.cwd())?.name;
  if (!project || (values.quiet && values.json)) {
    console.error(BAR_USAGE);
    return EXIT.usage;
  }
  const client = await openClientFromFlags(values);
  try {
    const res = await client.request<BarAnswer>('GET', `/v1/projects/${encodeURIComponent(project)}/bar`);
    if (res.status !== 200) raiseProblem(res);
    if (values.json) console.log(JSON.stringify(res.body, null, 2));
    else if (values.quiet) {
      if (res.body.bar !== null) console.log(String(res.body.bar));
    } else console.log(formatBar(res.body));
    return EXIT.ok;
  } finally {
    await client.close();
  }
}
