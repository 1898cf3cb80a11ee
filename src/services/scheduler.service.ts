import type { JobRecord } from '../db/jobs.repository.js';
import type { GateJob } from './gate.service.js';

/**
 * Re-anchoring is scheduled one reproduction at a time per gated experiment (SPEC §6): the gate
 * queues the first (gate.service `advanceDecision`), job completion the next. This module holds
 * the names both sides share.
 */
export const jobView = (j: JobRecord, experiment: string): GateJob => ({ id: j.id, experiment, seed: j.seed, state: j.state, purpose: j.purpose });

/** Topic a long poll waits on for one project's score changes. */
export const scoresTopic = (projectId: number) => `scores:${projectId}`;
export const JOBS_TOPIC = 'jobs:new';
