import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { DbHandle, Listener } from '../db/connection.js';

/** PostgreSQL channel that carries the topics between service processes. */
export const NOTIFY_CHANNEL = 'ecv_events';

/** How long a long poll sleeps between re-checks when every wake-up reaches it (ms). */
export const QUIET_RECHECK_MS = 30_000;
/** …and while the cross-process channel is down (notifications from others may be missed). */
export const DEGRADED_RECHECK_MS = 1_000;

/**
 * Wake-ups for long polls (gate `wait`, runner lease `wait`): a waiting call sleeps until a
 * topic it cares about is notified, so a quiet wait costs no database round trip. In one
 * process (PGlite) the event emitter suffices; with PostgreSQL, `bridge()` relays every topic
 * through LISTEN/NOTIFY to the other service processes. While that channel is down, waits
 * re-check every second (`recheckMs`), as all waits did before.
 */
export class Notifier {
  private readonly ee = new EventEmitter();
  private readonly origin = randomUUID();
  private listener: Listener | null = null;
  private bridged = false;
  private up = true;
  /** Waits ended by a notification (metrics). */
  wakes = 0;

  constructor(private readonly onError: (err: Error) => void = () => undefined) {
    this.ee.setMaxListeners(0);
  }

  /** Relays topics across processes through `listen` (DbHandle.listen on PostgreSQL). */
  async bridge(listen: NonNullable<DbHandle['listen']>): Promise<void> {
    this.bridged = true;
    this.up = false;
    this.listener = await listen(
      NOTIFY_CHANNEL,
      (payload) => {
        const bar = payload.indexOf('|');
        if (bar > 0 && payload.slice(0, bar) !== this.origin) this.ee.emit(payload.slice(bar + 1));
      },
      (up) => {
        const wasDown = !this.up;
        this.up = up;
        // Whatever was notified while the channel was down is lost: wake every wait to re-check.
        if (up && wasDown) for (const name of this.ee.eventNames()) this.ee.emit(name);
      },
    );
  }

  /** Re-check interval of a wait: long when every notification arrives, short while some may not. */
  get recheckMs(): number {
    return this.bridged && !this.up ? DEGRADED_RECHECK_MS : QUIET_RECHECK_MS;
  }

  /** Wakes the waits on `topic` here and, when bridged, in the other service processes. */
  notify(topic: string): void {
    this.ee.emit(topic);
    this.listener?.publish(`${this.origin}|${topic}`).catch((err: Error) => this.onError(err));
  }

  /** Waits currently sleeping on `topic` (metrics). */
  waiting(topic?: string): number {
    if (topic) return this.ee.listenerCount(topic);
    return this.ee.eventNames().reduce((n, t) => n + this.ee.listenerCount(t), 0);
  }

  /** Resolves on the next notify(topic), after timeoutMs, or on abort, whichever comes first. */
  waitFor(topic: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const finish = () => {
        clearTimeout(timer);
        this.ee.off(topic, woken);
        signal?.removeEventListener('abort', finish);
        resolve();
      };
      const woken = () => {
        this.wakes++;
        finish();
      };
      const timer = setTimeout(finish, Math.max(0, timeoutMs));
      this.ee.once(topic, woken);
      signal?.addEventListener('abort', finish);
    });
  }

  async close(): Promise<void> {
    await this.listener?.close();
    this.listener = null;
  }
}
