// One attempt: a single upstream call, bounded by its own timers and the request deadline.
// Non-stream: request_timeout bounds headers and body. Stream: time to first chunk, then the idle
// gap between chunks; the request deadline bounds everything.
import { createParser } from 'eventsource-parser';
import { request, type Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import type {
  Operation,
  ParsedResponse,
  ProviderAdapter,
  ProviderError,
  ResolvedProvider,
  SseEvent,
  StreamTranslator,
  UpstreamRequest,
} from '../providers/types.js';
import { StreamEventError } from '../providers/types.js';
import { retryAfterMs } from './backoff.js';
import { AbortReason, classifyTransportError, type Outcome } from './outcome.js';
import { upstreamDispatcher } from './upstream.js';

type Json = Record<string, unknown>;

export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
const MAX_ERROR_BODY = 64 * 1024;

export interface AttemptSpec {
  op: Operation;
  /** The provider-facing body, `model` and `stream` already set (the executor builds it once per target). */
  body: Json;
  stream: boolean;
  includeUsage: boolean;
  adapter: ProviderAdapter;
  provider: ResolvedProvider;
  requestTimeoutMs?: number;
  firstChunkTimeoutMs?: number;
  idleTimeoutMs?: number;
  deadlineAt: number;
  clientSignal: AbortSignal;
  dispatcher?: Dispatcher;
}

export interface AttemptFailure {
  ok: false;
  outcome: Outcome;
  status: number;
  error: ProviderError;
  retryAfterMs?: number;
}

export interface JsonSuccess {
  ok: true;
  kind: 'json';
  status: number;
  parsed: ParsedResponse;
}

export interface StreamSuccess {
  ok: true;
  kind: 'stream';
  first: Json[];
  ttftMs: number;
  translator: StreamTranslator;
  /** The rest of the stream; throws StreamFailure when it breaks. */
  rest: AsyncGenerator<Json[], void, void>;
  /** Stops timers and releases the connection (call when done or abandoning). */
  release(): void;
}

export type AttemptResult = AttemptFailure | JsonSuccess | StreamSuccess;

export class StreamFailure extends Error {
  constructor(readonly failure: AttemptFailure) {
    super(failure.error.message);
  }
}

class AttemptTimers {
  private readonly controller = new AbortController();
  readonly signal = this.controller.signal;
  private phase?: NodeJS.Timeout;
  private readonly deadline: NodeJS.Timeout;
  // Forwarding by hand: AbortSignal.any is slow and keeps signals alive on Node 20.
  private readonly onClient = () => this.controller.abort(this.clientSignal.reason);

  constructor(
    deadlineAt: number,
    private readonly clientSignal: AbortSignal,
  ) {
    if (clientSignal.aborted) this.controller.abort(clientSignal.reason);
    else clientSignal.addEventListener('abort', this.onClient, { once: true });
    this.deadline = setTimeout(
      () => this.controller.abort(new AbortReason('deadline')),
      Math.max(0, deadlineAt - Date.now()),
    );
  }

  arm(ms: number | undefined): void {
    clearTimeout(this.phase);
    this.phase = ms === undefined ? undefined : setTimeout(() => this.controller.abort(new AbortReason('timeout')), ms);
  }

  touch(): void {
    this.phase?.refresh();
  }

  clear(): void {
    clearTimeout(this.phase);
    clearTimeout(this.deadline);
    this.clientSignal.removeEventListener('abort', this.onClient);
  }
}

function failure(
  outcome: Outcome,
  status: number,
  message: string,
  type = outcome,
  retryAfter?: number,
): AttemptFailure {
  return { ok: false, outcome, status, error: { message, type, code: null }, retryAfterMs: retryAfter };
}

async function readLimited(body: Dispatcher.ResponseData['body']): Promise<string> {
  let out = '';
  for await (const chunk of body) {
    if (out.length < MAX_ERROR_BODY) out += chunk.toString();
  }
  return out.slice(0, MAX_ERROR_BODY);
}

export async function runAttempt(spec: AttemptSpec): Promise<AttemptResult> {
  const started = performance.now();
  const timers = new AttemptTimers(spec.deadlineAt, spec.clientSignal);
  timers.arm(spec.stream ? (spec.firstChunkTimeoutMs ?? spec.requestTimeoutMs) : spec.requestTimeoutMs);
  let res: Dispatcher.ResponseData;
  let up: UpstreamRequest;
  try {
    // Translation errors (UnsupportedRequestError: 400) and credential errors carry their status
    // to the executor; only a timer firing during async auth is an attempt failure.
    up = spec.adapter.buildRequest(spec.op, spec.body, spec.provider);
    if (spec.adapter.authorize) up = await spec.adapter.authorize(up, spec.provider, timers.signal);
  } catch (err) {
    timers.clear();
    if (!timers.signal.aborted) throw err;
    const c = classifyTransportError(err, timers.signal);
    return failure(c.outcome, c.status, c.message);
  }
  try {
    res = await request(up.url, {
      method: up.method,
      headers: up.headers,
      body: up.body,
      signal: timers.signal,
      dispatcher: spec.dispatcher ?? upstreamDispatcher(),
    });
  } catch (err) {
    timers.clear();
    const c = classifyTransportError(err, timers.signal);
    return failure(c.outcome, c.status, c.message);
  }

  try {
    if (res.statusCode >= 400) {
      const text = await readLimited(res.body);
      timers.clear();
      const error = spec.adapter.parseError(res.statusCode, text, res.headers as IncomingHttpHeaders);
      return {
        ok: false,
        outcome: 'http_error',
        status: error.status ?? res.statusCode,
        error,
        retryAfterMs: retryAfterMs(res.headers as IncomingHttpHeaders),
      };
    }
    if (!spec.stream) {
      const text = await res.body.text();
      timers.clear();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return failure('invalid_response', 502, `upstream returned malformed JSON (${text.length} bytes)`);
      }
      try {
        return {
          ok: true,
          kind: 'json',
          status: 200,
          parsed: spec.adapter.parseResponse(spec.op, json, spec.provider),
        };
      } catch (e) {
        return failure('invalid_response', 502, `upstream response has an unexpected shape: ${(e as Error).message}`);
      }
    }
    return await openStream(spec, res, timers, started);
  } catch (err) {
    timers.clear();
    res.body.destroy();
    const c = classifyTransportError(err, timers.signal);
    return failure(c.outcome, c.status, c.message);
  }
}

async function openStream(
  spec: AttemptSpec,
  res: Dispatcher.ResponseData,
  timers: AttemptTimers,
  started: number,
): Promise<AttemptResult> {
  const translator = spec.adapter.streamTranslator(spec.op, spec.body, spec.includeUsage);
  const rest = streamChunks(res.body, translator, timers, spec);
  // Pull until the translator yields something to send: that is the commit point.
  const firstStep = await rest.next().catch((e: unknown) => e);
  if (firstStep instanceof StreamFailure) return firstStep.failure;
  if (firstStep instanceof Error) return failure('connect_error', 502, firstStep.message);
  const step = firstStep as IteratorResult<Json[], void>;
  if (step.done) return failure('invalid_response', 502, 'upstream stream ended before any chunk');
  const ttftMs = performance.now() - started;
  return {
    ok: true,
    kind: 'stream',
    first: step.value,
    ttftMs,
    translator,
    rest,
    release: () => {
      timers.clear();
      if (!res.body.destroyed) res.body.destroy();
    },
  };
}

async function* streamChunks(
  body: Dispatcher.ResponseData['body'],
  translator: StreamTranslator,
  timers: AttemptTimers,
  spec: AttemptSpec,
): AsyncGenerator<Json[], void, void> {
  const pending: Json[] = [];
  let parseError: Error | undefined;
  const onEvent = (ev: SseEvent) => {
    if (parseError) return;
    try {
      pending.push(...translator.onEvent({ event: ev.event, data: ev.data }));
    } catch (e) {
      parseError = e as Error;
    }
  };
  const parser = createParser({ onEvent });
  const framing = spec.adapter.streamDecoder?.(); // non-SSE streams (Bedrock's binary event stream)
  const decoder = new TextDecoder();
  let firstSeen = false;
  try {
    for await (const buf of body) {
      if (firstSeen) timers.touch(); // pings before the first chunk must not extend its deadline
      if (framing) for (const ev of framing.push(buf as Buffer)) onEvent(ev);
      else parser.feed(decoder.decode(buf as Buffer, { stream: true }));
      if (parseError) throw parseError;
      if (pending.length) {
        if (!firstSeen) {
          firstSeen = true;
          timers.arm(spec.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
        }
        yield pending.splice(0);
      }
      if (translator.done) break;
    }
  } catch (err) {
    if (err instanceof StreamEventError) {
      throw new StreamFailure({ ok: false, outcome: 'http_error', status: err.status, error: err.providerError });
    }
    if (err instanceof SyntaxError)
      throw new StreamFailure(
        failure('invalid_response', 502, `upstream sent a malformed stream event: ${err.message}`),
      );
    const c = classifyTransportError(err, timers.signal);
    throw new StreamFailure(failure(c.outcome === 'connect_error' ? 'stream_cut' : c.outcome, c.status, c.message));
  } finally {
    timers.clear();
  }
  if (!translator.done)
    throw new StreamFailure(failure('stream_cut', 502, 'upstream stream ended without its terminating event'));
}
