import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { main } from '../../src/cli/main.js';

const ADMIN = 'cli-admin-token-0123456789';

describe.each(ENGINES)('ecv token over HTTP on %s', (engine) => {
  let t: TestApp;
  let url: string;
  beforeAll(async () => {
    t = await buildTestApp(engine, { ECV_AUTH: 'on', ECV_ADMIN_TOKEN: ADMIN });
    url = await t.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => t?.close());
  afterEach(() => vi.restoreAllMocks());

  async function run(...argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    const code = await main(['token', ...argv]);
    vi.restoreAllMocks();
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('creates, lists and revokes tokens', async () => {
    const created = await run(
      'create',
      '--role',
      'loop',
      '--project',
      'alpha',
      '--project',
      'beta',
      '--label',
      'night',
      '--json',
      '--url',
      url,
      '--token',
      ADMIN,
    );
    expect(created.code, created.err).toBe(0);
    const tok = JSON.parse(created.out);
    expect(tok).toMatchObject({ role: 'loop', projects: ['alpha', 'beta'], label: 'night' });

    const plain = await run(
      'create',
      '--role',
      'reader',
      '-p',
      'alpha',
      '--url',
      url,
      '--token',
      ADMIN,
    );
    expect(plain.out).toMatch(/token \(shown once, store it now\): ecv_/);

    const list = await run('list', '--url', url, '--token', ADMIN);
    expect(list.code).toBe(0);
    expect(list.out).toContain(tok.id);
    expect(list.out).not.toContain(tok.token);

    expect((await run('revoke', tok.id, '--url', url, '--token', ADMIN)).code).toBe(0);
    const res = await fetch(`${url}/v1/projects`, {
      headers: { authorization: `Bearer ${tok.token}` },
    });
    expect(res.status).toBe(401);
    expect((await run('list', '--json', '--url', url, '--token', ADMIN)).out).toMatch(
      /"revokedAt": "\d{4}-/,
    );
  });

  it('reports problems and usage errors with exit 2', async () => {
    const denied = await run('list', '--url', url, '--token', 'ecv_wrong');
    expect(denied.code).toBe(2);
    expect(denied.err).toMatch(/unknown or revoked/);
    const bad = await run('create', '--role', 'loop', '--url', url, '--token', ADMIN);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/at least one project/);
    expect((await run('revoke', 'nope', '--url', url, '--token', ADMIN)).code).toBe(2);
    expect((await run('frobnicate')).code).toBe(2);
    expect((await run('create')).code).toBe(2);
    expect((await run('revoke')).code).toBe(2);
  });
});
