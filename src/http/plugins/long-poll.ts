import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../../domain/errors.js';

export type LongPollKind = 'gate' | 'lease';

declare module 'fastify' {
  interface FastifyInstance {
    /** Open long polls (gate and lease `wait`), bounded per caller. */
    longPolls: LongPolls;
  }
}

/**
 * Bookkeeping of the calls that wait (`wait` > 0). Each caller (token, or client IP with auth
 * off) may hold `perCaller` of them at once; one more is answered 429 with Retry-After, so a
 * client that fires and forgets thousands of waits cannot pin the server. A wait ends when the
 * response is sent or the client goes away: Node 20 emits no 'close' on the request once its
 * body was read, so the abort is detected on the response (`reply.raw`), which closes with the
 * socket.
 */
export class LongPolls {
  private readonly byCaller = new Map<string, number>();
  readonly active: Record<LongPollKind, number> = { gate: 0, lease: 0 };
  /** Waits refused over the per-caller bound, and waits ended by the client going away. */
  rejected = 0;
  abandoned = 0;

  constructor(readonly perCaller: number) {}

  /** Registers a waiting call; the signal aborts when its client disconnects. Throws 429 over the bound. */
  begin(req: FastifyRequest, reply: FastifyReply, kind: LongPollKind): AbortSignal {
    const key = req.caller !== 'anonymous' ? `token:${req.caller}` : `ip:${req.ip}`;
    const open = this.byCaller.get(key) ?? 0;
    if (open >= this.perCaller) {
      this.rejected++;
      throw new DomainError(
        'rate_limited',
        `at most ${this.perCaller} waiting calls (wait > 0) per token at once, and ${open} are open; retry once one has returned, or call without wait`,
        { extra: { retryAfter: 1 } },
      );
    }
    this.byCaller.set(key, open + 1);
    this.active[kind]++;
    const ac = new AbortController();
    const sock = req.raw.socket;
    let done = false;
    const gone = () => {
      if (!reply.raw.writableFinished) {
        if (!ac.signal.aborted) this.abandoned++;
        ac.abort();
        // Nothing can reach the client: free the connection now (a half-closed socket would
        // otherwise linger and hold up the server's close).
        // (app.inject's fake socket has no destroy: nothing to free there.)
        if (sock && !sock.destroyed && typeof sock.destroy === 'function') sock.destroy();
      }
      end();
    };
    const end = () => {
      if (done) return;
      done = true;
      sock?.off('end', gone);
      sock?.off('close', gone);
      this.active[kind]--;
      const n = (this.byCaller.get(key) ?? 1) - 1;
      if (n > 0) this.byCaller.set(key, n);
      else this.byCaller.delete(key);
    };
    reply.raw.once('finish', end);
    reply.raw.once('close', gone);
    // The client's FIN ends the socket's readable side; the server then ends its own side
    // (httpAllowHalfOpen is off), so no answer can reach the client any more, and the socket
    // may stay undestroyed (no 'close') until the wait would end on its own.
    sock?.once('end', gone);
    sock?.once('close', gone);
    // A client that left before this handler ran: those events have already been emitted.
    // (app.inject's mock socket has no stream state: undefined, not false.)
    if (reply.raw.destroyed || sock?.destroyed === true || sock?.readable === false || sock?.writable === false) gone();
    return ac.signal;
  }
}

/** Decorates `app.longPolls` (config.longPollsPerToken). */
export default fp(
  async function longPollPlugin(app: FastifyInstance) {
    app.decorate('longPolls', new LongPolls(app.deps.config.longPollsPerToken));
  },
  { name: 'long-poll' },
);
