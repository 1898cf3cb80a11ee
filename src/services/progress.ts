import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Progress of long service work (parse, write, score) for a caller in the same process: the
 * in-process CLI runs a request inside `withProgress` and the services call `reportProgress`.
 * Over HTTP there is no listener and a report costs one lookup. `done`/`total` count what
 * `unit` names; `total` is null when the step has no count.
 */
export interface ProgressEvent {
  step: string;
  done: number;
  total: number | null;
  unit: string;
}

export type ProgressListener = (e: ProgressEvent) => void;

const listeners = new AsyncLocalStorage<ProgressListener>();

/** Runs `body` with `listener` receiving the progress reports made anywhere beneath it. */
export function withProgress<T>(listener: ProgressListener | undefined, body: () => Promise<T>): Promise<T> {
  return listener ? listeners.run(listener, body) : body();
}

export function reportProgress(step: string, done: number, total: number | null, unit: string): void {
  listeners.getStore()?.({ step, done, total, unit });
}
