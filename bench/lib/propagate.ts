import type { FastifyInstance } from 'fastify';
import type { DbHandle } from '../../src/db/connection.js';
import { findProject, lockProject } from '../../src/db/projects.repository.js';
import { getExperimentByKey } from '../../src/db/experiments.repository.js';
import { queueReproduction } from '../../src/services/gate.service.js';
import { firstPremiseIds } from '../../src/db/cascade.repository.js';
import { descendantIds } from '../../src/db/graph.repository.js';
import { call } from './app.js';
import { quantile } from './stats.js';

export interface PropagationRow {
  project: string;
  projectSize: number;
  position: string;
  experiment: string;
  /** The experiment and everything built on it: the K values a reproduction can change. */
  descendants: number;
  /** What the rescore loads to recompute them: descendants plus their un-anchored ancestors. */
  cascadeNodes: number;
  /** POST /v1/jobs/{id}/complete, each of the round's reproductions (ms). */
  completeMs: number[];
  medianMs: number;
}

/**
 * Lands one round of reproductions (3) on `key` through the real path: the scheduler queues
 * them, a runner leases them over HTTP and completes each (POST /v1/jobs/{id}/complete stores
 * it and rescores the experiment and its descendants in the same transaction). Times each complete.
 */
export async function measureReproduction(
  app: FastifyInstance,
  db: DbHandle,
  projectName: string,
  position: string,
  key: string,
  valueOf: (seed: number) => number,
): Promise<PropagationRow> {
  const project = await findProject(db.db, projectName);
  if (!project) throw new Error(`no project ${projectName}`);
  const row = await db.db
    .selectFrom('experiments')
    .select('id')
    .where('project_id', '=', project.id)
    .where('key', '=', key)
    .executeTakeFirstOrThrow();
  const size = await db.db
    .selectFrom('experiments')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('project_id', '=', project.id)
    .executeTakeFirstOrThrow();
  const desc = await descendantIds(db.db, [row.id]);
  // Between refits a run of X rescores the subtree under X's first premise (X itself when it
  // has none) and recompounds it: those are the rows the completion loads.
  const premise = (await firstPremiseIds(db.db, [row.id])).get(row.id) ?? null;
  const cascadeNodes = premise === null ? desc.length : (await descendantIds(db.db, [premise])).length;
  // One reproduction of the experiment, queued as the gate queues it (the gate itself would
  // queue none for an experiment it can already decide): what completing one costs is measured.
  const jobs = await db.db.transaction().execute(async (trx) => {
    const locked = (await lockProject(trx, projectName))!;
    const x = (await getExperimentByKey(trx, locked.id, key))!;
    const q = await queueReproduction(app.deps, trx, locked, x, { key, purpose: 'anchor' });
    return q.job ? [q.job] : [];
  });
  if (jobs.length === 0) throw new Error(`nothing scheduled for ${projectName}/${key}`);
  const want = new Set(jobs.map((j) => j.id));
  const leased: { id: string; seed: number }[] = [];
  for (let tries = 0; leased.length < want.size && tries < 100; tries++) {
    const res = await call<{ jobs: { id: string; seed: number }[] }>(
      app,
      'POST',
      '/v1/runners/lease',
      { runner: 'bench-runner', maxJobs: 64, wait: 0 },
    );
    leased.push(...res.jobs.filter((j) => want.has(j.id)));
  }
  const completeMs: number[] = [];
  for (const j of leased.sort((a, b) => a.seed - b.seed)) {
    const t = performance.now();
    await call(app, 'POST', `/v1/jobs/${j.id}/complete`, {
      runner: 'bench-runner',
      seed: j.seed,
      value: valueOf(j.seed),
      durationS: 300,
    });
    completeMs.push(performance.now() - t);
  }
  return {
    project: projectName,
    projectSize: Number(size.n),
    position,
    experiment: key,
    descendants: desc.length,
    cascadeNodes,
    completeMs,
    medianMs: quantile(completeMs, 0.5),
  };
}
