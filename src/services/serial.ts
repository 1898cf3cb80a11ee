import type { DbHandle } from '../db/connection.js';

/**
 * One FIFO per key (a project name), per database handle: writes to one project run one at a
 * time in this process. They are serialised by the project's row lock anyway; queueing them
 * here, before a connection is taken, keeps a burst of writes to one project from holding every
 * pooled connection while it waits on that lock (issue 17: 200 concurrent edge writes emptied
 * the pool and other requests got 503). Across processes the row lock still orders them.
 */
const tails = new WeakMap<DbHandle, Map<string, Promise<unknown>>>();

export function serialPerKey<T>(db: DbHandle, key: string, fn: () => Promise<T>): Promise<T> {
  let byKey = tails.get(db);
  if (!byKey) tails.set(db, (byKey = new Map()));
  const prev = byKey.get(key) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  byKey.set(key, tail);
  // The last one out forgets the key (bounded memory over many projects).
  void tail.then(() => {
    if (byKey.get(key) === tail) byKey.delete(key);
  });
  return run;
}
