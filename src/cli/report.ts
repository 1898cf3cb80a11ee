import { writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { CLIENT_OPTIONS, openClientFromFlags, raiseProblem } from './client.js';
import { EXIT } from './exit.js';
import { readProjectFile } from './project-file.js';

const FORMATS = ['html', 'md', 'json'] as const;
type Format = (typeof FORMATS)[number];
const BY_EXT: Record<string, Format> = { '.html': 'html', '.htm': 'html', '.md': 'md', '.markdown': 'md', '.json': 'json' };

export const REPORT_USAGE =
  'usage: ecv report [--project p] [--format html|md|json] [--out file] [--max-nodes n] [--url URL]\n' +
  '  default format: from the --out extension, else md (fits a PR comment); html is self-contained';

/** `ecv report`: fetches the audit report (in-process or from a service) and writes it out. */
export async function reportCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      project: { type: 'string', short: 'p' },
      format: { type: 'string', short: 'f' },
      out: { type: 'string', short: 'o' },
      'max-nodes': { type: 'string' },
      ...CLIENT_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(REPORT_USAGE);
    return EXIT.ok;
  }
  const project = values.project ?? process.env.ECV_PROJECT ?? readProjectFile(process.cwd())?.name;
  const format = (values.format === 'markdown' ? 'md' : values.format) ?? (values.out ? BY_EXT[extname(values.out).toLowerCase()] : undefined) ?? 'md';
  const maxNodes = values['max-nodes'] === undefined ? undefined : Number(values['max-nodes']);
  if (!project || !(FORMATS as readonly string[]).includes(format) || (maxNodes !== undefined && !Number.isInteger(maxNodes))) {
    console.error(REPORT_USAGE);
    return EXIT.usage;
  }
  const query = new URLSearchParams({ format });
  if (maxNodes !== undefined) query.set('maxNodes', String(maxNodes));
  const client = await openClientFromFlags(values);
  try {
    const res = await client.request<unknown>('GET', `/v1/projects/${encodeURIComponent(project)}/report?${query}`);
    if (res.status !== 200) raiseProblem(res);
    const text = typeof res.body === 'string' ? res.body : `${JSON.stringify(res.body, null, 2)}\n`;
    if (values.out) {
      writeFileSync(values.out, text);
      console.error(`wrote ${format} report of '${project}' to ${values.out}`);
    } else {
      process.stdout.write(text);
    }
    return EXIT.ok;
  } finally {
    await client.close();
  }
}
