import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createReviewer,
  MAX_DIFF_CHARS,
  ReviewError,
  type ReviewRequest,
} from '../../src/llm/reviewer.js';
import { byMarker, startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';

const TAMPER = {
  findings: [
    {
      category: 'evaluation_tampering',
      severity: 'critical',
      file: 'train.py',
      line: 7,
      explanation: 'eval on 1 batch',
    },
  ],
  overallRisk: 'critical',
  summary: 'Shrinks the evaluation.',
};

const req = (marker: string, over: Partial<ReviewRequest> = {}): ReviewRequest => ({
  diff: `diff --git a/train.py b/train.py\n--- a/train.py\n+++ b/train.py\n@@ -1 +1 @@\n-lr = 1e-3\n+lr = 2e-3 # ${marker}\n`,
  description: 'raise the learning rate',
  hypothesis: 'a higher LR converges faster in 5 minutes',
  protectedPaths: ['prepare.py', 'eval/**'],
  metric: { name: 'val_bpb', direction: 'minimize' },
  ...over,
});

async function failure(p: Promise<unknown>): Promise<ReviewError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ReviewError);
    return e as ReviewError;
  }
  throw new Error('expected the review to fail');
}

describe('LLM reviewer client (fake OpenAI-compatible server)', () => {
  let fake: FakeOpenAI;
  let flaky = 0;
  beforeAll(async () => {
    fake = await startFakeOpenAI(
      byMarker({
        M_TAMPER: { kind: 'answer', content: TAMPER },
        M_SLOW: { kind: 'delay', ms: 3000 },
        M_500: { kind: 'status', status: 500 },
        M_401: { kind: 'status', status: 401 },
        M_BADJSON: { kind: 'malformed' },
        M_OFFSCHEMA: {
          kind: 'answer',
          content: { findings: 'none', overallRisk: 'none', summary: '' },
        },
        M_REFUSE: { kind: 'refusal', text: 'I cannot review this.' },
      }),
    );
  });
  afterAll(async () => fake?.close());

  const reviewer = (timeoutMs = 1500) =>
    createReviewer(
      { apiKey: 'sk-test', baseUrl: fake.baseURL, model: 'fake-model', timeoutMs },
      { retryBaseMs: 20 },
    );

  it('sends a strict json_schema request with the change as delimited data, and parses findings', async () => {
    const out = await reviewer().review(req('M_TAMPER'));
    expect(out.review.findings[0]).toMatchObject({
      category: 'evaluation_tampering',
      file: 'train.py',
      line: 7,
    });
    const call = fake.calls.find((c) => c.text.includes('M_TAMPER'))!;
    expect(call.authorization).toBe('Bearer sk-test');
    expect(call.body.model).toBe('fake-model');
    expect(call.body.response_format?.type).toBe('json_schema');
    expect(call.body.response_format?.json_schema?.strict).toBe(true);
    const user = call.body.messages.find((m) => m.role === 'user')!.content;
    expect(user).toContain('prepare.py, eval/**');
    expect(user).toContain('<hypothesis>\na higher LR converges faster');
    expect(user).toContain('<diff>\ndiff --git a/train.py');
  });

  it('truncates a huge diff to a bound', async () => {
    const big = req('M_BIG', { diff: `+x = 1 # M_BIG\n${'+y = 2\n'.repeat(20_000)}` });
    await reviewer().review(big);
    const user = fake.calls.find((c) => c.text.includes('M_BIG'))!.body.messages[1].content;
    expect(user.length).toBeLessThan(MAX_DIFF_CHARS + 6_000);
    expect(user).toMatch(/more characters cut/);
  });

  it('gives up on a slow server within the time bound', async () => {
    // The server answers after 3 s; a client bound to 400 ms that waited for it would succeed.
    const e = await failure(reviewer(400).review(req('M_SLOW')));
    expect(e.kind).toBe('timeout');
    // The bound covers retries: nothing is tried again after it.
    expect(fake.callsWith('M_SLOW')).toBe(1);
  });

  it('retries 5xx with back-off (at most 3 retries), but not other 4xx', async () => {
    const e = await failure(reviewer(5000).review(req('M_500')));
    expect(e.kind).toBe('http_error');
    expect(e.message).toContain('HTTP 500');
    expect(fake.callsWith('M_500')).toBe(4);
    const e401 = await failure(reviewer().review(req('M_401')));
    expect(e401.status).toBe(401);
    expect(fake.callsWith('M_401')).toBe(1);
  });

  it('recovers when a retry succeeds', async () => {
    fake.script = (call) =>
      call.text.includes('M_FLAKY') && flaky++ === 0
        ? { kind: 'status', status: 429 }
        : { kind: 'answer', content: TAMPER };
    const out = await reviewer().review(req('M_FLAKY'));
    expect(out.attempts).toBe(2);
    expect(out.review.overallRisk).toBe('critical');
  });

  it('reports refusals, malformed JSON and schema mismatches without retrying', async () => {
    fake.script = byMarker({
      M_BADJSON: { kind: 'malformed' },
      M_OFFSCHEMA: {
        kind: 'answer',
        content: { findings: 'none', overallRisk: 'none', summary: '' },
      },
      M_REFUSE: { kind: 'refusal', text: 'I cannot review this.' },
    });
    expect((await failure(reviewer().review(req('M_BADJSON')))).kind).toBe('malformed_json');
    expect((await failure(reviewer().review(req('M_OFFSCHEMA')))).kind).toBe('schema_mismatch');
    const refused = await failure(reviewer().review(req('M_REFUSE')));
    expect(refused.kind).toBe('refusal');
    expect(refused.message).toContain('I cannot review this.');
    for (const m of ['M_BADJSON', 'M_OFFSCHEMA', 'M_REFUSE']) expect(fake.callsWith(m)).toBe(1);
  });

  it('stops when the caller aborts', async () => {
    fake.script = byMarker({ M_SLOW: { kind: 'delay', ms: 3000 } });
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 50);
    expect((await failure(reviewer(5000).review(req('M_SLOW'), ctl.signal))).kind).toBe('aborted');
  });
});
