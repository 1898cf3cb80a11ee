import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Direction } from '../domain/types.js';
import type { GateAnswer } from '../services/gate.service.js';
import { CLIENT_OPTIONS, openClientFromFlags, raiseProblem, type ApiClient, type ApiResponse } from './client.js';
import { GATE_EXIT } from './gate.js';
import { repoRoot } from './git.js';
import { resolveProjectName } from './config-sync.js';
import { runIngest } from './ingest.js';
import { EXIT } from './exit.js';

interface ChainLink {
  key: string;
  status: string;
  value: number | null;
  description?: string;
  confidence: { value: number } | null;
  compounded: number | null;
  anchored: boolean;
  premises: string[];
}

const f3 = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toFixed(3));
const cell = (s: string | undefined) => (s ?? '').replace(/\|/g, '\\|').replace(/\s+/g, ' ').slice(0, 80);
const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The premise chain of an experiment, root first (first premises), at most `limit` links. */
async function chainOf(client: ApiClient, project: string, key: string, limit = 60): Promise<ChainLink[]> {
  const out: ChainLink[] = [];
  let next: string | undefined = key;
  while (next && out.length < limit) {
    const res: ApiResponse<ChainLink> = await client.request<ChainLink>('GET', `/v1/projects/${project}/experiments/${encodeURIComponent(next)}`);
    if (res.status !== 200) raiseProblem(res);
    out.push(res.body);
    next = res.body.premises[0];
  }
  return out.reverse();
}

/** Markdown summary of a gate decision and the chain it stands on. */
export function checkSummary(project: string, a: GateAnswer, chain: ChainLink[]): string {
  const icon = { accept: '✅', reject: '❌', reanchor: '⏳' }[a.decision];
  const lines = [
    `## ECV check: ${icon} ${a.decision} — \`${a.experiment}\``,
    '',
    `Project \`${project}\`: compounded confidence **K = ${f3(a.compounded)}** against threshold ${a.threshold}` +
      (a.weakest ? `; weakest link \`${a.weakest.key}\` (C = ${f3(a.weakest.confidence)}).` : '.'),
    '',
    ...a.reasons.map((r) => `- \`${r.code}\`: ${r.message}`),
    '',
    '| # | experiment | status | value | C | K | anchored | description |',
    '|---|---|---|---|---|---|---|---|',
    ...chain.map((c, i) => `| ${i} | \`${c.key}\` | ${c.status} | ${c.value ?? '–'} | ${f3(c.confidence?.value)} | ${f3(c.compounded)} | ${c.anchored ? 'yes' : ''} | ${cell(c.description)} |`),
  ];
  if (a.reanchor.jobs.length) lines.push('', `Re-anchoring: ${a.reanchor.jobs.length} reproduction(s) of \`${a.reanchor.candidate}\` pending.`);
  return `${lines.join('\n')}\n`;
}

/** JUnit XML: one test case; reject is a failure, reanchor is skipped (pending). */
export function checkJunit(project: string, a: GateAnswer): string {
  const name = `gate ${a.experiment}`;
  const msg = xml(a.reasons.map((r) => `${r.code}: ${r.message}`).join('\n'));
  const body =
    a.decision === 'reject'
      ? `<failure message="rejected: K=${f3(a.compounded)} &lt; ${a.threshold}" type="reject">${msg}</failure>`
      : a.decision === 'reanchor'
        ? `<skipped message="re-anchoring pending">${msg}</skipped>`
        : '';
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="ecv" tests="1" failures="${a.decision === 'reject' ? 1 : 0}" skipped="${a.decision === 'reanchor' ? 1 : 0}">
  <testsuite name="ecv.${xml(project)}" tests="1" failures="${a.decision === 'reject' ? 1 : 0}" skipped="${a.decision === 'reanchor' ? 1 : 0}">
    <testcase classname="ecv.${xml(project)}" name="${xml(name)}">${body}</testcase>
  </testsuite>
</testsuites>
`;
}

/**
 * `ecv check`: the CI check for an experiment branch (SPEC §8). Ingests the branch's
 * results.tsv with git lineage, gates the latest keep, prints a Markdown summary (also to
 * $GITHUB_STEP_SUMMARY), optionally writes JUnit XML. Exit 0 accept, 1 reject, 3 reanchor, 2 error.
 */
export async function checkCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      results: { type: 'string' },
      project: { type: 'string', short: 'p' },
      branch: { type: 'string' },
      direction: { type: 'string' },
      threshold: { type: 'string' },
      wait: { type: 'string' },
      junit: { type: 'string' },
      'json-out': { type: 'string' },
      ...CLIENT_OPTIONS,
    },
  });
  const root = await repoRoot(process.cwd());
  const results = values.results ?? join(root, 'results.tsv');
  if (!existsSync(results)) {
    // The usual cause in CI: karpathy's loop keeps results.tsv untracked, so a checkout lacks it.
    console.error(`ecv check: no results file at ${results} (use --results; in CI the log must be committed on the branch or downloaded first, see docs/ci.md)`);
    return EXIT.usage;
  }
  const project = resolveProjectName(values.project, root);
  const client = await openClientFromFlags(values);
  try {
    const ing = await runIngest(client, { file: results, project, git: root, branch: values.branch ?? 'HEAD', cwd: root, direction: values.direction as Direction | undefined });
    const head = [...ing.rows].reverse().find((r) => r.status === 'keep');
    if (!head) {
      console.log(`ECV check: no kept experiment in ${results}; nothing to gate.`);
      return EXIT.ok;
    }
    const body: Record<string, unknown> = { experiment: head.key };
    if (values.threshold !== undefined) body.threshold = Number(values.threshold);
    if (values.wait !== undefined) body.wait = Number(values.wait);
    const res = await client.request<GateAnswer>('POST', `/v1/projects/${project}/gate`, body);
    if (res.status !== 200) raiseProblem(res);
    const summary = checkSummary(project, res.body, await chainOf(client, project, head.key));
    console.log(summary);
    if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, summary);
    if (values.junit) writeFileSync(values.junit, checkJunit(project, res.body));
    // For wrappers such as the GitHub Action (action.yml): the answer without parsing Markdown.
    if (values['json-out']) writeFileSync(values['json-out'], `${JSON.stringify({ project, ...res.body }, null, 2)}\n`);
    return GATE_EXIT[res.body.decision];
  } finally {
    await client.close();
  }
}
