/**
 * The job's command line, environment and the runner's own settings, built as data (no I/O).
 */
import { hostname } from 'node:os';

/** Values substituted into a command template. */
export interface CommandVars {
  seed: number;
  /** The resolved full commit hash. */
  commit: string;
}

/**
 * Substitutes every `{seed}` and `{commit}` in the project's command template; any other
 * braces (shell `${VAR}`, `{a,b}`) are left alone. The values are an integer and a hex hash,
 * so they need no shell quoting.
 */
export function renderCommand(template: string, vars: CommandVars): string {
  return template.replace(/\{(seed|commit)\}/g, (_m, name: 'seed' | 'commit') =>
    String(vars[name]),
  );
}

/** What the job's process learns about itself through the environment. */
export interface JobEnvInput {
  jobId: string;
  project: string;
  experiment: string;
  seed: number;
  commit: string;
  runner: string;
  slot: number;
  /** Value of CUDA_VISIBLE_DEVICES for this slot, when the runner was given `--gpus`. */
  gpu?: string;
}

/**
 * The runner's variables a job inherits: what a shell, a Python or CUDA program needs to run,
 * nothing else. The commit under test is code an agent wrote and its output is stored as the log
 * tail, so cloud keys, DATABASE_URL, tokens and whatever else the runner's environment holds
 * stay out unless the operator names them (`--pass-env`). A trailing `*` matches a prefix.
 */
export const JOB_ENV_ALLOW: readonly string[] = [
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'LC_*', 'TERM', 'TZ',
  'TMPDIR', 'TMP', 'TEMP', 'CUDA_*', 'NVIDIA_*', 'LD_LIBRARY_PATH', 'PYTHONPATH',
  'VIRTUAL_ENV', 'CONDA_PREFIX', 'CONDA_DEFAULT_ENV', 'OMP_NUM_THREADS',
  'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS', 'HF_HOME',
  'XDG_CACHE_HOME', 'TORCH_HOME',
];

/** Never passed, even when `--pass-env` names them: the runner's own credentials. */
const SECRET_VARS = ['ECV_TOKEN', 'ECV_ADMIN_TOKEN'];

const matches = (name: string, patterns: readonly string[]) =>
  patterns.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p));

/**
 * `--pass-env HF_TOKEN,WANDB_*` → ['HF_TOKEN', 'WANDB_*']: names (or prefixes ending in `*`)
 * of runner variables a job may also see. Throws on a malformed entry.
 */
export function parsePassEnv(text: string | undefined): string[] {
  if (!text) return [];
  const out = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of out) if (!/^[A-Za-z_][A-Za-z0-9_]*\*?$/.test(n)) throw new Error(`--pass-env entry '${n}' is not a variable name (or a prefix ending in *)`);
  return out;
}

/**
 * The job's environment: the runner's allow-listed variables (JOB_ENV_ALLOW, plus `passEnv`),
 * and ECV_SEED, ECV_COMMIT, ECV_JOB_ID, ECV_PROJECT, ECV_EXPERIMENT, ECV_RUNNER, ECV_SLOT (and
 * CUDA_VISIBLE_DEVICES for the slot).
 */
export function jobEnv(
  base: Record<string, string | undefined>,
  job: JobEnvInput,
  passEnv: readonly string[] = [],
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base))
    if (v !== undefined && !SECRET_VARS.includes(k) && (matches(k, JOB_ENV_ALLOW) || matches(k, passEnv))) env[k] = v;
  env.ECV_SEED = String(job.seed);
  env.ECV_COMMIT = job.commit;
  env.ECV_JOB_ID = job.jobId;
  env.ECV_PROJECT = job.project;
  env.ECV_EXPERIMENT = job.experiment;
  env.ECV_RUNNER = job.runner;
  env.ECV_SLOT = String(job.slot);
  if (job.gpu !== undefined) env.CUDA_VISIBLE_DEVICES = job.gpu;
  return env;
}

/** Runner names the service accepts (schemas/runner.json). */
export const RUNNER_NAME = /^[A-Za-z0-9._:@-]{1,128}$/;

/** `<host>-<pid>`, with characters the service rejects replaced: unique per process. */
export function defaultRunnerName(host = hostname(), pid = process.pid): string {
  const clean = host.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 100) || 'runner';
  return `${clean}-${pid}`;
}

/**
 * `gpu=H100,zone=a` → `{ gpu: 'H100', zone: 'a' }`. Throws on an entry without `=` or with
 * an empty key; a later duplicate key wins.
 */
export function parseLabels(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const part of text.split(',')) {
    const entry = part.trim();
    if (!entry) continue;
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new Error(`label '${entry}' is not key=value`);
    out[entry.slice(0, eq).trim()] = entry.slice(eq + 1).trim();
  }
  return out;
}

/** `0,1,2,3` → ['0', '1', '2', '3']: one CUDA_VISIBLE_DEVICES value per slot (`0;1,2` for groups). */
export function parseGpus(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const slots = text.includes(';') ? text.split(';') : text.split(',');
  const out = slots.map((s) => s.trim()).filter(Boolean);
  if (out.length === 0) throw new Error(`--gpus '${text}' names no device`);
  return out;
}
