import { DomainError } from '../domain/errors.js';
import { normalizeProject, type ProjectInput } from '../domain/project.js';
import { diffConfig, formatChanges, type ConfigChange } from '../domain/project-diff.js';
import type { Direction, ProjectConfig } from '../domain/types.js';
import { resolveDirection } from '../services/ingest.service.js';
import type { DirectionChoice } from '../domain/ingest/index.js';
import { raiseProblem, type ApiClient } from './client.js';
import { PROJECT_FILE, readProjectFile } from './project-file.js';

/** A project as GET /v1/projects/{name} answers it: the config plus bookkeeping. */
type ProjectView = ProjectConfig & { configVersion?: number; stats?: unknown; createdAt?: string };

/**
 * The project a command works on: `--project`, else the name in ecv.json. Never a default from
 * the directory name (two logs ingested from one directory would silently share a project).
 */
export function resolveProjectName(flag: string | undefined, dir: string): string {
  const name = flag ?? readProjectFile(dir)?.name;
  if (!name)
    throw new DomainError('validation_failed', `no project name: pass --project <name>, or run \`ecv init --project <name>\` to write ${PROJECT_FILE} (none in ${dir})`);
  return name;
}

/** The config part of a project answer (without configVersion, stats, createdAt). */
function configOf(p: ProjectView): Record<string, unknown> {
  const { configVersion: _v, stats: _s, createdAt: _c, ...cfg } = p;
  return cfg;
}

export interface SyncResult {
  project: ProjectConfig;
  /** What differed between ecv.json and the service (empty: nothing to do). */
  changed: ConfigChange[];
  /** The config was created or updated on the service. */
  written: 'created' | 'updated' | null;
}

/**
 * Makes the service's project match ecv.json (SPEC §8: ecv.json is the project's config). A
 * missing project is created from it; a differing one is reported (stderr) and replaced with
 * PUT when the token may (admin, or the in-process path); otherwise exit 2 with what differs.
 */
export async function syncProjectConfig(client: ApiClient, name: string, file: ProjectInput, existing?: ProjectView | null): Promise<SyncResult> {
  let desired: ProjectConfig;
  try {
    desired = normalizeProject({ ...file, name });
  } catch (e) {
    if (e instanceof DomainError) throw new DomainError(e.code, `${PROJECT_FILE}: ${e.message}`, { errors: e.errors });
    throw e;
  }
  let current = existing;
  if (current === undefined) {
    const got = await client.request<ProjectView>('GET', `/v1/projects/${encodeURIComponent(name)}`);
    if (got.status !== 200 && got.status !== 404) raiseProblem(got);
    current = got.status === 200 ? got.body : null;
  }
  if (current === null) {
    const res = await client.request<ProjectView>('POST', '/v1/projects', { ...file, name });
    if (res.status !== 201 && res.status !== 200) raiseProblem(res);
    return { project: res.body, changed: [], written: 'created' };
  }
  const changed = diffConfig(configOf(current), desired as unknown as Record<string, unknown>);
  if (changed.length === 0) return { project: current, changed, written: null };
  const where = `project '${name}' at ${client.describe}${current.configVersion ? ` (configVersion ${current.configVersion})` : ''}`;
  console.error(`ecv: ${PROJECT_FILE} differs from the config of ${where}:\n${formatChanges(changed).map((l) => `  ${l}`).join('\n')}`);
  const res = await client.request<{ project: ProjectView; configVersion: number; rescored?: boolean }>('PUT', `/v1/projects/${encodeURIComponent(name)}`, { ...file, name });
  if (res.status === 401 || res.status === 403) {
    throw new DomainError(
      'forbidden',
      `${PROJECT_FILE} differs from the service's config of project '${name}' (above), and this token may not change it: ` +
        `updating a project's config needs an admin token (ECV_TOKEN). Ask an admin to run this command once, or make ${PROJECT_FILE} match the service's config.`,
    );
  }
  if (res.status !== 200) raiseProblem(res);
  console.error(`ecv: updated ${where} from ${PROJECT_FILE} → configVersion ${res.body.configVersion}${res.body.rescored ? ' (rescored)' : ''}`);
  return { project: res.body.project, changed, written: 'updated' };
}

/**
 * Makes sure the project exists and matches ecv.json when there is one; without ecv.json an
 * existing project is used as it is and a missing one is created from the log's metric.
 */
export async function ensureProject(
  client: ApiClient,
  name: string,
  opts: { cwd: string; metric: string; direction?: Direction; hint?: Direction; choice?: DirectionChoice },
): Promise<ProjectConfig> {
  const file = readProjectFile(opts.cwd);
  const got = await client.request<ProjectView>('GET', `/v1/projects/${encodeURIComponent(name)}`);
  if (got.status !== 200 && got.status !== 404) raiseProblem(got);
  if (file) return (await syncProjectConfig(client, name, file, got.status === 200 ? got.body : null)).project;
  if (got.status === 200) return got.body;
  const body = { name, metric: { name: opts.metric, direction: resolveDirection(opts.metric, opts.direction, opts.hint, opts.choice) } };
  const res = await client.request<ProjectView>('POST', '/v1/projects', body);
  if (res.status !== 201 && res.status !== 200) raiseProblem(res);
  return res.body;
}
