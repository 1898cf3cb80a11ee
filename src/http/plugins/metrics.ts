import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, type Registry, collectDefaultMetrics } from 'prom-client';
import { sql } from 'kysely';
import { problems } from '../schemas.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's Prometheus registry (its context's: one per app, tests build several in one process). */
    metricsRegistry: Registry;
  }
}

// Seconds; long polls (`wait` up to an hour) land in the top buckets.
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120, 600, 3600];

/**
 * Prometheus metrics (SPEC §11) on GET /metrics, text exposition format, by prom-client.
 * Process-local counters (requests, gate decisions, reproductions, ingest rows, long polls) sum
 * over service processes in PromQL; the job gauges are read from the database at scrape time,
 * so every process reports the same cluster-wide value (use max() across instances). Labels
 * carry no project names: a scrape token must not learn other projects, and cardinality stays
 * bounded by the route table.
 */
export default fp(
  async function metricsPlugin(app: FastifyInstance) {
    const deps = app.deps;
    // The context's registry holds the service counters (services/deps.ts); the HTTP and gauge
    // metrics join it here.
    const register = deps.metrics.registry;
    app.decorate('metricsRegistry', register);
    collectDefaultMetrics({ register });
    const registers = [register];

    const requests = new Counter({ name: 'ecv_http_requests_total', help: 'HTTP requests answered, by method, route template and status', labelNames: ['method', 'route', 'status'], registers });
    const latency = new Histogram({ name: 'ecv_http_request_duration_seconds', help: 'HTTP request latency, by method, route template and status', labelNames: ['method', 'route', 'status'], buckets: LATENCY_BUCKETS, registers });

    // Values kept elsewhere, read at scrape time.
    const mirror = (name: string, help: string, read: () => number) =>
      new Counter({ name, help, registers, collect() { this.reset(); this.inc(read()); } });
    mirror('ecv_db_queries_total', 'Statements sent to the database by this process', () => deps.db.stats.queries);
    mirror('ecv_long_poll_wakes_total', 'Waiting calls woken by a notification', () => deps.notifier.wakes);
    mirror('ecv_long_polls_rejected_total', 'Waiting calls refused (429) over the per-token bound', () => app.longPolls?.rejected ?? 0);
    mirror('ecv_long_polls_abandoned_total', 'Waiting calls whose client went away before the answer', () => app.longPolls?.abandoned ?? 0);
    new Gauge({
      name: 'ecv_long_polls_active', help: 'Calls waiting now (gate and lease `wait`)', labelNames: ['kind'], registers,
      collect() {
        for (const kind of ['gate', 'lease'] as const) this.set({ kind }, app.longPolls?.active[kind] ?? 0);
      },
    });
    new Gauge({
      name: 'ecv_long_polls_sleeping', help: 'Waiting calls asleep until a notification (no database work meanwhile)', registers,
      collect() {
        this.set(deps.notifier.waiting());
      },
    });
    new Gauge({
      name: 'ecv_db_pool_connections', help: 'PostgreSQL pool of this process: connections by state, and its size (max)', labelNames: ['state'], registers,
      collect() {
        const s = deps.db.poolStats?.();
        if (!s) return;
        this.set({ state: 'max' }, s.max);
        this.set({ state: 'open' }, s.total);
        this.set({ state: 'idle' }, s.idle);
        this.set({ state: 'busy' }, s.total - s.idle);
        this.set({ state: 'waiting' }, s.waiting);
      },
    });
    // One query serves the three job gauges: prom-client collects metrics concurrently, so the
    // gauges of one scrape share the query in flight. A database outage leaves them stale, not
    // the scrape failed.
    type JobRow = { state: string; n: number; age: number | null };
    let inflight: Promise<JobRow[] | null> | null = null;
    const jobRows = () =>
      (inflight ??= sql<JobRow>`SELECT state, count(*)::int AS n, extract(epoch FROM now() - min(created_at))::float8 AS age FROM jobs GROUP BY state`
        .execute(deps.db.db)
        .then((r) => r.rows)
        .catch((err: Error) => {
          app.log.warn({ err: err.message }, 'metrics: job gauges unavailable');
          return null;
        })
        .finally(() => (inflight = null)));
    const queued = async () => {
      const rows = await jobRows();
      return rows ? (rows.find((r) => r.state === 'queued') ?? { state: 'queued', n: 0, age: 0 }) : null;
    };
    new Gauge({
      name: 'ecv_jobs', help: 'Re-anchoring jobs by state (cluster-wide, from the database)', labelNames: ['state'], registers,
      async collect() {
        const rows = await jobRows();
        if (!rows) return;
        for (const state of ['queued', 'active', 'completed', 'failed']) this.set({ state }, 0);
        for (const r of rows) this.set({ state: r.state }, Number(r.n));
      },
    });
    new Gauge({
      name: 'ecv_queue_depth', help: 'Jobs waiting for a runner (cluster-wide)', registers,
      async collect() {
        const q = await queued();
        if (q) this.set(Number(q.n));
      },
    });
    new Gauge({
      name: 'ecv_queue_oldest_age_seconds', help: 'Age of the oldest job waiting for a runner (0: none waiting)', registers,
      async collect() {
        const q = await queued();
        if (q) this.set(q.age ?? 0);
      },
    });

    app.addHook('onResponse', async (req, reply) => {
      // The route template, never the raw URL (bounded label values); unmatched → one label.
      const labels = { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) };
      requests.inc(labels);
      latency.observe(labels, reply.elapsedTime / 1000);
    });

    app.get(
      '/metrics',
      {
        config: { access: deps.config.metricsPublic ? 'public' : 'read' },
        schema: {
          tags: ['ops'],
          operationId: 'metrics',
          summary: 'Prometheus metrics (text exposition format); a token unless ECV_METRICS_PUBLIC=1',
          response: {
            200: { description: 'Prometheus text exposition format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } },
            ...problems(401, 403, 429),
          },
        },
      },
      async (_req, reply) => reply.type(register.contentType).send(await register.metrics()),
    );
  },
  { name: 'metrics', dependencies: ['auth'] },
);
