import { describe, expect, it } from 'vitest';
import { parseMetric, parseResultsTsv } from '../../../src/domain/ingest/index.js';
import { codes, HEADER, KARPATHY, rejection, tsv } from './fixtures.js';

describe('parseResultsTsv: the karpathy format', () => {
  const parsed = parseResultsTsv(KARPATHY);

  it('reads keys, values, statuses, descriptions and resources', () => {
    expect(parsed.metric).toBe('val_bpb');
    expect(parsed.columns).toEqual(['commit', 'val_bpb', 'memory_gb', 'status', 'description']);
    expect(parsed.rows.map((r) => [r.key, r.status, r.value])).toEqual([
      ['baseline', 'keep', 0.9979],
      ['bea057b', 'keep', 0.986041],
      ['c0ffee1', 'discard', 0.99],
      ['dead123', 'crash', null],
      ['7f2a65c', 'keep', 0.981773],
    ]);
    expect(parsed.rows[1]).toMatchObject({
      line: 3,
      seq: 1,
      description: 'halve batch',
      resources: { memoryGb: 43.9 },
    });
    expect(parsed.warnings).toEqual([]);
  });

  it('chains premises through kept rows only, with the premise value as baseline', () => {
    expect(parsed.rows.map((r) => r.premises)).toEqual([
      [],
      ['baseline'],
      ['bea057b'],
      ['bea057b'],
      ['bea057b'],
    ]);
    expect(parsed.rows[0].baseline).toBeUndefined();
    expect(parsed.rows[2].baseline).toBe(0.986041);
    expect(parsed.rows[4].baseline).toBe(0.986041);
  });

  it('stores a crash value as null and keeps the raw cell', () => {
    expect(parsed.rows[3].metadata).toMatchObject({
      value: '0.000000',
      columns: { memory_gb: '0.0' },
    });
  });
});

describe('parseResultsTsv: text variations', () => {
  it('reads CRLF, a BOM (string or bytes) and a missing final newline the same', () => {
    const base = parseResultsTsv(KARPATHY).rows;
    expect(parseResultsTsv(KARPATHY.replace(/\n/g, '\r\n')).rows).toEqual(base);
    expect(parseResultsTsv('\uFEFF' + KARPATHY).rows).toEqual(base);
    expect(parseResultsTsv(new TextEncoder().encode('\uFEFF' + KARPATHY)).rows).toEqual(base);
    expect(parseResultsTsv(KARPATHY.trimEnd()).rows).toEqual(base);
    const utf16 = new Uint8Array([
      0xff,
      0xfe,
      ...new Uint8Array(new Uint16Array([...KARPATHY].map((c) => c.charCodeAt(0))).buffer),
    ]);
    expect(parseResultsTsv(utf16).rows).toEqual(base);
    const be = new Uint8Array(utf16.length);
    for (let i = 0; i < utf16.length; i += 2) [be[i], be[i + 1]] = [utf16[i + 1], utf16[i]];
    expect(parseResultsTsv(be).rows).toEqual(base);
  });

  it('skips comments and blank lines, keeps line numbers, reads a direction comment', () => {
    const parsed = parseResultsTsv(
      tsv(
        '# metric_direction: higher_is_better',
        '',
        'commit\tscore\tstatus',
        '# a note',
        'a1\t1\tkeep',
        '',
        '\t\t',
        'a2\t2\tdiscard',
      ),
    );
    expect(parsed.rows.map((r) => [r.key, r.line])).toEqual([
      ['a1', 5],
      ['a2', 8],
    ]);
    expect(parsed.direction).toBe('maximize');
  });

  it('keeps what it can of rows with missing or extra fields, and warns', () => {
    const parsed = parseResultsTsv(
      tsv(
        HEADER,
        'aaa1111\t1.0\t40',
        'bbb2222\t0.9\t40\tkeep\tfine\textra\tmore',
        'ccc3333\t0.8\t40\tkeep\tok\t',
      ),
    );
    const [short, long, trailingTab] = parsed.rows;
    expect(short).toMatchObject({
      key: 'aaa1111',
      value: 1,
      status: 'unknown',
      metadata: { raw: 'aaa1111\t1.0\t40' },
    });
    expect(short.description).toBeUndefined();
    expect(long).toMatchObject({
      status: 'keep',
      description: 'fine',
      metadata: { extraFields: ['extra', 'more'] },
    });
    expect(trailingTab.metadata).toEqual({ columns: { memory_gb: '40' } });
    expect(codes(parsed)).toEqual(['2:field_count', '2:missing_status', '3:field_count']);
  });

  it('splits rows written with literal \\t', () => {
    const parsed = parseResultsTsv(
      tsv(
        HEADER,
        'e626c6a\\t1.095310\\t-\\tdiscard\\tHEAD_DIM 64',
        'abc1234\t1.0\t1\tkeep\tuses a literal \\t in text',
      ),
    );
    expect(parsed.rows[0]).toMatchObject({
      key: 'e626c6a',
      value: 1.09531,
      status: 'discard',
      description: 'HEAD_DIM 64',
    });
    expect(parsed.rows[1].description).toBe('uses a literal \\t in text');
    expect(codes(parsed)).toEqual(['2:escaped_tabs']);
  });

  it('skips a repeated header line with a warning', () => {
    const parsed = parseResultsTsv(
      tsv(HEADER, 'a111111\t1\t1\tkeep\tx', HEADER, 'b222222\t0.9\t1\tkeep\ty'),
    );
    expect(parsed.rows.map((r) => r.key)).toEqual(['a111111', 'b222222']);
    expect(codes(parsed)).toEqual(['3:repeated_header']);
  });

  it('repairs a stray NUL byte in an otherwise textual file', () => {
    const parsed = parseResultsTsv(KARPATHY.replace('wider mlp', 'wider\0mlp'));
    expect(parsed.rows[2].description).toBe('wider\uFFFDmlp');
    expect(codes(parsed)).toEqual(['4:invalid_encoding']);
  });

  it('repairs a few invalid UTF-8 bytes in a byte body', () => {
    const bytes = new TextEncoder().encode(KARPATHY.replace('wider mlp', 'wider#mlp'));
    bytes[bytes.indexOf(0x23)] = 0xff;
    const parsed = parseResultsTsv(bytes);
    expect(parsed.rows[2].description).toBe('wider\uFFFDmlp');
    expect(codes(parsed)).toEqual(['4:invalid_encoding']);
    expect(parsed.rows[2].metadata?.raw).toBe('c0ffee1\t0.990000\t43.9\tdiscard\twider\uFFFDmlp');
  });
});

describe('parseResultsTsv: metric cells', () => {
  it.each([
    ['1.23e-4', 0.000123],
    ['-0.5', -0.5],
    ['+2', 2],
    ['.5', 0.5],
    ['7.', 7],
    ['0.98%', 0.98],
    ['"1.5"', 1.5],
  ] as const)('%s → %s', (raw, value) => {
    expect(parseMetric(raw)).toMatchObject({ kind: 'number', value });
  });
  it.each(['', '-', '—', 'NA', 'n/a', 'null', 'FAILED', 'DIVERGED', 'NaN', 'inf', '1e999'])(
    '%s → missing',
    (raw) => {
      expect(parseMetric(raw).kind).toBe('missing');
    },
  );
  it.each(['spsa', '1,234.5', '12ms', '0x10', '1.2.3'])('%s → invalid', (raw) => {
    expect(parseMetric(raw).kind).toBe('invalid');
  });

  it('nulls placeholders, warning on non-crash rows only', () => {
    const parsed = parseResultsTsv(
      tsv(
        HEADER,
        'a111111\t1.0\t1\tkeep\tx',
        'b222222\t-\t1\tcrash\ty',
        'c333333\tNA\t1\tdiscard\tz',
        'd444444\tFAILED\t1\tdiscard\tw',
        'e555555\tspsa\t1\tdiscard\tv',
        'f666666\t\t1\tkeep\tu',
        'a777777\t0.98%\t1\tdiscard\tpct',
      ),
    );
    expect(parsed.rows.map((r) => r.value)).toEqual([1, null, null, null, null, null, 0.98]);
    expect(codes(parsed)).toEqual([
      '4:missing_metric',
      '5:missing_metric',
      '6:invalid_metric',
      '7:missing_metric',
    ]);
    expect(parsed.rows[6].metadata).toMatchObject({ value: '0.98%' });
    // a kept row without a value is still a premise; its children get a null baseline
    expect(parsed.rows[6]).toMatchObject({ premises: ['f666666'], baseline: null });
  });
});

describe('parseResultsTsv: keys', () => {
  it('disambiguates repeated commits deterministically and names empty ones by line', () => {
    const parsed = parseResultsTsv(
      tsv(
        HEADER,
        'abc1234\t1\t1\tkeep\ta',
        'abc1234\t0.9\t1\tkeep\tb',
        '\t0.8\t1\tdiscard\tc',
        'abc1234\t0.7\t1\tkeep\td',
        '—\t0.6\t1\tdiscard\te',
        'abc1234~2\t0.5\t1\tdiscard\tf',
        'abc1234-dirty\t0.4\t1\tdiscard\tg',
        'n/a\t0.3\t1\tdiscard\th',
        'n/a\t0.3\t1\tdiscard\ti',
      ),
    );
    expect(parsed.rows.map((r) => r.key)).toEqual([
      'abc1234',
      'abc1234~2',
      'row-4',
      'abc1234~3',
      'row-6',
      'abc1234~2~2',
      'abc1234-dirty',
      'row-9',
      'row-10',
    ]);
    expect(parsed.rows[1].metadata).toMatchObject({ commit: 'abc1234' });
    expect(parsed.rows[4].metadata).toMatchObject({ commit: '—' });
    expect(codes(parsed)).toEqual([
      '3:duplicate_commit',
      '5:duplicate_commit',
      '7:duplicate_commit',
    ]);
    expect(parsed.rows[3].premises).toEqual(['abc1234~2']);
  });

  it('sanitizes keys outside the key alphabet and bounds their length', () => {
    const long = 'x'.repeat(200);
    const parsed = parseResultsTsv(
      tsv(
        HEADER,
        'my commit!\t1\t1\tkeep\ta',
        `${long}\t1\t1\tkeep\tb`,
        `${long}\t1\t1\tkeep\tc`,
        'exp_ü\t1\t1\tkeep\td',
      ),
    );
    expect(parsed.rows.map((r) => r.key)).toEqual([
      'my_commit_',
      'x'.repeat(128),
      'x'.repeat(126) + '~2',
      'exp__',
    ]);
    expect(parsed.rows[0].metadata).toMatchObject({ commit: 'my commit!' });
    expect(codes(parsed)).toEqual([
      '2:sanitized_key',
      '3:sanitized_key',
      '4:sanitized_key',
      '4:duplicate_commit',
      '5:sanitized_key',
    ]);
  });

  it('uses row-<line> keys when there is no key column', () => {
    const parsed = parseResultsTsv(tsv('val_loss\tstatus', '2.0\tkeep', '1.9\tkeep'));
    expect(parsed.rows.map((r) => [r.key, r.premises])).toEqual([
      ['row-2', []],
      ['row-3', ['row-2']],
    ]);
  });
});

describe('parseResultsTsv: rejected files', () => {
  it('rejects binary content with the offending lines', () => {
    const bytes = new Uint8Array(4096);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 256;
    const err = rejection(() => parseResultsTsv(bytes));
    expect(err.code).toBe('validation_failed');
    expect(err.errors?.[0]).toMatchObject({ code: 'binary_content', line: expect.any(Number) });
    expect(rejection(() => parseResultsTsv('commit\tval\n\0\0\0\0\n')).message).toMatch(/binary/);
  });

  it('rejects empty input, comments only, a missing header and a header without a metric', () => {
    expect(rejection(() => parseResultsTsv('')).errors).toEqual([
      expect.objectContaining({ line: 1, code: 'no_header' }),
    ]);
    expect(rejection(() => parseResultsTsv('\n  \n')).message).toMatch(/empty/);
    expect(rejection(() => parseResultsTsv('# only\n# comments\n')).message).toMatch(/no header/);
    const noHeader = rejection(() => parseResultsTsv('# c\nabc1234\t0.99\t44.0\tkeep\tdesc\n'));
    expect(noHeader.errors).toEqual([expect.objectContaining({ line: 2, code: 'no_header' })]);
    expect(
      rejection(() => parseResultsTsv('commit,val_bpb,status\na,1,keep\n')).errors?.[0].message,
    ).toMatch(/comma/);
    const noMetric = rejection(() =>
      parseResultsTsv(tsv('commit\tstatus\tdescription', 'a\tkeep\tx')),
    );
    expect(noMetric.errors).toEqual([
      expect.objectContaining({ line: 1, code: 'no_metric_column' }),
    ]);
    const headerOnly = parseResultsTsv(tsv(HEADER), { metricName: 'val_bpb' });
    expect(headerOnly.rows).toEqual([]);
    expect(headerOnly.metric).toBe('val_bpb');
  });

  it('rejects input above maxBytes as payload_too_large', () => {
    expect(rejection(() => parseResultsTsv(KARPATHY, { maxBytes: 100 })).code).toBe(
      'payload_too_large',
    );
    expect(
      rejection(() => parseResultsTsv(new TextEncoder().encode(KARPATHY), { maxBytes: 100 })).code,
    ).toBe('payload_too_large');
    expect(rejection(() => parseResultsTsv('é'.repeat(60), { maxBytes: 100 })).code).toBe(
      'payload_too_large',
    );
    expect(parseResultsTsv(KARPATHY, { maxBytes: KARPATHY.length }).rows).toHaveLength(5);
  });

  it('in strict mode, rejects any warning as an error with its line', () => {
    expect(parseResultsTsv(KARPATHY, { strict: true }).rows).toHaveLength(5);
    const messy = tsv(
      HEADER,
      'a111111\t1\t1\tkeep\tx',
      'a111111\t0.9\t1\tpromising\ty',
      'b222222\tNA\t1\tdiscard',
    );
    const err = rejection(() => parseResultsTsv(messy, { strict: true }));
    expect(err.code).toBe('validation_failed');
    expect(err.errors?.map((e) => `${e.line}:${e.code}`)).toEqual([
      '3:duplicate_commit',
      '3:unknown_status',
      '4:field_count',
      '4:missing_metric',
    ]);
    expect(err.errors?.[0].pointer).toBe('line 3');
  });
});

describe('parseResultsTsv: metric column choice', () => {
  it('uses the column named like the project metric, else guesses with a warning', () => {
    const text = tsv('commit\tval_loss\tVal_BPB\tstatus', 'a\t2.0\t1.0\tkeep');
    expect(parseResultsTsv(text, { metricName: 'val_bpb' }).rows[0].value).toBe(1);
    expect(parseResultsTsv(text, { metricName: 'val-bpb' }).metric).toBe('Val_BPB');
    const guessed = parseResultsTsv(text, { metricName: 'accuracy' });
    expect(guessed.metric).toBe('val_loss');
    expect(codes(guessed)).toEqual(['1:metric_column_not_found']);
  });

  it('skips text, id and timestamp columns when the second column is not numeric', () => {
    const p = parseResultsTsv(
      tsv(
        'iteration\ttimestamp\tmodel\trun_id\tdecision\tval_bpb\tcommit',
        '1\t2026-03-19\tgpt\tr1\tkeep\t2.3\tabc1234',
      ),
    );
    expect(p.metric).toBe('val_bpb');
    expect(p.roles).toMatchObject({ key: 'commit', status: 'decision' });
    expect(p.rows[0].metadata).toMatchObject({
      columns: { iteration: '1', timestamp: '2026-03-19', model: 'gpt', run_id: 'r1' },
    });
  });
});
