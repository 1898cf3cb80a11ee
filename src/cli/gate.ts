import { parseArgs } from 'node:util';
import { CLIENT_OPTIONS, openClientFromFlags, raiseProblem } from './client.js';
import { EXIT } from './exit.js';
import type { GateAnswer } from '../services/gate.service.js';
import { readProjectFile } from './project-file.js';

export const GATE_EXIT: Record<GateAnswer['decision'], number> = { accept: EXIT.accept, reject: EXIT.reject, reanchor: EXIT.reanchor };

/** Human-readable lines for a gate answer. */
export function formatGate(a: GateAnswer): string {
  const lines = [
    `${a.decision.toUpperCase()}  ${a.experiment}  K=${a.compounded?.toFixed(3) ?? 'n/a'}  C=${a.confidence?.value.toFixed(3) ?? 'n/a'}  threshold=${a.threshold}`,
  ];
  if (a.weakest) lines.push(`weakest link: ${a.weakest.key} (C=${a.weakest.confidence.toFixed(3)})`);
  for (const r of a.reasons) lines.push(`- [${r.code}] ${r.message}`);
  for (const j of a.reanchor?.jobs ?? []) lines.push(`  job ${j.id}: reproduce ${j.experiment} seed ${j.seed} (${j.state})`);
  return lines.join('\n');
}

/** `ecv gate <key> [--project p] [--threshold t] [--wait s] [--json]`: exit 0 accept, 1 reject, 3 reanchor, 2 error. */
export async function gateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      project: { type: 'string', short: 'p' },
      threshold: { type: 'string' },
      wait: { type: 'string' },
      json: { type: 'boolean' },
      ...CLIENT_OPTIONS,
    },
  });
  const key = positionals[0];
  const project = values.project ?? process.env.ECV_PROJECT ?? readProjectFile(process.cwd())?.name;
  if (!key || !project) {
    console.error('usage: ecv gate <experiment-key> --project <name> [--threshold t] [--wait seconds] [--url URL]');
    return EXIT.usage;
  }
  const body: Record<string, unknown> = { experiment: key };
  if (values.threshold !== undefined) body.threshold = Number(values.threshold);
  if (values.wait !== undefined) body.wait = Number(values.wait);
  const client = await openClientFromFlags(values);
  try {
    const res = await client.request<GateAnswer>('POST', `/v1/projects/${encodeURIComponent(project)}/gate`, body);
    if (res.status !== 200) raiseProblem(res);
    console.log(values.json ? JSON.stringify(res.body, null, 2) : formatGate(res.body));
    return GATE_EXIT[res.body.decision];
  } finally {
    await client.close();
  }
}
