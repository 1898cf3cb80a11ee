import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ENGINES } from '../helpers/db.js';
import { buildTestApp, projectBody, type TestApp } from '../helpers/app.js';
import { findJsonHazard } from '../../src/http/plugins/json-guard.js';

/**
 * Fuzzing the write routes with hostile JSON: random values, near-valid bodies with one to
 * three fields replaced by junk, deep nesting, huge strings, NULs and lone surrogates, and
 * non-JSON text. The service must answer every one without a 5xx, and a rejected request
 * must leave the project's experiments as they were.
 */
const NUM_RUNS = Number(process.env.ECV_FUZZ_RUNS ?? 300);

const nasty = fc.constantFrom(
  '',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\uffff',
  '\u202e',
  '💥',
  'x'.repeat(129),
  '../../etc/passwd',
  "'; DROP TABLE experiments; --",
  '__proto__',
  'constructor',
  '1e309',
  'NaN',
);
const str = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ maxLength: 20 }),
  nasty,
);
const num = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(0, -0, 1e308, -1e308, 2 ** 53 + 2, 5e-324, -1),
);
const scalar = fc.oneof(str, num, fc.boolean(), fc.constant(null));
const json = fc.jsonValue({ maxDepth: 5, stringUnit: 'binary' });

// Huge and deep values are written into the payload text by `serialize` (JSON.stringify would
// overflow the stack on deep nesting), and fast-check reports them in a line.
class Huge {
  constructor(
    readonly n: number,
    readonly c: string,
  ) {}
  text() {
    return JSON.stringify(this.c.repeat(this.n));
  }
  [fc.toStringMethod]() {
    return `huge(${JSON.stringify(this.c)} × ${this.n})`;
  }
}
class Deep {
  constructor(
    readonly depth: number,
    readonly arrays: boolean,
  ) {}
  text() {
    return this.arrays
      ? `${'['.repeat(this.depth)}1${']'.repeat(this.depth)}`
      : `${'{"a":'.repeat(this.depth)}1${'}'.repeat(this.depth)}`;
  }
  [fc.toStringMethod]() {
    return `deep(${this.arrays ? 'arrays' : 'objects'} × ${this.depth})`;
  }
}

/** JSON text of a generated body, with Huge and Deep values spliced in as text. */
function serialize(body: unknown): string {
  const parts: string[] = [];
  const json =
    JSON.stringify(body, (_k, v: unknown) =>
      v instanceof Huge || v instanceof Deep ? `\u0001${parts.push(v.text()) - 1}\u0001` : v,
    ) ?? 'null';
  return json.replace(/"\\u0001(\d+)\\u0001"/g, (_m, i: string) => parts[Number(i)]);
}
const huge = fc
  .tuple(fc.integer({ min: 1_000, max: 200_000 }), fc.constantFrom('x', '\u0000', 'é', '💥', '"'))
  .map(([n, c]) => new Huge(n, c));
const deep = fc
  .tuple(fc.integer({ min: 10, max: 10_000 }), fc.boolean())
  .map(([d, arrays]) => new Deep(d, arrays));

const junk: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 3, arbitrary: json },
  { weight: 1, arbitrary: huge },
  { weight: 1, arbitrary: deep },
);

type Path = (string | number)[];

function setPath(target: unknown, path: Path, value: unknown, remove: boolean): unknown {
  if (path.length === 0) return remove ? {} : value;
  const root = (target !== null && typeof target === 'object' ? target : {}) as Record<
    string | number,
    unknown
  >;
  let cur = root;
  for (const k of path.slice(0, -1)) {
    if (cur[k] === null || typeof cur[k] !== 'object') cur[k] = typeof k === 'number' ? [] : {};
    cur = cur[k] as Record<string | number, unknown>;
  }
  const last = path[path.length - 1];
  if (remove) delete cur[last];
  else cur[last] = value;
  return root;
}

/** A valid body with one to three fields replaced by junk or removed. */
function nearValid(template: unknown, paths: Path[]): fc.Arbitrary<unknown> {
  const op = fc.record({ path: fc.constantFrom(...paths), value: junk, remove: fc.boolean() });
  return fc
    .array(op, { minLength: 1, maxLength: 3 })
    .map((ops) =>
      ops.reduce(
        (body, o) => setPath(body, o.path, o.value, o.remove && o.path.length > 0),
        structuredClone(template),
      ),
    );
}

interface Case {
  url: string;
  template: unknown;
  paths: Path[];
  /** Inputs always tried first: failures found earlier, kept as regressions. */
  examples?: unknown[];
}

const EXPERIMENT = {
  key: 'fz1',
  status: 'keep',
  value: 0.9,
  baseline: 1,
  premises: ['e1'],
  replicates: [0.91],
  code: { diff: '+x', paths: [{ path: 'train.py', added: 1, removed: 0 }] },
  description: 'd',
  hypothesis: 'h',
  resources: { memoryGb: 1, runtimeS: 2 },
  metadata: { seed: 1 },
};

const CASES: Case[] = [
  {
    url: '/v1/projects',
    template: projectBody('fz', {
      threshold: 0.6,
      protectedPaths: ['eval/**'],
      reproduction: { command: 'python train.py', replicates: 3, timeBudgetS: 300 },
    }),
    paths: [
      [],
      ['name'],
      ['metric'],
      ['metric', 'name'],
      ['metric', 'direction'],
      ['threshold'],
      ['weights'],
      ['weights', 'code'],
      ['sigma0'],
      ['nu0'],
      ['minEffect'],
      ['protectedPaths'],
      ['protectedPaths', 0],
      ['reproduction'],
      ['reproduction', 'replicates'],
      ['reproduction', 'command'],
      ['extra'],
    ],
  },
  {
    url: '/v1/projects/p/experiments',
    template: EXPERIMENT,
    paths: [
      [],
      ['key'],
      ['status'],
      ['value'],
      ['baseline'],
      ['premises'],
      ['premises', 0],
      ['replicates'],
      ['replicates', 0],
      ['code'],
      ['code', 'diff'],
      ['code', 'paths', 0],
      ['code', 'paths', 0, 'added'],
      ['description'],
      ['hypothesis'],
      ['resources', 'memoryGb'],
      ['metadata'],
      ['metadata', 'x'],
      ['metadata', 'seed'],
      ['extra'],
    ],
    examples: [
      { ...EXPERIMENT, description: 'a\u0000b' },
      { ...EXPERIMENT, metadata: { 'k\u0000': 1 } },
      { ...EXPERIMENT, hypothesis: 'x\ud800y' },
      { ...EXPERIMENT, metadata: { x: new Deep(5_000, false) } },
      [{ ...EXPERIMENT, metadata: { x: new Deep(100_000, true) } }],
    ],
  },
  {
    url: '/v1/projects/p/edges',
    template: { edges: [{ from: 'e0', to: 'e1' }] },
    paths: [
      [],
      ['edges'],
      ['edges', 0],
      ['edges', 0, 'from'],
      ['edges', 0, 'to'],
      ['edges', 1],
      ['extra'],
    ],
  },
  {
    url: '/v1/projects/p/gate',
    template: { experiment: 'e1', threshold: 0 },
    paths: [[], ['experiment'], ['threshold'], ['extra']],
  },
];

type Input = { kind: 'json'; body: unknown } | { kind: 'raw'; text: string };

function inputs(c: Case): fc.Arbitrary<Input> {
  const body = fc.oneof(
    { weight: 3, arbitrary: junk },
    { weight: 5, arbitrary: nearValid(c.template, c.paths) },
    {
      weight: 1,
      arbitrary: fc.array(nearValid(c.template, c.paths), { minLength: 1, maxLength: 5 }),
    },
  );
  return fc.oneof(
    { weight: 9, arbitrary: body.map((b): Input => ({ kind: 'json', body: b })) },
    {
      weight: 1,
      arbitrary: fc
        .string({ unit: 'binary', maxLength: 200 })
        .map((t): Input => ({ kind: 'raw', text: t })),
    },
  );
}

describe.each(ENGINES)('fuzzing write routes on %s', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(engine);
    expect(
      (await t.app.inject({ method: 'POST', url: '/v1/projects', payload: projectBody('p') }))
        .statusCode,
    ).toBe(201);
    const seed = [
      { key: 'e0', status: 'keep', value: 1 },
      { key: 'e1', status: 'keep', value: 0.98, premises: ['e0'] },
    ];
    expect(
      (await t.app.inject({ method: 'POST', url: '/v1/projects/p/experiments', payload: seed }))
        .statusCode,
    ).toBe(201);
  });
  afterAll(async () => t?.close());

  async function experiments(): Promise<string> {
    const rows = await t.db.handle.db
      .selectFrom('experiments')
      .innerJoin('projects', 'projects.id', 'experiments.project_id')
      .select(['experiments.key', 'experiments.content_hash'])
      .where('projects.name', '=', 'p')
      .orderBy('experiments.key')
      .execute();
    return JSON.stringify(rows);
  }

  for (const c of CASES) {
    it(`POST ${c.url}: never a 5xx, rejected requests change nothing`, async () => {
      let state = await experiments();
      await fc.assert(
        fc.asyncProperty(inputs(c), async (input) => {
          const payload = input.kind === 'json' ? serialize(input.body) : input.text;
          const res = await t.app.inject({
            method: 'POST',
            url: c.url,
            headers: { 'content-type': 'application/json' },
            payload,
          });
          const what = `${res.statusCode} ${res.body.slice(0, 300)} for ${payload.slice(0, 200)}`;
          expect(res.statusCode, what).toBeLessThan(500);
          expect(res.statusCode, what).toBeGreaterThanOrEqual(200);
          const after = await experiments();
          if (res.statusCode >= 400) {
            expect(res.headers['content-type'], what).toContain('application/problem+json');
            expect(after, `rejected request changed experiments: ${what}`).toBe(state);
          }
          state = after;
        }),
        {
          numRuns: NUM_RUNS,
          examples: (c.examples ?? []).map((body): [Input] => [{ kind: 'json', body }]),
        },
      );
    }, 180_000);
  }

  // Found by this fuzzer: graphology keeps adjacency in plain objects, so a node named like an
  // Object.prototype member ('constructor', 'toString', '__proto__') looks like an existing edge.
  it('refuses experiment keys that name Object.prototype members with a 400, not a 500', async () => {
    for (const key of ['constructor', 'toString', '__proto__']) {
      const r = await t.app.inject({
        method: 'POST',
        url: '/v1/projects/p/experiments',
        payload: { key, status: 'keep', value: 0.97, premises: ['e1'] },
      });
      expect(r.statusCode, `${key}: ${r.body}`).toBe(400);
      expect(r.json()).toMatchObject({ code: 'validation_failed', errors: [{ pointer: '/0/key' }] });
    }
  });
});

describe('JSON body guard', () => {
  it('points at NULs, unpaired surrogates and deep nesting', () => {
    expect(findJsonHazard({ a: [{ 'x/y': 'ok', b: 'a\u0000' }] })).toEqual({
      pointer: '/a/0/b',
      message: expect.stringContaining('NUL'),
    });
    expect(findJsonHazard({ 'x/y': ['\udc00'] })?.pointer).toBe('/x~1y/0');
    expect(findJsonHazard({ ['k\u0000']: 1 })?.message).toContain('key');
    expect(findJsonHazard(JSON.parse(`${'['.repeat(65)}${']'.repeat(65)}`))?.message).toContain(
      '64 levels',
    );
    expect(findJsonHazard(JSON.parse(`${'['.repeat(64)}${']'.repeat(64)}`))).toBeNull();
    expect(
      findJsonHazard({ ok: '💥 paired surrogates are fine', n: [1, null, true, { m: 'é' }] }),
    ).toBeNull();
  });

  it('leaves bodies that are not parsed JSON alone (results.tsv arrives as a Buffer)', () => {
    // NUL bytes would be a hazard in a JSON string; in a Buffer they are data, never walked:
    // not one byte or key of it is read.
    let reads = 0;
    const bytes = new Proxy(Buffer.alloc(4096, 0), {
      get: (t, k) => {
        if (typeof k === 'string' && /^\d+$/.test(k)) reads++;
        const v = Reflect.get(t, k, t);
        return typeof v === 'function' ? v.bind(t) : v;
      },
      ownKeys: (t) => {
        reads++;
        return Reflect.ownKeys(t);
      },
    });
    expect(findJsonHazard(bytes)).toBeNull();
    expect(findJsonHazard({ body: bytes })).toBeNull();
    expect(reads).toBe(0);
  });
});
