import type { FastifyBaseLogger } from 'fastify';
import { Counter, Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { DbHandle } from '../db/connection.js';
import { GateDecisionWriter } from '../db/gate-writer.js';
import { Notifier } from './notifier.js';
import type { JobQueue } from '../queue/job-queue.js';

/**
 * What services need, built once before the app (createContext) and frozen: the app's plugins
 * decorate the app and add hooks around these collaborators, they never assign into it.
 */
export interface Deps {
  readonly db: DbHandle;
  readonly config: Config;
  readonly log: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error' | 'debug'>;
  /**
   * Wake-ups for long polls, and the one signal that scores changed (`scoresTopic`) or a job was
   * queued (`JOBS_TOPIC`); the queue plugin bridges it across processes (LISTEN/NOTIFY).
   */
  readonly notifier: Notifier;
  /** The job queues (their settings); null where the queue does not run (openapi generation, some tests). */
  readonly queue: JobQueue | null;
  /** Group commit of gate decisions; the app's close drains it before the database closes. */
  readonly gateWriter: GateDecisionWriter;
  /** Counters the services feed; the metrics plugin serves their registry on /metrics. */
  readonly metrics: ServiceMetrics;
}

/** What services report to /metrics. */
export interface ServiceMetrics {
  /** The Prometheus registry these counters live in (one per context: tests build several apps in one process). */
  readonly registry: Registry;
  /** A gate call answered (recorded), by decision. */
  gateDecision(decision: string): void;
  /** A long poll woke and re-read the database. */
  longPollCheck(kind: 'gate' | 'lease'): void;
  /** A reproduction stored (runner completion or dead-letter sweep). */
  reproduction(ok: boolean): void;
  /** Rows of an ingest, by route (`json` or `tsv`) and outcome. */
  ingestRows(path: 'json' | 'tsv', outcome: string, n: number): void;
}

/** What a context is built from. */
export type BaseDeps = Pick<Deps, 'db' | 'config' | 'log'>;

/**
 * Builds the one context of a service process (or of a test's app): the notifier, the
 * gate-decision writer and the service counters around `base`, and the queue settings unless
 * `queue: false`. Nothing starts here: the app's plugins start maintenance, bridge the notifier
 * and close both on the app's close.
 */
export function createContext(base: BaseDeps, opts: { queue?: boolean } = {}): Deps {
  const { db, config, log } = base;
  return Object.freeze({
    db,
    config,
    log,
    notifier: new Notifier((err) => log.warn({ err: err.message }, 'cross-process notification failed')),
    queue: opts.queue === false ? null : Object.freeze({ options: config.queue }),
    gateWriter: new GateDecisionWriter(db.db, {
      onError: (err, calls) => log.error({ err: err.message, calls }, 'gate decisions could not be recorded'),
    }),
    metrics: serviceMetrics(new Registry()),
  });
}

/** The service counters, registered in `registry`. Labels carry no project names (bounded cardinality). */
function serviceMetrics(registry: Registry): ServiceMetrics {
  const registers = [registry];
  const decisions = new Counter({ name: 'ecv_gate_decisions_total', help: 'Gate calls answered, by decision', labelNames: ['decision'], registers });
  const reproductions = new Counter({ name: 'ecv_reproductions_total', help: 'Reproductions stored (runner completions and expired jobs), by outcome', labelNames: ['outcome'], registers });
  const ingest = new Counter({ name: 'ecv_ingest_rows_total', help: 'Experiment rows ingested, by path (json, tsv) and outcome', labelNames: ['path', 'outcome'], registers });
  const checks = new Counter({ name: 'ecv_long_poll_checks_total', help: 'Database re-checks of waiting calls after a wake-up, by kind', labelNames: ['kind'], registers });
  return Object.freeze({
    registry,
    gateDecision: (d: string) => decisions.inc({ decision: d }),
    longPollCheck: (kind: 'gate' | 'lease') => checks.inc({ kind }),
    reproduction: (ok: boolean) => reproductions.inc({ outcome: ok ? 'ok' : 'failed' }),
    ingestRows: (path: 'json' | 'tsv', outcome: string, n: number) => void (n > 0 && ingest.inc({ path, outcome }, n)),
  });
}
