import { EventEmitter } from 'node:events';

/**
 * In-process wake-ups for long polls (gate `wait`, runner lease `wait`). Other service processes
 * are not reached by it; long polls also re-check the database at a short interval, so
 * several processes still agree — this only makes the single-process case prompt.
 */
export class Notifier {
  private readonly ee = new EventEmitter();

  constructor() {
    this.ee.setMaxListeners(0);
  }

  notify(topic: string): void {
    this.ee.emit(topic);
  }

  /** Resolves on the next notify(topic) or after timeoutMs, whichever comes first. */
  waitFor(topic: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.ee.off(topic, done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      this.ee.once(topic, done);
      signal?.addEventListener('abort', done);
    });
  }
}
