// One attempt: a single upstream call, bounded by its own timers and the request deadline.
// Non-stream: request_timeout bounds headers and body. Stream: time to first chunk, then the idle
// gap between chunks; the request deadline bounds everything.
import { createParser } from 'eventsource-parser';
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
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
import { AttemptGate } from './attempt-gate.js';
import type { ClientSignal } from './client-link.js';
import { classifyTransportError, type Outcome } from './outcome.js';
import { type BufferedResponse, callBuffered } from './upstream-call.js';
import { UpstreamStream } from './upstream-stream.js';
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
  clientSignal: ClientSignal;
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

function failure(
  outcome: Outcome,
  status: number,
  message: string,
  type = outcome,
  retryAfter?: number,
): AttemptFailure {
  return { ok: false, outcome, status, error: { message, type, code: null }, retryAfterMs: retryAfter };
}

export async function runAttempt(spec: AttemptSpec): Promise<AttemptResult> {
  const started = performance.now();
  const gate = new AttemptGate(spec.deadlineAt, spec.clientSignal);
  gate.arm(spec.stream ? (spec.firstChunkTimeoutMs ?? spec.requestTimeoutMs) : spec.requestTimeoutMs, spec.stream);
  let up: UpstreamRequest;
  try {
    // Translation errors (UnsupportedRequestError: 400) and credential errors carry their status
    // to the executor; only a timer firing during async auth is an attempt failure.
    up = spec.adapter.buildRequest(spec.op, spec.body, spec.provider);
    if (spec.adapter.authorize) up = await spec.adapter.authorize(up, spec.provider, gate.signal);
  } catch (err) {
    gate.clear();
    if (!gate.aborted) throw err;
    const c = classifyTransportError(err, gate);
    return failure(c.outcome, c.status, c.message);
  }
  const dispatcher = spec.dispatcher ?? upstreamDispatcher();
  if (spec.stream) return runStream(spec, up, dispatcher, gate, started);
  let res: BufferedResponse;
  try {
    res = await callBuffered(dispatcher, up, gate, MAX_ERROR_BODY);
  } catch (err) {
    const c = classifyTransportError(err, gate);
    return failure(c.outcome, c.status, c.message);
  } finally {
    gate.clear();
  }
  if (res.statusCode >= 400) return httpFailure(spec, res.statusCode, res.text, res.headers);
  let json: unknown;
  try {
    json = JSON.parse(res.text);
  } catch {
    return failure('invalid_response', 502, `upstream returned malformed JSON (${res.text.length} bytes)`);
  }
  try {
    return { ok: true, kind: 'json', status: 200, parsed: spec.adapter.parseResponse(spec.op, json, spec.provider) };
  } catch (e) {
    return failure('invalid_response', 502, `upstream response has an unexpected shape: ${(e as Error).message}`);
  }
}

/** An error answer, as the provider's adapter reads it (its status may differ from HTTP's). */
function httpFailure(spec: AttemptSpec, status: number, text: string, headers: IncomingHttpHeaders): AttemptFailure {
  const error = spec.adapter.parseError(status, text, headers);
  return {
    ok: false,
    outcome: 'http_error',
    status: error.status ?? status,
    error,
    retryAfterMs: retryAfterMs(headers),
  };
}

/** A streamed attempt: chunks pulled from the upstream until the first one to send (the commit point). */
async function runStream(
  spec: AttemptSpec,
  up: UpstreamRequest,
  dispatcher: Dispatcher,
  gate: AttemptGate,
  started: number,
): Promise<AttemptResult> {
  const res = new UpstreamStream(gate, MAX_ERROR_BODY);
  try {
    await res.start(dispatcher, up);
  } catch (err) {
    gate.clear();
    const c = classifyTransportError(err, gate);
    return failure(c.outcome, c.status, c.message);
  }
  if (res.statusCode >= 400) {
    gate.clear();
    return httpFailure(spec, res.statusCode, res.errorText, res.headers);
  }
  const translator = spec.adapter.streamTranslator(spec.op, spec.body, spec.includeUsage);
  const rest = streamChunks(res, translator, gate, spec);
  const release = () => {
    gate.clear();
    res.release();
  };
  const firstStep = await rest.next().catch((e: unknown) => e);
  if (firstStep instanceof StreamFailure || firstStep instanceof Error) release();
  if (firstStep instanceof StreamFailure) return firstStep.failure;
  if (firstStep instanceof Error) return failure('connect_error', 502, firstStep.message);
  const step = firstStep as IteratorResult<Json[], void>;
  if (step.done) {
    release();
    return failure('invalid_response', 502, 'upstream stream ended before any chunk');
  }
  return {
    ok: true,
    kind: 'stream',
    first: step.value,
    ttftMs: performance.now() - started,
    translator,
    rest,
    release,
  };
}

async function* streamChunks(
  body: UpstreamStream,
  translator: StreamTranslator,
  gate: AttemptGate,
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
    for (let buf = await body.next(); buf !== null; buf = await body.next()) {
      if (firstSeen) gate.touch(); // pings before the first chunk must not extend its deadline
      if (framing) for (const ev of framing.push(buf)) onEvent(ev);
      else parser.feed(decoder.decode(buf, { stream: true }));
      if (parseError) throw parseError;
      if (pending.length) {
        if (!firstSeen) {
          firstSeen = true;
          gate.arm(spec.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, true);
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
    const c = classifyTransportError(err, gate);
    throw new StreamFailure(failure(c.outcome === 'connect_error' ? 'stream_cut' : c.outcome, c.status, c.message));
  } finally {
    gate.clear();
  }
  if (!translator.done)
    throw new StreamFailure(failure('stream_cut', 502, 'upstream stream ended without its terminating event'));
}
