/**
 * Re-anchoring is scheduled one reproduction at a time per gated experiment (SPEC §6): the gate
 * queues the first (gate.service `advanceDecision`), job completion the next. This module holds
 * the notification topics both sides share.
 */

/** Topic a long poll waits on for one project's score changes. */
export const scoresTopic = (projectId: number) => `scores:${projectId}`;
export const JOBS_TOPIC = 'jobs:new';
