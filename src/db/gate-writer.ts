import type { Kysely } from 'kysely';
import { DomainError } from '../domain/errors.js';
import { insertGateDecisions, type GateDecisionRow } from './gates.repository.js';
import type { Database } from './schema.js';

export interface GateWriterOptions {
  /** Most rows one INSERT carries (8 bind parameters a row; default 256). */
  maxBatch?: number;
  /**
   * INSERTs in flight at once (default 1: strict group commit, the fewest and largest INSERTs,
   * best when the CPU is the limit). More lets the next batch go while one waits for a slow WAL
   * flush (PostgreSQL flushes concurrent commits together); PGlite runs them one after another.
   */
  maxInFlight?: number;
  /** Told once per failed batch, with the database's error and the number of calls it failed. */
  onError?: (err: Error, calls: number) => void;
}

interface Waiting {
  row: GateDecisionRow;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Group commit for gate decisions (SPEC §2: every call is recorded). Concurrent calls hand their
 * rows to `record`; the rows that arrived while the previous INSERT was committing go out
 * together in one multi-row INSERT, one commit and one WAL flush for all of them, and each call's
 * promise settles only once its batch has committed (or failed). Durability is the database's
 * ordinary commit: nothing is answered from memory.
 *
 * Invariants: at most `maxInFlight` INSERTs in flight per writer; a batch holds at most `maxBatch`
 * rows, in arrival order; a row waits at most for the INSERTs in flight plus its own. Nothing
 * waits on a timer: when idle, the next turn of the event loop sends what has arrived, so a lone
 * call pays one extra tick.
 * Works on either engine (on PGlite the one connection is shared through its mutex, as ever).
 */
export class GateDecisionWriter {
  private queue: Waiting[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private scheduled = false;
  readonly maxBatch: number;
  readonly maxInFlight: number;
  /** Counters for tests and metrics: INSERTs sent, rows committed, batches failed, largest batch. */
  readonly stats = { batches: 0, rows: 0, failedBatches: 0, largestBatch: 0 };

  constructor(
    private readonly db: Kysely<Database>,
    private readonly opts: GateWriterOptions = {},
  ) {
    this.maxBatch = Math.max(1, Math.floor(opts.maxBatch ?? 256));
    this.maxInFlight = Math.max(1, Math.floor(opts.maxInFlight ?? 1));
  }

  /**
   * Records one gate call; resolves once its row is committed. Rejects with a 503
   * (`unavailable`) DomainError when its batch's INSERT failed: then no row of that batch is stored.
   */
  record(row: GateDecisionRow): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      this.kick();
    });
  }

  /** Rows handed over and not yet committed or failed. */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * Resolves once every row handed over so far (and any handed over meanwhile) is committed or
   * failed: app close calls it before the database closes, so a graceful shutdown loses nothing.
   * The writer stays usable afterwards.
   */
  async close(): Promise<void> {
    while (this.inFlight.size > 0 || this.scheduled || this.queue.length > 0) {
      if (this.inFlight.size > 0) await Promise.all(this.inFlight);
      else await new Promise<void>((r) => setImmediate(r));
    }
  }

  private kick(): void {
    if (this.scheduled || this.inFlight.size >= this.maxInFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.start();
    });
  }

  private start(): void {
    while (this.inFlight.size < this.maxInFlight && this.queue.length > 0) {
      const run: Promise<void> = this.send(this.queue.splice(0, this.maxBatch)).finally(() => {
        this.inFlight.delete(run);
        // Rows that arrived while every slot was busy: send them now.
        if (this.queue.length > 0) this.kick();
      });
      this.inFlight.add(run);
    }
  }

  /** Sends one batch; never throws (a failure settles its callers). */
  private async send(batch: Waiting[]): Promise<void> {
    try {
      await insertGateDecisions(
        this.db,
        batch.map((w) => w.row),
      );
      this.stats.batches++;
      this.stats.rows += batch.length;
      this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
      for (const w of batch) w.resolve();
    } catch (err) {
      this.stats.failedBatches++;
      this.opts.onError?.(err as Error, batch.length);
      const e = new DomainError(
        'unavailable',
        'the gate decision could not be recorded (every gate call is recorded), so it is not answered; retry shortly',
        { extra: { retryAfter: 1 } },
      );
      for (const w of batch) w.reject(e);
    }
  }
}
