/**
 * A small OpenAI-compatible server on 127.0.0.1 for tests (SPEC §9: never the network).
 * POST /v1/chat/completions answers by a script: a JSON review, a delay beyond the client's
 * timeout, an HTTP error, malformed JSON content, or a refusal. Every call is recorded.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeBehaviour =
  | { kind: 'answer'; content: unknown }
  | { kind: 'delay'; ms: number; content?: unknown }
  | { kind: 'status'; status: number; message?: string }
  | { kind: 'malformed'; content?: string }
  | { kind: 'refusal'; text?: string };

export interface ChatBody {
  model: string;
  messages: { role: string; content: string }[];
  response_format?: {
    type: string;
    json_schema?: { name: string; strict?: boolean; schema: Record<string, unknown> };
  };
  [k: string]: unknown;
}

export interface FakeCall {
  body: ChatBody;
  /** Concatenated message contents (what markers are looked up in). */
  text: string;
  authorization: string | undefined;
  behaviour: FakeBehaviour['kind'];
}

export type FakeScript = (call: { body: ChatBody; text: string }) => FakeBehaviour;

export interface FakeOpenAI {
  /** Base URL for the openai client, ending in /v1. */
  baseURL: string;
  calls: FakeCall[];
  /** Calls whose messages contain `needle`. */
  callsWith(needle: string): number;
  script: FakeScript;
  close(): Promise<void>;
}

/** A clean review: no findings, risk none. */
export const CLEAN_REVIEW = {
  findings: [],
  overallRisk: 'none',
  summary: 'An honest training change.',
};

/** A script that picks a behaviour by the first marker found in the messages, else `fallback`. */
export function byMarker(
  markers: Record<string, FakeBehaviour>,
  fallback: FakeBehaviour = { kind: 'answer', content: CLEAN_REVIEW },
): FakeScript {
  return ({ text }) => {
    for (const [marker, b] of Object.entries(markers)) if (text.includes(marker)) return b;
    return fallback;
  };
}

let seq = 0;

function completion(body: ChatBody, message: { content: string | null; refusal: string | null }) {
  return {
    id: `chatcmpl-fake-${++seq}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: body.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', ...message },
        finish_reason: 'stop',
        logprobs: null,
      },
    ],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  };
}

function send(res: ServerResponse, status: number, payload: unknown) {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(payload));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeOpenAI(script: FakeScript = byMarker({})): Promise<FakeOpenAI> {
  const calls: FakeCall[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const fake = {} as FakeOpenAI;
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      send(res, 404, {
        error: { message: `no route ${req.method} ${path}`, type: 'invalid_request_error' },
      });
      return;
    }
    let body: ChatBody;
    try {
      body = JSON.parse(await readBody(req)) as ChatBody;
    } catch {
      send(res, 400, { error: { message: 'body is not JSON', type: 'invalid_request_error' } });
      return;
    }
    const text = (body.messages ?? [])
      .map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)))
      .join('\n');
    const b = fake.script({ body, text });
    calls.push({ body, text, authorization: req.headers.authorization, behaviour: b.kind });
    const json = (c: unknown) => (typeof c === 'string' ? c : JSON.stringify(c));
    switch (b.kind) {
      case 'answer':
        send(res, 200, completion(body, { content: json(b.content), refusal: null }));
        return;
      case 'delay': {
        const t = setTimeout(() => {
          timers.delete(t);
          send(
            res,
            200,
            completion(body, { content: json(b.content ?? CLEAN_REVIEW), refusal: null }),
          );
        }, b.ms);
        timers.add(t);
        res.on('close', () => {
          clearTimeout(t);
          timers.delete(t);
        });
        return;
      }
      case 'status':
        send(res, b.status, {
          error: { message: b.message ?? `fake HTTP ${b.status}`, type: 'server_error' },
        });
        return;
      case 'malformed':
        send(
          res,
          200,
          completion(body, {
            content: b.content ?? '{"findings": [ {"category": "bug", oops',
            refusal: null,
          }),
        );
        return;
      case 'refusal':
        send(
          res,
          200,
          completion(body, {
            content: null,
            refusal: b.text ?? "I'm sorry, I can't help with that.",
          }),
        );
        return;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  Object.assign(fake, {
    baseURL: `http://127.0.0.1:${port}/v1`,
    calls,
    script,
    callsWith: (needle: string) => calls.filter((c) => c.text.includes(needle)).length,
    async close() {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
  return fake;
}
