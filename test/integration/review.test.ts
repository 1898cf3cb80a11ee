import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeQuality, REVIEW_MIN } from '../../src/domain/scoring/index.js';
import type { ProjectConfig } from '../../src/domain/types.js';
import { ENGINES } from '../helpers/db.js';
import { buildTestApp, projectBody, type TestApp } from '../helpers/app.js';
import { byMarker, startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { KARPATHY_LOG, skipWithoutCorpus } from '../helpers/corpus.js';

const SKIP_REAL = skipWithoutCorpus('the review of a real log');
const PROTECTED = ['prepare.py', 'eval/**'];

const TAMPER_REVIEW = {
  findings: [
    {
      category: 'evaluation_tampering',
      severity: 'critical',
      file: 'train.py',
      line: 12,
      explanation:
        'evaluate_bpb now scores only the first 8 validation batches, so val_bpb is measured on an easier subset.',
    },
  ],
  overallRisk: 'critical',
  summary: 'The improvement comes from a smaller evaluation, not a better model.',
};

/** A one-hunk diff of train.py whose added line carries `tag` (markers steer the fake server). */
const diffOf = (tag: string, line = `lr = 2e-3  # ${tag}`) =>
  `diff --git a/train.py b/train.py\n--- a/train.py\n+++ b/train.py\n@@ -10,3 +10,3 @@\n model = GPT(cfg)\n-lr = 1e-3\n+${line}\n optimizer = AdamW(model.parameters(), lr=lr)\n`;

const TAMPER_DIFF = [
  'diff --git a/train.py b/train.py',
  '--- a/train.py',
  '+++ b/train.py',
  '@@ -10,4 +10,5 @@ def evaluate_bpb(model, loader):',
  '     total = 0.0',
  '+    eval_batches = 8  # FAKE_TAMPER',
  '-    for step, batch in enumerate(loader):',
  '+    for step, batch in enumerate(itertools.islice(loader, eval_batches)):',
  '         total += model.loss(batch)',
  '',
].join('\n');

type Exp = {
  key: string;
  status: string;
  confidence: {
    value: number;
    components: { code: number };
    reasons: { code: string; message: string }[];
  };
  compounded: number;
  review?: {
    status: string;
    adjustment?: number;
    cached?: boolean;
    risk?: string | null;
    reasons?: { code: string; message: string }[];
  };
};

describe.each(ENGINES)('LLM review (SPEC §9) on %s', (engine) => {
  let fake: FakeOpenAI;
  let t: TestApp;
  beforeAll(async () => {
    fake = await startFakeOpenAI(
      byMarker({
        FAKE_TAMPER: { kind: 'answer', content: TAMPER_REVIEW },
        FAKE_TIMEOUT: { kind: 'delay', ms: 5000 },
        FAKE_500: { kind: 'status', status: 500 },
        FAKE_MALFORMED: { kind: 'malformed' },
        FAKE_REFUSAL: { kind: 'refusal', text: 'I will not review this code.' },
      }),
    );
    t = await buildTestApp(engine, {
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.baseURL,
      ECV_REVIEW_MODEL: 'fake-reviewer',
      ECV_REVIEW_TIMEOUT_MS: '1200',
      ECV_REVIEW_CONCURRENCY: '2',
    });
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  const post = (url: string, payload: unknown) =>
    t.app.inject({ method: 'POST', url, payload: payload as object });
  const exp = async (p: string, k: string): Promise<Exp> =>
    (await t.app.inject({ method: 'GET', url: `/v1/projects/${p}/experiments/${k}` })).json();
  const codes = (e: Exp) => e.confidence.reasons.map((r) => r.code);

  /** Polls until the experiment's review is no longer pending (bounded). */
  async function landed(p: string, k: string, waitMs = 20_000): Promise<Exp> {
    const end = Date.now() + waitMs;
    for (;;) {
      const e = await exp(p, k);
      if (e.review && e.review.status !== 'pending') return e;
      if (Date.now() > end)
        throw new Error(`review of ${p}/${k} did not land: ${JSON.stringify(e.review)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function project(name: string): Promise<ProjectConfig> {
    const res = await post('/v1/projects', projectBody(name, { protectedPaths: PROTECTED }));
    expect(res.statusCode).toBe(201);
    return res.json();
  }

  /** Q from the static checks alone, as the scorer computes it. */
  const staticQ = (cfg: ProjectConfig, key: string, diff: string) =>
    codeQuality(cfg, {
      key,
      status: 'keep',
      value: 0,
      replicates: [],
      baseline: null,
      premiseKey: 'root',
      reproductions: [],
      code: { diff },
    }).q;

  it('lowers Q for evaluation tampering, cites the finding, and updates C and K downstream', async () => {
    const cfg = await project('tamper');
    const res = await post('/v1/projects/tamper/experiments', [
      { key: 'root', status: 'keep', value: 1.0 },
      {
        key: 'x',
        status: 'keep',
        value: 0.97,
        premises: ['root'],
        code: { diff: TAMPER_DIFF },
        description: 'faster eval',
        hypothesis: 'evaluating less often frees time for training',
      },
      { key: 'child', status: 'keep', value: 0.965, premises: ['x'] },
    ]);
    expect(res.statusCode).toBeLessThan(300);
    // the write answered before any review; the job was queued with it
    const x = await landed('tamper', 'x');
    expect(x.review).toMatchObject({ status: 'done', adjustment: REVIEW_MIN, risk: 'critical' });
    const q0 = staticQ(cfg, 'x', TAMPER_DIFF);
    expect(q0).toBeCloseTo(0.8, 12); // eval_changed
    expect(x.confidence.components.code).toBeCloseTo(q0 + REVIEW_MIN, 12);
    const cited = x.confidence.reasons.find((r) => r.code === 'llm_review_evaluation_tampering');
    expect(cited?.message).toContain('train.py:12');
    expect(cited?.message).toContain('first 8 validation batches');
    expect(codes(x)).toContain('review');

    const [root, child] = [await exp('tamper', 'root'), await exp('tamper', 'child')];
    expect(child.compounded).toBeCloseTo(
      root.confidence.value * x.confidence.value * child.confidence.value,
      12,
    );
    // the model saw the change, its claim and the protected paths
    const call = fake.calls.find((c) => c.text.includes('FAKE_TAMPER'))!;
    expect(call.text).toContain('evaluating less often frees time');
    expect(call.text).toContain('prepare.py, eval/**');
    expect(fake.callsWith('FAKE_TAMPER')).toBe(1);
  });

  it('keeps the static Q and says why on a timeout, a 500, malformed JSON and a refusal', async () => {
    const cfg = await project('failures');
    const cases = [
      ['t', 'FAKE_TIMEOUT', /no answer within 1200 ms/],
      ['e', 'FAKE_500', /HTTP 500/],
      ['m', 'FAKE_MALFORMED', /not valid JSON/],
      ['r', 'FAKE_REFUSAL', /refused: I will not review this code/],
    ] as const;
    await post('/v1/projects/failures/experiments', [
      { key: 'root', status: 'keep', value: 1.0 },
      ...cases.map(([k, marker]) => ({
        key: k,
        status: 'keep',
        value: 0.99,
        premises: ['root'],
        code: { diff: diffOf(marker) },
      })),
    ]);
    for (const [k, marker, why] of cases) {
      const e = await landed('failures', k);
      expect(e.review).toMatchObject({ status: 'failed', adjustment: 0, risk: null });
      expect(e.confidence.components.code).toBeCloseTo(staticQ(cfg, k, diffOf(marker)), 12);
      const reason = e.confidence.reasons.find((r) => r.code === 'llm_review_failed');
      expect(reason?.message).toMatch(why);
      expect(reason?.message).toContain('static code score stands');
    }
    expect(fake.callsWith('FAKE_500')).toBeGreaterThanOrEqual(2); // retried
    expect(fake.callsWith('FAKE_MALFORMED')).toBe(1);
    expect(fake.callsWith('FAKE_REFUSAL')).toBe(1);
    // failures are not cached: nothing stored for these diffs
    const cached = await t.db.handle.executeSql(
      `SELECT count(*)::int AS n FROM reviews WHERE result::text LIKE '%FAKE_%'`,
    );
    expect((cached.rows[0] as { n: number }).n).toBe(0);
  });

  it('calls the model once per diff: same diff in one batch and later is served from the cache', async () => {
    await project('cache');
    const diff = diffOf('FAKE_CACHE_SAME');
    await post('/v1/projects/cache/experiments', [
      { key: 'root', status: 'keep', value: 1.0 },
      { key: 'a', status: 'keep', value: 0.99, premises: ['root'], code: { diff } },
      { key: 'b', status: 'keep', value: 0.985, premises: ['root'], code: { diff } },
    ]);
    const [a, b] = [await landed('cache', 'a'), await landed('cache', 'b')];
    expect(fake.callsWith('FAKE_CACHE_SAME')).toBe(1);
    expect([a.review?.cached, b.review?.cached].sort()).toEqual([false, true]);
    expect(a.review?.adjustment).toBe(b.review?.adjustment);
    expect(codes(a)).toContain('llm_review_clean');

    await post('/v1/projects/cache/experiments', [
      { key: 'c', status: 'keep', value: 0.984, premises: ['b'], code: { diff } },
    ]);
    const c = await landed('cache', 'c');
    expect(c.review?.cached).toBe(true);
    expect(fake.callsWith('FAKE_CACHE_SAME')).toBe(1);
  });

  it.skipIf(SKIP_REAL)('reviews only kept experiments with a diff, over a real results.tsv log', async () => {
    await project('karpathy');
    const lines = readFileSync(KARPATHY_LOG, 'utf8').trim().split('\n').slice(1, 16);
    let premise: string | null = null;
    const rows = lines.map((line) => {
      const [commit, value, memoryGb, status, description] = line.split('\t');
      const row = {
        key: commit,
        status,
        value: status === 'crash' ? null : Number(value),
        ...(premise ? { premises: [premise] } : {}),
        description,
        resources: { memoryGb: Number(memoryGb) },
        code: { diff: diffOf(`REALLOG_${commit}`, `# ${description}  REALLOG_${commit}`) },
      };
      if (status === 'keep') premise = commit;
      return row;
    });
    // plus a kept experiment with changed paths but no diff text: nothing to review
    rows.push({
      key: 'paths-only',
      status: 'keep',
      value: 0.97,
      premises: [premise!],
      description: 'paths only',
      resources: { memoryGb: 1 },
      code: { paths: [{ path: 'train.py', added: 3, removed: 1 }] },
    } as never);
    expect((await post('/v1/projects/karpathy/experiments', rows)).statusCode).toBeLessThan(300);
    const kept = rows.filter((r) => r.status === 'keep' && r.code.diff).map((r) => r.key);
    const others = rows.filter((r) => !kept.includes(r.key)).map((r) => r.key);
    expect(kept.length).toBeGreaterThan(5);
    expect(others.length).toBeGreaterThan(2);
    for (const k of kept) expect((await landed('karpathy', k)).review?.status).toBe('done');
    for (const k of others) {
      expect((await exp('karpathy', k)).review).toBeUndefined();
      expect(fake.callsWith(`REALLOG_${k}`)).toBe(0);
    }
    for (const k of kept) expect(fake.callsWith(`REALLOG_${k}`)).toBe(1);
  });

  it('is off without an API key: nothing queued, no call', async () => {
    const off = await buildTestApp(engine, { OPENAI_BASE_URL: fake.baseURL });
    try {
      await off.app.inject({ method: 'POST', url: '/v1/projects', payload: projectBody('off') });
      const res = await off.app.inject({
        method: 'POST',
        url: '/v1/projects/off/experiments',
        payload: [
          { key: 'root', status: 'keep', value: 1.0 },
          {
            key: 'x',
            status: 'keep',
            value: 0.99,
            premises: ['root'],
            code: { diff: diffOf('FAKE_OFF') },
          },
        ],
      });
      expect(res.statusCode).toBeLessThan(300);
      await new Promise((r) => setTimeout(r, 1500));
      const x = (
        await off.app.inject({ method: 'GET', url: '/v1/projects/off/experiments/x' })
      ).json();
      expect(x.review).toBeUndefined();
      expect(x.confidence.reasons.map((r: { code: string }) => r.code)).not.toContain('review');
      const jobs = await off.db.handle.executeSql(
        `SELECT count(*)::int AS n FROM review_jobs`,
      );
      expect((jobs.rows[0] as { n: number }).n).toBe(0);
      expect(fake.callsWith('FAKE_OFF')).toBe(0);
    } finally {
      await off.close();
    }
  });
});
