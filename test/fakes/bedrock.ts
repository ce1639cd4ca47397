// Fake Amazon Bedrock Runtime: POST /model/{modelId}/converse | converse-stream | invoke. Checks
// SigV4 like the service (or a Bedrock API key as Bearer), answers ConverseStream as a binary
// application/vnd.amazon.eventstream, and injects the service's errors and in-stream exceptions.
// Its own small HTTP core: the shared one writes text SSE, and this stream is binary.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { encodeEvent } from '../../src/providers/bedrock/eventstream.js';
import { converse, invokeEmbed, validation, type BedrockReply } from './bedrock-converse.js';
import { verifySigV4, type AwsKey } from './bedrock-sigv4.js';
import type { FakeServer, Fault, RecordedRequest } from './server.js';

export type { AwsKey } from './bedrock-sigv4.js';

export interface FakeBedrockOptions {
  region?: string;
  /** Accepted SigV4 keys; none: no SigV4 check. */
  keys?: AwsKey[];
  /** Accepted Bedrock API key (Authorization: Bearer). */
  apiKey?: string;
  port?: number;
}

export const BEDROCK_MODELS = [
  'anthropic.claude-sonnet-4-5-20250929-v1:0',
  'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
  'amazon.nova-pro-v1:0',
  'amazon.nova-lite-v1:0',
  'amazon.titan-embed-text-v2:0',
  'cohere.embed-english-v3',
];

const FAULT_TYPES: Record<number, [string, string]> = {
  400: ['ValidationException', 'Malformed input request, please reformat your input and try again.'],
  403: ['AccessDeniedException', "You don't have access to the model with the specified model ID."],
  404: ['ResourceNotFoundException', 'Could not resolve the foundation model from the provided model identifier.'],
  408: ['ModelTimeoutException', 'Model has timed out in processing the request. Try your request again.'],
  424: ['ModelErrorException', 'The system encountered an unexpected error during processing. Try your request again.'],
  429: ['ThrottlingException', 'Too many requests, please wait before trying again.'],
  500: ['InternalServerException', 'The server encountered an error processing your request.'],
  503: ['ServiceUnavailableException', 'Bedrock is unable to process your request.'],
};

const SECRET = new Set(['authorization', 'x-amz-security-token']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startFakeBedrock(opts: FakeBedrockOptions = {}): Promise<FakeServer> {
  const region = opts.region ?? 'us-east-1';
  const queue: Fault[] = [];
  let fallback: Fault | undefined;
  const seen = new Set<string>();

  const errorReply = (status: number, type: string, message: string): BedrockReply => ({
    status,
    errorType: type,
    json: { message },
  });

  async function answer(
    method: string,
    path: string,
    raw: http.IncomingHttpHeaders,
    body: Buffer,
  ): Promise<BedrockReply & { stream?: boolean }> {
    const bearer = /^Bearer\s+(.+)$/.exec(raw.authorization ?? '');
    if (bearer) {
      if (bearer[1] !== opts.apiKey)
        return errorReply(
          403,
          'UnrecognizedClientException',
          'Invalid API Key format: Must start with pre-defined prefix',
        );
    } else if (opts.keys) {
      const v = await verifySigV4({ method, path, headers: raw, body }, opts.keys, region);
      if (!v.ok) return errorReply(403, v.type, v.message);
    }
    const m = /^\/model\/([^/]+)\/(converse|converse-stream|invoke)$/.exec(path);
    if (method !== 'POST' || !m) return errorReply(404, 'UnknownOperationException', 'Unknown operation');
    const model = decodeURIComponent(m[1]);
    if (!BEDROCK_MODELS.includes(model)) return validation('The provided model identifier is invalid.');
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      return validation('Malformed input request, please reformat your input and try again.');
    }
    if (m[2] === 'invoke') return invokeEmbed(model, json);
    return { ...converse(json, m[2] === 'converse-stream', seen), stream: m[2] === 'converse-stream' };
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = req.url ?? '/';
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers))
        if (v !== undefined) headers[k] = SECRET.has(k) ? '[redacted]' : String(v);
      let parsed: unknown = body.toString('utf8');
      try {
        parsed = JSON.parse(parsed as string);
      } catch {
        /* left as text */
      }
      const rec: RecordedRequest = { method: req.method ?? 'GET', path, headers, body: parsed, at: Date.now() };
      fake.requests.push(rec);
      const fault = queue.length ? queue.shift()! : (fallback ?? {});
      serve(req, res, rec, body, fault).catch(() => res.destroy());
    });
  });

  async function serve(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    rec: RecordedRequest,
    body: Buffer,
    fault: Fault,
  ): Promise<void> {
    res.on('close', () => {
      if (!res.writableFinished && !fault.reset && fault.cutAfterEvents === undefined) fake.aborted++;
    });
    if (fault.delayHeadersMs) await sleep(fault.delayHeadersMs);
    if (fault.reset) return void req.socket.resetAndDestroy();
    if (fault.hang) return;
    let reply = await answer(rec.method, rec.path, req.headers, body);
    if (reply.status < 400 && fault.status && fault.status !== 200) {
      const [type, message] = FAULT_TYPES[fault.status] ?? ['InternalServerException', `Injected ${fault.status}`];
      reply = errorReply(fault.status, fault.errorType ?? type, fault.message ?? message);
    }
    const common: Record<string, string> = { 'x-amzn-requestid': randomUUID(), ...fault.headers };
    if (fault.retryAfter) common['retry-after'] = fault.retryAfter;
    if (reply.status >= 400 || !reply.events) {
      const text =
        reply.status < 400 && fault.malformed
          ? '{"output": {"message": {"role": "assistant", "content": [{"text": "Hel'
          : JSON.stringify(reply.json);
      if (reply.errorType)
        common['x-amzn-errortype'] = `${reply.errorType}:http://internal.amazon.com/coral/com.amazon.bedrock/`;
      res.writeHead(reply.status, {
        ...common,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(text)),
      });
      if (fault.slowBodyMs) {
        res.flushHeaders();
        await sleep(fault.slowBodyMs);
      }
      return void res.end(text);
    }
    res.writeHead(200, {
      ...common,
      'content-type': 'application/vnd.amazon.eventstream',
      'x-amzn-bedrock-content-type': 'application/json',
    });
    res.flushHeaders();
    if (fault.firstChunkDelayMs) await sleep(fault.firstChunkDelayMs);
    const frames = reply.events.map(([type, payload]) => Buffer.from(encodeEvent('event', type, payload)));
    for (let i = 0; i < frames.length; i++) {
      if (res.destroyed) return;
      if (fault.cutAfterEvents !== undefined && i >= fault.cutAfterEvents) return void req.socket.destroy();
      if (fault.errorAfterEvents !== undefined && i >= fault.errorAfterEvents) {
        const type = fault.errorType ?? 'serviceUnavailableException';
        return void res.end(
          Buffer.from(
            encodeEvent('exception', type, { message: fault.message ?? 'Bedrock is unable to process your request.' }),
          ),
        );
      }
      let frame = frames[i];
      if (fault.malformed && i === 0) {
        frame = Buffer.from(frame);
        frame[frame.length - 1] ^= 0xff; // wrong message CRC
      }
      if (i > 0 && fault.slowBodyMs) await sleep(fault.slowBodyMs);
      await new Promise<void>((r) => res.write(frame, () => r()));
    }
    res.end();
  }

  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const fake: FakeServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    requests: [],
    aborted: 0,
    enqueue: (...f: Fault[]) => void queue.push(...f),
    setDefault: (f) => void (fallback = f),
    reset() {
      queue.length = 0;
      fallback = undefined;
      fake.requests.length = 0;
      fake.aborted = 0;
      seen.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return fake;
}
