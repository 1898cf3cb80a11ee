/**
 * Load generator child process: runs autocannon against a URL and prints its summary as one JSON
 * line. A separate process, so that generating load does not share the server's event loop.
 * Usage: node --import tsx bench/lib/load.ts <spec.json>
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

export interface LoadSpec {
  url: string;
  method: 'GET' | 'POST';
  /** Requests cycle through these (path, body) pairs, one list shared by all connections. */
  requests: { path: string; body?: string }[];
  connections: number;
  durationS: number;
  /** Extra request headers (e.g. authorization). */
  headers?: Record<string, string>;
}

export interface LoadResult {
  requestsPerSecond: number;
  latencyP50: number;
  latencyP99: number;
  latencyMean: number;
  ok: number;
  non2xx: number;
  errors: number;
  durationS: number;
  /** Answers by HTTP status. */
  statusCodes: Record<string, number>;
}

async function main(spec: LoadSpec): Promise<LoadResult> {
  let i = 0;
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.durationS,
    timeout: 30,
    requests: [
      {
        method: spec.method,
        headers: { 'content-type': 'application/json', ...spec.headers },
        setupRequest: (req) => {
          const r = spec.requests[i++ % spec.requests.length];
          return { ...req, path: r.path, ...(r.body !== undefined ? { body: r.body } : {}) };
        },
      },
    ],
  });
  const ok = result['2xx'];
  return {
    requestsPerSecond: ok / result.duration,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    latencyMean: result.latency.mean,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    durationS: result.duration,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([k, v]) => [k, v.count ?? 0])),
  };
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  main(JSON.parse(readFileSync(process.argv[2], 'utf8')) as LoadSpec).then(
    (r) => console.log(JSON.stringify(r)),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
