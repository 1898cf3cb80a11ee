import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { redactSecrets, redactUrl } from '../../src/http/log-redact.js';
import { createTestDb, type TestDb } from '../helpers/db.js';

const TOKEN = 'ecv_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd';
const ADMIN = 'ecv_admin_secret_for_the_redaction_test_0000';

/**
 * Issue 17 (leaks): a token in the query string is refused, and must not reach the log either;
 * nor may a bearer header or a password in a URL. The logger's real output of real requests
 * over a socket is captured and searched.
 */
describe('logs of a real server', () => {
  let db: TestDb;
  let app: FastifyInstance;
  let url: string;
  let out = '';
  beforeAll(async () => {
    db = await createTestDb('pglite');
    const stream = new Writable({
      write(chunk, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    app = await buildApp({ db: db.handle, config: loadConfig({ ECV_AUTH: 'on', ECV_ADMIN_TOKEN: ADMIN }) }, { logger: { level: 'info', stream } });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('hide ?token=ecv_…, Bearer values and URL passwords, and keep the path and parameter names', async () => {
    const refused = await fetch(`${url}/v1/projects?token=${TOKEN}&limit=5`);
    expect(refused.status).toBe(401);
    const bad = await fetch(`${url}/v1/projects/x?password=hunter2`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(bad.status).toBe(401);
    const ok = await fetch(`${url}/v1/projects?api_key=${TOKEN}`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(ok.status).toBe(400); // an unknown query parameter
    app.log.warn({ detail: `connect to postgres://ecv:s3cret-pw@db:5432/ecv failed`, nested: { header: `Bearer ${TOKEN}` } }, `retrying with ${TOKEN}`);
    await new Promise((r) => setTimeout(r, 50));

    expect(out).toContain('/v1/projects?token=[redacted]&limit=[redacted]');
    expect(out).toContain('"statusCode":401');
    for (const secret of [TOKEN, ADMIN, 'hunter2', 's3cret-pw', TOKEN.slice(4, 20)]) expect(out).not.toContain(secret);
    expect(out).toContain('postgres://ecv:[redacted]@db:5432/ecv');
  });
});

describe('redactSecrets', () => {
  it('hides credential-shaped values and leaves other text alone', () => {
    expect(redactSecrets(`token ${TOKEN} used`)).toBe('token ecv_[redacted] used');
    expect(redactSecrets('Authorization: Bearer abc.def')).toBe('Authorization: Bearer [redacted]');
    expect(redactSecrets('https://u:p4ss@h/x')).toBe('https://u:[redacted]@h/x');
    expect(redactSecrets('AWS_SECRET_ACCESS_KEY=wJalr OTHER=1')).toBe('AWS_SECRET_ACCESS_KEY=[redacted] OTHER=1');
    expect(redactSecrets('{"password": "x", "name": "y"}')).toBe('{"password": "[redacted]", "name": "y"}');
    expect(redactSecrets('project nanogpt, experiment a1b2c3d, 12 rows')).toBe('project nanogpt, experiment a1b2c3d, 12 rows');
    expect(redactUrl('/v1/projects/p/experiments?after=3&limit=10')).toBe('/v1/projects/p/experiments?after=[redacted]&limit=[redacted]');
  });
});
