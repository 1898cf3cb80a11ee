import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { DbHandle } from '../db/connection.js';

/** What services need: the database, configuration, a logger, and optional collaborators. */
export interface Deps {
  db: DbHandle;
  config: Config;
  log: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error' | 'debug'>;
  /** Called after a transaction that changed scores commits (wakes long-polling gates). */
  onScoresChanged?: (projectId: number) => void;
}
