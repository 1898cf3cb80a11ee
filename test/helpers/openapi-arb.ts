import fc from 'fast-check';

/**
 * fast-check arbitraries generated from an OpenAPI 3.1 document: one request per operation,
 * with path, query and body values drawn from their schemas, then (most of the time) one
 * mutation that breaks them. What Schemathesis does, small enough to run in CI.
 */
export type Schema = Record<string, unknown>;
export interface Operation {
  method: string;
  path: string;
  op: {
    parameters?: { in: string; name: string; required?: boolean; schema: Schema }[];
    requestBody?: { content: Record<string, { schema: Schema }> };
    responses: Record<string, { content?: Record<string, { schema?: Schema }> }>;
    security?: unknown[];
  };
}
export interface OpenApiDoc {
  paths: Record<string, Record<string, Operation['op']>>;
  components: { schemas: Record<string, Schema> };
}
export interface FuzzRequest {
  op: Operation;
  path: string;
  headers: Record<string, string>;
  body?: string;
  mutation: string;
}

export const operationsOf = (doc: OpenApiDoc): Operation[] =>
  Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })));

/** Stands for a number JSON.stringify cannot write: spliced into the text as `1e309`. */
const NON_FINITE = '\u0001nonfinite\u0001';
const toJson = (v: unknown) => JSON.stringify(v).replaceAll(`"${NON_FINITE}"`, '1e309');

/** Values the test seeds, so generated requests reach existing rows as well as missing ones. */
export interface Seeds {
  /** Property or parameter name → known-good values. */
  [name: string]: string[];
}

const str = fc.string({ maxLength: 12 });
const junkValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, '', -1, 0, 1e30, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 2, NON_FINITE, '1e309', '%zz', '\u0000', '\ud800', 'x'.repeat(300), {}, []),
  fc.jsonValue({ maxDepth: 2 }),
  str,
);
const junkParam = fc.oneof(fc.constantFrom('', '1e30', '-1', '2147483648', 'NaN', 'true', '%zz', '%', '..', '.', 'a/b', 'x'.repeat(600), '\u00e9', '%00'), str);

/** An arbitrary for values of `schema` ($refs resolved in `doc`); bounded so requests stay small. */
export function fromSchema(doc: OpenApiDoc, schema: Schema, seeds: Seeds = {}, name = '', depth = 0): fc.Arbitrary<unknown> {
  const s = schema.$ref ? doc.components.schemas[String(schema.$ref).replace('#/components/schemas/', '')] : schema;
  const seeded = seeds[name] && typeof s.type === 'string' && s.type === 'string' ? seeds[name] : undefined;
  const own = fromOwnSchema(doc, s, seeds, depth);
  return seeded ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...seeded) }, { weight: 1, arbitrary: own }) : own;
}

function fromOwnSchema(doc: OpenApiDoc, s: Schema, seeds: Seeds, depth: number): fc.Arbitrary<unknown> {
  if ('const' in s) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]));
  const alts = (s.oneOf ?? s.anyOf) as Schema[] | undefined;
  if (alts) return fc.oneof(...alts.map((a) => fromSchema(doc, a, seeds, '', depth)));
  if (Array.isArray(s.type)) return fc.oneof(...(s.type as string[]).map((t) => fromOwnSchema(doc, { ...s, type: t }, seeds, depth)));
  const num = (k: string) => (typeof s[k] === 'number' ? (s[k] as number) : undefined);
  switch (s.type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({ min: Math.max(num('minimum') ?? -1000, -(2 ** 31)), max: Math.min(num('maximum') ?? 1000, 2 ** 31 - 1) });
    case 'number': {
      const min = num('minimum') ?? num('exclusiveMinimum') ?? -1000;
      const max = num('maximum') ?? Math.max(min + 1000, 1000);
      return fc.double({ min, max, noNaN: true, noDefaultInfinity: true, minExcluded: 'exclusiveMinimum' in s });
    }
    case 'string': {
      if (s.format === 'uuid') return fc.uuid();
      if (s.format === 'date-time') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
      if (typeof s.pattern === 'string') return fc.stringMatching(new RegExp(s.pattern)).filter((v) => v.length <= (num('maxLength') ?? 200));
      return fc.string({ minLength: num('minLength') ?? 0, maxLength: Math.min(num('maxLength') ?? 20, 20) });
    }
    case 'array': {
      if (depth > 4) return fc.constant([]);
      const items = fromSchema(doc, (s.items as Schema) ?? {}, seeds, '', depth + 1);
      const minLength = num('minItems') ?? 0;
      return fc.array(items, { minLength, maxLength: Math.max(minLength, Math.min(num('maxItems') ?? 3, 3)) });
    }
    case 'object': {
      if (depth > 4) return fc.constant({});
      const props = (s.properties ?? {}) as Record<string, Schema>;
      const record = fc.record(
        Object.fromEntries(Object.entries(props).map(([k, v]) => [k, fromSchema(doc, v, seeds, k, depth + 1)])),
        { requiredKeys: (s.required as string[] | undefined) ?? [] },
      );
      if (s.additionalProperties !== true) return record;
      const extra = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.oneof(str, fc.integer()), { maxKeys: 3 });
      return fc.tuple(record, extra).map(([r, e]) => ({ ...e, ...r }));
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** A few rows of a results table (the TSV body), sometimes with broken cells. */
const tsvBody = fc
  .array(fc.tuple(fc.stringMatching(/^[a-f0-9]{7}$/), fc.oneof(fc.double({ min: 0, max: 2, noNaN: true }).map(String), fc.constantFrom('1e309', 'inf', 'NaN', '-', 'x')), fc.constantFrom('keep', 'discard', 'crash', 'KEEP', '??')), { maxLength: 5 })
  .map((rows) => ['commit\tval_bpb\tstatus\tdescription', ...rows.map(([c, v, st]) => `${c}\t${v}\t${st}\td`)].join('\n') + '\n');

/** `v` as a path segment: percent-encoded, dots too (`.`/`..` would be resolved as segments). */
const segment = (v: string) => encodeURIComponent(v).replace(/\./g, '%2E');

type Parts = { params: Record<string, string>; query: [string, string][]; body?: unknown; bodyText?: string; type?: string; token: 'admin' | 'none' | 'bad' };

function render(o: Operation, p: Parts, mutation: string, secrets: { admin: string }): FuzzRequest {
  const path = o.path.replace(/\{(\w+)\}/g, (_m, k: string) => p.params[k] ?? '');
  const qs = p.query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  const headers: Record<string, string> = {};
  if (p.token === 'admin') headers.authorization = `Bearer ${secrets.admin}`;
  if (p.token === 'bad') headers.authorization = 'Bearer ecv_not_a_token';
  // Long-polls are not under test here: a `wait` beyond a blink would only make the run slow.
  if (p.body && typeof p.body === 'object' && typeof (p.body as { wait?: unknown }).wait === 'number' && (p.body as { wait: number }).wait > 0.2)
    p = { ...p, body: { ...(p.body as object), wait: 0 } };
  const body = p.bodyText ?? (p.body !== undefined ? toJson(p.body) : undefined);
  if (body !== undefined) headers['content-type'] = p.type ?? 'application/json';
  const req = { op: o, path: qs ? `${path}?${qs}` : path, headers, body, mutation };
  // fast-check prints counterexamples with this: the request, not the whole operation.
  return Object.assign(req, { [fc.toStringMethod]: () => `${o.method} ${req.path} [${mutation}] ${JSON.stringify(headers)} ${body ?? ''}` });
}

/** One operation's requests: valid ones and mutated ones. */
export function requestsFor(doc: OpenApiDoc, o: Operation, seeds: Seeds, secrets: { admin: string }): fc.Arbitrary<FuzzRequest> {
  const params = o.op.parameters ?? [];
  const pathParams = params.filter((x) => x.in === 'path');
  const queryParams = params.filter((x) => x.in === 'query');
  const media = o.op.requestBody ? Object.keys(o.op.requestBody.content) : [];
  const tsv = media.some((m) => m.startsWith('text/'));
  const bodySchema = media.includes('application/json') ? o.op.requestBody!.content['application/json'].schema : undefined;
  const queryValue = (x: { name: string; schema: Schema }) =>
    fromSchema(doc, x.schema, seeds, x.name).map((v): [string, string][] => (Array.isArray(v) ? v.map((e) => [x.name, String(e)]) : [[x.name, String(v)]]));
  const valid: fc.Arbitrary<Parts> = fc.record({
    params: fc.record(Object.fromEntries(pathParams.map((x) => [x.name, fromSchema(doc, x.schema, seeds, x.name).map((v) => segment(String(v)))]))) as fc.Arbitrary<Record<string, string>>,
    query: fc.tuple(...queryParams.map((x) => fc.option(queryValue(x), { nil: [] }))).map((l) => l.flat()),
    body: bodySchema ? fromSchema(doc, bodySchema, seeds) : fc.constant(undefined),
    bodyText: tsv ? fc.oneof({ weight: 4, arbitrary: tsvBody }, { weight: 1, arbitrary: fc.string({ maxLength: 50 }) }) : fc.constant(undefined),
    type: fc.constant(tsv ? 'text/tab-separated-values' : undefined),
    token: fc.constant('admin' as const),
  });
  const mutations: [string, (p: Parts) => fc.Arbitrary<Parts>][] = [['valid', (p) => fc.constant(p)]];
  if (pathParams.length)
    mutations.push(['path param', (p) => fc.tuple(fc.constantFrom(...pathParams.map((x) => x.name)), junkParam, fc.boolean()).map(([k, v, raw]) => ({ ...p, params: { ...p.params, [k]: raw ? segment(v).replace(/%25/g, '%') : segment(v) } }))]);
  if (queryParams.length) mutations.push(['query param', (p) => fc.tuple(fc.constantFrom(...queryParams.map((x) => x.name)), junkParam).map(([k, v]) => ({ ...p, query: [...p.query.filter(([q]) => q !== k), [k, v]] }))]);
  mutations.push(['unknown query param', (p) => junkParam.map((v) => ({ ...p, query: [...p.query, ['zz', v]] }))]);
  if (bodySchema) {
    mutations.push(['body field', (p) => fc.tuple(fc.string({ maxLength: 10 }), junkValue).map(([k, v]) => ({ ...p, body: replaceSomewhere(p.body, k, v) }))]);
    mutations.push(['body junk', (p) => junkValue.map((v) => ({ ...p, body: v }))]);
    mutations.push(['body text', (p) => fc.string({ maxLength: 40 }).map((t) => ({ ...p, bodyText: t }))]);
  }
  if (media.length) mutations.push(['content type', (p) => fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream', 'multipart/form-data; boundary=x').map((type) => ({ ...p, type, bodyText: p.bodyText ?? toJson(p.body) }))]);
  if (o.op.security === undefined) mutations.push(['token', (p) => fc.constantFrom('none' as const, 'bad' as const).map((token) => ({ ...p, token }))]);
  return fc
    .tuple(valid, fc.constantFrom(...mutations.map((_, i) => i)), fc.boolean())
    .chain(([p, i, keep]) => (keep ? fc.constant({ p, name: 'valid' }) : mutations[i][1](p).map((q) => ({ p: q, name: mutations[i][0] }))))
    .map(({ p, name }) => render(o, p, name, secrets));
}

/** `body` with one property (at the top or one level down) set to `v`, or added as `k`. */
function replaceSomewhere(body: unknown, k: string, v: unknown): unknown {
  if (body === null || typeof body !== 'object') return { [k || 'x']: v };
  const copy = structuredClone(body) as Record<string, unknown>;
  const target = Array.isArray(copy) ? (copy[0] as Record<string, unknown>) : copy;
  if (target === null || typeof target !== 'object') return copy;
  const keys = Object.keys(target);
  const key = keys.length && k.length % 3 !== 0 ? keys[k.length % keys.length] : k || 'extra';
  const inner = target[key];
  if (inner && typeof inner === 'object' && !Array.isArray(inner) && k.length % 2 === 0) {
    const ik = Object.keys(inner);
    (inner as Record<string, unknown>)[ik.length ? ik[0] : 'x'] = v;
  } else target[key] = v;
  return copy;
}
