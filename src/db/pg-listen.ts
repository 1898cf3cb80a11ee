import pg from 'pg';

/** A LISTEN subscription: publish on its channel, or stop listening. */
export interface Listener {
  publish(payload: string): Promise<void>;
  close(): Promise<void>;
}

const RECONNECT_MS = 2000;

/**
 * LISTEN on one channel over a dedicated connection (a pooled one would be returned to the pool
 * and stop listening), reconnecting after a drop. `onState(false)` tells the caller that
 * notifications may be missed until `onState(true)`; it then re-checks at a short interval.
 * `publish` sends through a short-lived query on the same connection when it is up, else a
 * fresh one, so a notification is not lost to a reconnect.
 */
export async function listenPostgres(
  url: string,
  channel: string,
  onMessage: (payload: string) => void,
  onState: (up: boolean) => void,
  onError?: (err: Error) => void,
): Promise<Listener> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) throw new Error(`bad channel name '${channel}'`);
  let client: pg.Client | null = null;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    c.on('notification', (m) => {
      if (m.channel === channel && m.payload !== undefined) onMessage(m.payload);
    });
    c.on('error', (err) => {
      onError?.(err);
      drop(c);
    });
    c.on('end', () => drop(c));
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
    } catch (err) {
      onError?.(err as Error);
      drop(c);
      return;
    }
    if (closed) return void c.end().catch(() => undefined);
    client = c;
    onState(true);
  };

  const drop = (c: pg.Client) => {
    if (client === c) {
      client = null;
      onState(false);
    }
    c.end().catch(() => undefined);
    if (!closed && !timer) {
      timer = setTimeout(() => {
        timer = undefined;
        if (!client && !closed) void connect();
      }, RECONNECT_MS);
      timer.unref();
    }
  };

  await connect();
  let sending: Promise<void> = Promise.resolve();
  return {
    async publish(payload) {
      const text = 'SELECT pg_notify($1, $2)';
      if (client) {
        // One query at a time on the listening client: pg deprecates (and pg@9 removes) queries
        // issued while another is in flight, and concurrent commits publish concurrently.
        const c = client;
        const run = sending.then(() => c.query(text, [channel, payload]));
        sending = run.then(
          () => undefined,
          () => undefined,
        );
        await run;
        return;
      }
      const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
      c.on('error', () => undefined);
      try {
        await c.connect();
        await c.query(text, [channel, payload]);
      } finally {
        await c.end().catch(() => undefined);
      }
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      const c = client;
      client = null;
      await c?.end().catch(() => undefined);
    },
  };
}
