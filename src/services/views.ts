import type { ExperimentRecord } from '../db/experiments.repository.js';
import type { ProjectRecord } from '../db/projects.repository.js';
import type { Reproduction } from '../domain/types.js';

/** SPEC §15 "Experiment out". */
export function experimentOut(e: ExperimentRecord, reproductions: (Reproduction & { ok: boolean })[] = []) {
  const s = e.score;
  return {
    key: e.key,
    seq: e.seq,
    status: e.status,
    value: e.value ?? null,
    baseline: e.baseline ?? null,
    replicates: e.replicates,
    premises: e.premises,
    ...(e.code ? { code: e.code } : {}),
    ...(e.description !== undefined ? { description: e.description } : {}),
    ...(e.hypothesis !== undefined ? { hypothesis: e.hypothesis } : {}),
    ...(e.resources ? { resources: e.resources } : {}),
    metadata: e.metadata ?? {},
    confidence: s
      ? {
          value: s.value,
          components: s.components,
          sigma: s.sigma,
          nu: s.nu,
          z: s.z,
          delta: s.delta,
          nX: s.nX,
          nP: s.nP,
          reproductions: s.reproductions,
          statsVersion: s.statsVersion,
          reasons: s.reasons,
        }
      : null,
    compounded: e.cascade?.compounded ?? null,
    weakest: e.cascade?.weakest ?? null,
    anchored: e.anchored,
    hardGate: s?.hardGate ?? null,
    cascadeHardGate: e.cascade?.hardGate ?? null,
    reproductions: reproductions.map((r) => ({
      seed: r.seed,
      value: r.value,
      ok: r.ok,
      runner: r.runner ?? null,
      durationS: r.durationS ?? null,
      ...(r.error ? { error: r.error } : {}),
    })),
    ...(e.review ? { review: e.review } : {}),
    version: e.version,
    absent: e.absent,
    createdAt: e.createdAt.toISOString(),
  };
}

/** SPEC §15 Project. */
export function projectOut(p: ProjectRecord) {
  return {
    ...p.config,
    configVersion: p.configVersion,
    stats: p.stats,
    createdAt: p.createdAt.toISOString(),
  };
}
