import { parseArgs } from 'node:util';
import { CLIENT_OPTIONS, openClientFromFlags, raiseProblem } from './client.js';
import { EXIT } from './exit.js';

const USAGE = `usage: ecv token create --role admin|loop|runner|reader [--project p ...] [--label text] [--json]
       ecv token list [--json]
       ecv token revoke <id>
Talks to --url/ECV_URL with an admin token (--token or ECV_TOKEN); without a URL it works on
the embedded database (--data-dir).`;

interface TokenView {
  id: string;
  role: string;
  projects: string[];
  label: string | null;
  createdAt: string;
  revokedAt?: string | null;
  token?: string;
}

/** `ecv token create | list | revoke`: manages API tokens through the tokens API. */
export async function tokenCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      role: { type: 'string' },
      project: { type: 'string', short: 'p', multiple: true },
      label: { type: 'string' },
      json: { type: 'boolean' },
      limit: { type: 'string' },
      ...CLIENT_OPTIONS,
    },
  });
  const [action, ...rest] = positionals;
  const valid =
    (action === 'create' && values.role && rest.length === 0) ||
    (action === 'list' && rest.length === 0) ||
    (action === 'revoke' && rest.length === 1);
  if (!valid) {
    console.error(USAGE);
    return EXIT.usage;
  }
  const client = await openClientFromFlags(values);
  try {
    if (action === 'create') {
      const body = {
        role: values.role,
        projects: values.project ?? [],
        ...(values.label ? { label: values.label } : {}),
      };
      const res = await client.request<TokenView>('POST', '/v1/tokens', body);
      if (res.status !== 201) raiseProblem(res);
      const t = res.body;
      if (values.json) console.log(JSON.stringify(t, null, 2));
      else {
        console.log(
          `created ${t.role} token ${t.id} for ${t.projects.length ? t.projects.join(', ') : 'every project'}`,
        );
        console.log(`token (shown once, store it now): ${t.token}`);
      }
      return EXIT.ok;
    }
    if (action === 'list') {
      const res = await client.request<{ items: TokenView[] }>(
        'GET',
        `/v1/tokens?limit=${encodeURIComponent(values.limit ?? '1000')}`,
      );
      if (res.status !== 200) raiseProblem(res);
      if (values.json) console.log(JSON.stringify(res.body.items, null, 2));
      else
        for (const t of res.body.items) {
          const state = t.revokedAt ? `revoked ${t.revokedAt}` : 'active';
          console.log(
            `${t.id}  ${t.role.padEnd(6)}  ${(t.projects.join(',') || '*').padEnd(20)}  ${state.padEnd(10)}  ${t.label ?? ''}`.trimEnd(),
          );
        }
      return EXIT.ok;
    }
    const id = rest[0];
    const res = await client.request('DELETE', `/v1/tokens/${encodeURIComponent(id)}`);
    if (res.status !== 204) raiseProblem(res);
    console.log(`revoked ${id}`);
    return EXIT.ok;
  } finally {
    await client.close();
  }
}
