// Shared HTTP core of the fake providers: request capture, fault queue, socket-level fault
// delivery. Each provider (openai.ts, anthropic.ts) plugs in its routes and its error bodies.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { deliver, writeFast, type Reply } from './faults.js';

export interface Fault {
  status?: number; // answer with this HTTP status and the provider's real error body for it
  errorType?: string; // override the provider error type/code in the body
  message?: string;
  retryAfter?: string; // 'retry-after' header value (seconds or HTTP-date)
  retryAfterMs?: number; // 'retry-after-ms' header (OpenAI sends it)
  headers?: Record<string, string>;
  delayHeadersMs?: number; // wait before sending status+headers
  slowBodyMs?: number; // non-stream: send headers, then wait this long before the body;
  // stream: wait this long between every SSE event
  firstChunkDelayMs?: number; // stream: wait before the first SSE event (after headers)
  hang?: boolean; // accept the request and never answer (until the socket closes)
  cutAfterEvents?: number; // stream: destroy the socket after N SSE events (mid-stream cut)
  malformed?: boolean; // 200 with a body that is not valid JSON (non-stream) / a bad SSE data line (stream)
  reset?: boolean; // destroy the socket right away (ECONNRESET at the client)
  body?: unknown; // non-stream: answer 'status' (default 200) with exactly this JSON
  // Additions beyond the shared contract:
  errorAfterEvents?: number; // stream: after N SSE events send the provider's in-stream error event, then end
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
  at: number;
}

export interface FakeServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  enqueue(...faults: Fault[]): void;
  setDefault(fault: Fault | undefined): void;
  reset(): void;
  aborted: number;
  close(): Promise<void>;
}

export interface FakeOptions {
  apiKey?: string;
  port?: number;
  latencyMs?: number;
  /** false: keep no request log (long benchmark runs); default true. */
  record?: boolean;
}

/** What a provider module supplies to the shared core. */
export interface ProviderImpl {
  /** Auth/header checks done before anything else (a Reply means: answer it). */
  precheck(req: RecordedRequest, raw: http.IncomingHttpHeaders): Reply | undefined;
  /** The healthy answer (or a validation error) for a request. */
  handle(req: RecordedRequest): Reply;
  /** The provider's real error answer for an injected status. */
  faultReply(fault: Fault, req: RecordedRequest): Reply;
  /** One SSE frame that carries a data line that is not valid JSON. */
  malformedFrame: string;
  /** The provider's in-stream error frame. */
  streamErrorFrame(fault: Fault): string;
  /** The body of a 200 whose JSON is broken. */
  malformedBody: string;
  /** Headers every answer carries (request id, rate-limit info…). */
  commonHeaders(): Record<string, string>;
  /** Forget provider state (e.g. the prompt cache) on reset(). */
  onReset?(): void;
}

// Credentials are never kept, even in a test fake's request log.
const SECRET_HEADERS = new Set(['authorization', 'x-api-key', 'api-key', 'proxy-authorization', 'cookie']);

function flattenHeaders(raw: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in raw) {
    const v = raw[k];
    if (v === undefined) continue;
    out[k] = SECRET_HEADERS.has(k) ? '[redacted]' : Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** A top-level field of a recorded body; undefined when the body is not a JSON object. */
export function bodyField(body: unknown, key: string): unknown {
  return body !== null && typeof body === 'object' ? (body as Record<string, unknown>)[key] : undefined;
}

function parseBody(buf: Buffer, contentType: string | undefined): unknown {
  if (buf.length === 0) return undefined;
  const text = buf.toString('utf8');
  if (contentType !== undefined && !contentType.includes('json')) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text; // left as text: the provider answers its "could not parse JSON" error
  }
}

export async function startFakeServer(impl: ProviderImpl, opts: FakeOptions = {}): Promise<FakeServer> {
  const queue: Fault[] = [];
  let fallback: Fault | undefined;
  const latencyMs = opts.latencyMs ?? 0;
  const record = opts.record !== false;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: RecordedRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: flattenHeaders(req.headers),
        body: parseBody(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), req.headers['content-type']),
        at: Date.now(),
      };
      if (record) fake.requests.push(rec);
      const fault = queue.length > 0 ? queue.shift() : fallback;
      const state = { selfClosed: false };
      res.on('close', () => {
        if (!res.writableFinished && !state.selfClosed) fake.aborted++;
      });
      if (fault === undefined && latencyMs === 0) {
        // Lean healthy path: no timers, no promise chain.
        const reply = impl.precheck(rec, req.headers) ?? impl.handle(rec);
        writeFast(res, reply, impl.commonHeaders());
        return;
      }
      deliver(req, res, rec, fault ?? {}, impl, latencyMs, state).catch(() => {
        if (!res.headersSent) {
          res.statusCode = 500;
          res.end();
        } else res.destroy();
      });
    });
  });
  // Long keep-alive so benchmarks and retry loops reuse connections like against the real APIs.
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
    enqueue(...faults: Fault[]) {
      queue.push(...faults);
    },
    setDefault(fault: Fault | undefined) {
      fallback = fault;
    },
    reset() {
      queue.length = 0;
      fallback = undefined;
      fake.requests.length = 0;
      fake.aborted = 0;
      impl.onReset?.();
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Drop idle keep-alive sockets and hung requests so test files end at once.
        server.closeAllConnections();
      });
    },
  };
  return fake;
}
