import { f, n, table } from './lib/markdown.js';
import type { SoakResult } from './soak.js';

/**
 * Zero errors; every write stored whole and once: the new rows are whole batches, at least the
 * answered ones and at most one more per connection (in flight when the load stopped); the RSS
 * floor grew by less than 20% from early to late in the run (falling is fine: no leak).
 */
export function soakVerdict(s: SoakResult): {
  errors: number;
  stored: boolean;
  batchesStored: number;
  growth: number;
} {
  const errors = s.gate.errors + s.gate.non2xx + s.ingest.errors + s.ingest.non2xx;
  const batchesStored = (s.experimentsStored - s.setupExperiments) / s.ingest.batch;
  const stored =
    Number.isInteger(batchesStored) &&
    batchesStored >= s.batchesAnswered &&
    batchesStored <= s.batchesAnswered + s.ingest.connections;
  return { errors, stored, batchesStored, growth: s.rssLate / s.rssEarly - 1 };
}

/** A coarse RSS curve: one value per tenth of the run. */
function rssCurve(s: SoakResult): string {
  const step = Math.max(1, Math.floor(s.rss.length / 10));
  return s.rss
    .filter((_, i) => i % step === 0 || i === s.rss.length - 1)
    .map((r) => `${f(r.t, 0)} s ${f(r.mib, 0)}`)
    .join(' · ');
}

export function renderSoak(s: SoakResult): string {
  const v = soakVerdict(s);
  const row = (label: string, r: SoakResult['gate']) => [
    label,
    r.connections,
    n(r.ok + r.non2xx),
    n(r.requestsPerSecond),
    f(r.latencyP50, 0),
    f(r.latencyP99, 0),
    r.non2xx,
    r.errors,
    Object.entries(r.statusCodes)
      .map(([k, c]) => `${k}: ${n(c)}`)
      .join(', '),
  ];
  return `## 6. Load test

A bounded soak on loopback (\`bench/soak.ts\`): a real \`ecv serve\` process on PostgreSQL with auth on
(one project-scoped \`loop\` token; the per-token rate limit lifted, or most of this load would be 429 by
design), ${n(s.setupExperiments)} experiments loaded first; then for ${s.durationS} s, concurrently, ${s.gate.connections}
autocannon connections gate setup experiments (accepts, rejects and re-anchor scheduling) while
${s.ingest.connections} connections write new experiments in batches of ${s.ingest.batch}, each built on a setup keep.

${table(
  [
    'client',
    'connections',
    'answers',
    'req/s',
    'p50 ms',
    'p99 ms',
    'non-2xx',
    'errors',
    'statuses',
  ],
  [row('POST /gate', s.gate), row(`POST /experiments (×${s.ingest.batch})`, s.ingest)],
  ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
)}

- Errors and non-2xx answers: **${v.errors}**${v.errors === 0 ? ' (goal: zero, met)' : ' (goal: zero, **missed**)'}.
- Experiments stored after the run: ${n(s.experimentsStored)} = ${n(s.setupExperiments)} setup + ${v.batchesStored} batches of ${s.ingest.batch}, for ${n(s.batchesAnswered)} writes answered 2xx
  (up to one more per connection may land while the load stops)${v.stored ? ': every write stored whole and once' : ': **mismatch**'}.
- Service RSS (MiB, sampled each second): ${rssCurve(s)}. Its floor (lowest sample, where garbage collection
  brings it back; single samples swing with GC timing) in the second sixth of the run ${f(s.rssEarly, 0)} MiB, in the last sixth ${f(s.rssLate, 0)} MiB: ${v.growth >= 0 ? '+' : ''}${f(100 * v.growth, 1)}%${v.growth < 0.2 ? ' (flat: it did not grow by 20%; a leak would raise the floor)' : ' (**grew**)'}.
`;
}
