// A simulated OpenAI-compatible upstream on 127.0.0.1, for `npm start` without API keys, the demo
// and game days. It answers real HTTP so timeouts, streams and resets behave as with a provider.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SimulatedSpec } from '../../config/schema.js';
import { decide } from './behaviour.js';

const errorBodies: Record<number, { type: string; code: string; message: string }> = {
  429: { type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached (simulated).' },
  500: { type: 'server_error', code: 'server_error', message: 'The server had an error (simulated).' },
  503: {
    type: 'server_error',
    code: 'service_unavailable',
    message: 'The engine is currently overloaded (simulated).',
  },
};

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function words(s: string): number {
  return Math.max(1, s.split(/\s+/).filter(Boolean).length);
}

function lastUserText(body: Record<string, unknown>): string {
  const msgs = (body.messages as Array<{ role: string; content: unknown }>) ?? [];
  for (let i = msgs.length - 1; i >= 0; i--)
    if (msgs[i].role === 'user' && typeof msgs[i].content === 'string') return msgs[i].content as string;
  return typeof body.prompt === 'string' ? body.prompt : '';
}

export class SimulatedUpstream {
  private server?: Server;
  private readonly started = Date.now();
  url = '';

  constructor(
    readonly slug: string,
    private spec: SimulatedSpec,
  ) {}

  update(spec: SimulatedSpec): void {
    this.spec = spec;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 30_000;
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
    return this.url;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req).catch(() => '');
    if (req.method === 'GET' && req.url?.endsWith('/models')) {
      return this.json(res, 200, {
        object: 'list',
        data: [{ id: 'sim-model', object: 'model', created: 0, owned_by: 'switchyard' }],
      });
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return this.json(res, 400, {
        error: { message: 'invalid JSON', type: 'invalid_request_error', param: null, code: null },
      });
    }
    const fault = decide(this.spec, Date.now() - this.started);
    if (fault.kind === 'hang') return; // the caller's timeout is what ends this
    await new Promise((r) => setTimeout(r, fault.latencyMs));
    if (res.destroyed) return;
    if (fault.kind === 'error') {
      const e = errorBodies[fault.status] ?? {
        type: 'server_error',
        code: 'server_error',
        message: `Simulated ${fault.status}.`,
      };
      if (fault.status === 429) res.setHeader('retry-after', '1');
      return this.json(res, fault.status, { error: { ...e, param: null } });
    }
    const model = String(body.model ?? 'sim-model');
    const path = req.url ?? '';
    if (path.endsWith('/embeddings')) {
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      return this.json(res, 200, {
        object: 'list',
        model,
        data: inputs.map((x, index) => ({ object: 'embedding', index, embedding: bagOfWords(String(x)) })),
        usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
      });
    }
    const text = `Simulated answer from ${this.slug}: ${lastUserText(body)}`.trim();
    const usage = { prompt_tokens: words(lastUserText(body)) + 5, completion_tokens: words(text), total_tokens: 0 };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    const id = `chatcmpl-sim${Date.now().toString(36)}`;
    const created = Math.floor(Date.now() / 1000);
    if (path.endsWith('/completions') && !path.endsWith('/chat/completions')) {
      return this.json(res, 200, {
        id,
        object: 'text_completion',
        created,
        model,
        choices: [{ index: 0, text, finish_reason: 'stop', logprobs: null }],
        usage,
      });
    }
    if (body.stream === true) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const base = { id, object: 'chat.completion.chunk', created, model };
      const send = (o: unknown) => res.write(`data: ${JSON.stringify(o)}\n\n`);
      send({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
      for (const w of text.split(/(?<= )/))
        send({ ...base, choices: [{ index: 0, delta: { content: w }, finish_reason: null }] });
      send({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
      const so = body.stream_options as { include_usage?: boolean } | undefined;
      if (so?.include_usage) send({ ...base, choices: [], usage });
      res.end('data: [DONE]\n\n');
      return;
    }
    this.json(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: text, refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage,
    });
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    const s = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(s) });
    res.end(s);
  }
}

/**
 * Deterministic demo embeddings: words (lowercased letters and digits) hashed into 256 buckets,
 * normalised, so texts with the same words are identical vectors and texts sharing most words
 * are close (the semantic cache's demo); no meaning beyond that.
 */
export function bagOfWords(text: string, dims = 256): number[] {
  const v = new Array<number>(dims).fill(0);
  for (const w of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    let h = 2166136261;
    for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 16777619);
    v[(h >>> 0) % dims] += 1;
  }
  const n = Math.hypot(...v);
  return n > 0 ? v.map((x) => x / n) : v;
}
