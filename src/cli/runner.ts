import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultRunnerName, parseGpus, parseLabels, parsePassEnv, RUNNER_NAME } from '../runner/command.js';
import { streamLogger } from '../runner/log.js';
import { Runner } from '../runner/loop.js';
import { EXIT } from './exit.js';

const USAGE = `usage: ecv runner --url URL --repo <git dir> [--project p …] [--labels gpu=H100,zone=a] [--concurrency n]
                  [--gpus 0,1,2,3] [--once] [--name runner-name] [--wait s] [--work-dir dir]
                  [--grace s] [--fetch] [--token T] [--pass-env NAME,PREFIX_*]

Leases re-anchoring jobs from an ECV service, runs each in a fresh git worktree of --repo with
ECV_SEED set, under the job's time budget, and reports the metric. Token: --token or ECV_TOKEN.
Jobs see an allow-listed environment (PATH, HOME, LANG, LC_*, CUDA_*, NVIDIA_*, …; see
docs/operations.md) plus --pass-env (or ECV_RUNNER_PASS_ENV) names, never the runner's token.
SIGTERM/SIGINT: stop leasing and let running jobs finish; a second signal kills them.`;

function positiveInt(name: string, raw: string | undefined, def: number, max: number): number {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new Error(`--${name} must be an integer in [1, ${max}], got '${raw}'`);
  return n;
}

function seconds(name: string, raw: string | undefined, def: number, max: number): number {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > max)
    throw new Error(`--${name} must be a number of seconds in [0, ${max}], got '${raw}'`);
  return n;
}

/** `ecv runner …` (SPEC §6): the reference GPU runner. Exit 0 when stopped or after --once; 2 on usage or fatal errors. */
export async function runnerCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      repo: { type: 'string' },
      labels: { type: 'string' },
      project: { type: 'string', multiple: true },
      concurrency: { type: 'string' },
      gpus: { type: 'string' },
      once: { type: 'boolean' },
      name: { type: 'string' },
      wait: { type: 'string' },
      'work-dir': { type: 'string' },
      grace: { type: 'string' },
      fetch: { type: 'boolean' },
      'pass-env': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return EXIT.ok;
  }
  const url = values.url ?? process.env.ECV_URL;
  let opts;
  try {
    if (!url || !values.repo) throw new Error('--url (or ECV_URL) and --repo are required');
    const name = values.name ?? defaultRunnerName();
    if (!RUNNER_NAME.test(name))
      throw new Error(`--name '${name}' must match ${RUNNER_NAME.source}`);
    const gpus = parseGpus(values.gpus);
    const concurrency = positiveInt('concurrency', values.concurrency, gpus?.length ?? 1, 64);
    if (gpus && gpus.length < concurrency)
      throw new Error(`--gpus names ${gpus.length} slot(s) for --concurrency ${concurrency}`);
    opts = {
      url,
      token: values.token ?? process.env.ECV_TOKEN,
      repo: values.repo,
      workDir: values['work-dir'] ?? join(tmpdir(), 'ecv-runner'),
      name,
      labels: parseLabels(values.labels),
      ...(values.project ? { projects: values.project } : {}),
      concurrency,
      ...(gpus ? { gpus } : {}),
      once: values.once ?? false,
      waitS: seconds('wait', values.wait, 30, 300),
      graceS: seconds('grace', values.grace, 10, 3600),
      fetchMissing: values.fetch ?? false,
      completeRetryMs: 15 * 60_000,
      env: process.env,
      passEnv: parsePassEnv(values['pass-env'] ?? process.env.ECV_RUNNER_PASS_ENV),
    };
  } catch (e) {
    console.error(`ecv runner: ${(e as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const runner = new Runner({ ...opts, log: streamLogger({ runner: opts.name }) });
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++signals >= 3) process.exit(130); // the operator insists
    runner.stop(sig);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    return await runner.run();
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
