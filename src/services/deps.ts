import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { DbHandle } from '../db/connection.js';
import type { GateDecisionWriter } from '../db/gate-writer.js';
import type { Notifier } from './notifier.js';
import type { JobQueue } from '../queue/job-queue.js';

/** What services need: the database, configuration, a logger, and optional collaborators. */
export interface Deps {
  db: DbHandle;
  config: Config;
  log: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error' | 'debug'>;
  /** Called after a transaction that changed scores commits (wakes long-polling gates). */
  onScoresChanged?: (projectId: number) => void;
  /** Wake-ups for long polls; present once the app is built. */
  notifier?: Notifier;
  /** The job queues (their settings); present once the queue plugin started. */
  queue?: JobQueue;
  /** Group commit of gate decisions; present once the app is built (without it each call INSERTs alone). */
  gateWriter?: GateDecisionWriter;
  /** Counters the services feed (Prometheus, /metrics); absent in tools and unit tests. */
  metrics?: ServiceMetrics;
}

/** What services report to /metrics. */
export interface ServiceMetrics {
  /** A gate call answered (recorded), by decision. */
  gateDecision(decision: string): void;
  /** A long poll woke and re-read the database. */
  longPollCheck(kind: 'gate' | 'lease'): void;
  /** A reproduction stored (runner completion or dead-letter sweep). */
  reproduction(ok: boolean): void;
  /** Rows of an ingest, by route (`json` or `tsv`) and outcome. */
  ingestRows(path: 'json' | 'tsv', outcome: string, n: number): void;
}
