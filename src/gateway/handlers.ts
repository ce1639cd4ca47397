// Route handlers: parse, select routing, call the executor, write. Nothing else lives here.
import type { Request, Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Operation } from '../providers/types.js';
import { PolicyError } from '../policy/errors.js';
import { describeSelf } from '../policy/keys/self.js';
import type { PipelineContext, SpanValue } from '../policy/pipeline.js';
import { UsageTally } from '../policy/usage.js';
import type { ExecRequest, StreamSink } from '../routing/executor.js';
import { ClientLink } from '../routing/client-link.js';
import { AbortReason } from '../routing/outcome.js';
import { parseBody } from './bodies.js';
import { readJsonBody } from './body.js';
import { errorJson, HttpError, sendError, writeJson } from './errors.js';
import { header, parseDeadline, parseMetadata } from './request-headers.js';
import { selectRouting } from './select-routing.js';
import { SseSink } from './sse-sink.js';
import type { Sidecar } from './sidecar.js';

/**
 * What differs between routes that run the pipeline: the body's wire format in, the answer's out.
 * The pipeline, policy stages and executor always see the OpenAI-shaped internal body.
 */
export interface RouteWire {
  /** Validates the parsed JSON body; answers the internal body and what the executor needs besides. */
  parse(raw: unknown, req: IncomingMessage): WireRequest;
  sink(res: ServerResponse, headers: () => Record<string, string>): StreamSink;
  /** The body of a non-streamed answer or executor failure (`body` as the executor made it). */
  answer(status: number, body: Record<string, unknown> | undefined): unknown;
  /** The body of a failure the gateway answers itself (bad input, policy refusals). */
  error(err: HttpError): unknown;
}

export interface WireRequest {
  body: Record<string, unknown>;
  stream: boolean;
  includeUsage: boolean;
  adapt?: ExecRequest['adapt'];
}

/** OpenAI's wire format: the body is already the internal one. */
export function openAIWire(op: Operation): RouteWire {
  return {
    parse(raw) {
      const body = parseBody(op, raw);
      return {
        body,
        stream: op !== 'embeddings' && body.stream === true,
        includeUsage: (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true,
      };
    },
    sink: (res, headers) => new SseSink(res, headers),
    answer: (_status, body) => body,
    error: (err) => errorJson(err.status, err.message, err.code, err.type),
  };
}

/** The caller's id for this turn (x-switchyard-span-id / x-portkey-span-id), as a request-span attribute. */
function requestAttributes(headers: IncomingMessage['headers']): Record<string, SpanValue> {
  const spanId = header(headers, 'span-id');
  return spanId ? { 'switchyard.span_id': spanId.slice(0, 256) } : {};
}

/** The completion routes, served on node:http directly (see server.ts for why). */
export function completionHandler(sc: Sidecar, op: Operation, route: string) {
  return serveRequest(sc, op, route, openAIWire(op));
}

/** parse → select routing → the policy pipeline (the executor last) → write, in the route's wire format. */
export function serveRequest(sc: Sidecar, op: Operation, route: string, wire: RouteWire) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const tel = sc.telemetry.startRequest(op, route, req.headers);
    let traceId = tel.traceId;
    let configId = '';
    let metadata: Record<string, string> = {};
    let ctx: PipelineContext | undefined;
    const attributes = requestAttributes(req.headers);
    // The policy stages' headers (RateLimit-*) and the trace id, on every answer.
    const responseHeaders = () => ({ ...ctx?.responseHeaders, 'x-switchyard-trace-id': traceId });
    try {
      traceId = header(req.headers, 'trace-id') || tel.traceId;
      metadata = parseMetadata(header(req.headers, 'metadata'));
      const deadlineHeader = parseDeadline(header(req.headers, 'deadline-ms'));
      const parsed = wire.parse(await readJsonBody(req, sc.config.current.file.server.max_body_bytes), req);
      const body = parsed.body;
      const file = sc.config.current.file;
      const sel = selectRouting(file, header(req.headers, 'config'), body.model);
      configId = sel.configId;
      if (sel.model !== body.model) body.model = sel.model;
      const deadlineMs = Math.min(
        file.server.deadline_ms,
        sel.routing.deadline_ms ?? Infinity,
        deadlineHeader ?? Infinity,
      );
      const stream = parsed.stream;
      const client = new ClientLink();
      res.on('close', () => {
        if (!res.writableFinished) client.abort(new AbortReason('client'));
      });
      const policy = sc.policy.current;
      const deadlineAt = Date.now() + deadlineMs;
      const usage = new UsageTally(policy.price);
      ctx = {
        op,
        headers: req.headers,
        file,
        body,
        routing: sel.routing,
        configId,
        metadata,
        deadlineAt,
        exec: {
          request: {
            op,
            body,
            stream,
            includeUsage: parsed.includeUsage,
            metadata,
            routing: sel.routing,
            deadlineAt,
            clientSignal: client,
            sink: stream ? wire.sink(res, responseHeaders) : undefined,
            adapt: parsed.adapt,
            // x-switchyard-hedge: false opts this request out of hedging (e.g. a non-idempotent tool call).
            hedge: header(req.headers, 'hedge')?.trim().toLowerCase() !== 'false',
          },
          env: { file, health: sc.health, simulatedUrls: sc.simulators.urls },
        },
        observer: usage.wrap(tel.observer),
        usage,
        price: policy.price,
        attributes,
        responseHeaders: {},
      };
      const result = await policy.run(ctx);
      tel.finish({
        switchyardTraceId: traceId,
        configId,
        strategy: sel.routing.strategy?.mode ?? 'single',
        metadata,
        status: result.status,
        result,
        // Routing's notes (hedging, ejections) join the policy stages' on the request span.
        attributes: result.spanAttributes ? { ...ctx.attributes, ...result.spanAttributes } : ctx.attributes,
        events: result.spanEvents ? [...(ctx.events ?? []), ...result.spanEvents] : ctx.events,
      });
      if (result.streamed || res.headersSent) return;
      writeJson(res, result.status, wire.answer(result.status, result.body), {
        ...result.headers,
        ...responseHeaders(),
      });
    } catch (e) {
      const err =
        e instanceof HttpError ? e : new HttpError(500, `internal error: ${(e as Error).message}`, 'internal_error');
      tel.finish({
        switchyardTraceId: traceId,
        configId,
        strategy: '',
        metadata,
        status: err.status,
        errorType: err.code ?? err.type,
        attributes,
        events: ctx?.events,
      });
      sendError(
        res,
        err,
        { ...(err instanceof PolicyError ? err.headers : {}), ...responseHeaders() },
        wire.error(err),
      );
    }
  };
}

export function modelsHandler(sc: Sidecar) {
  return (_req: Request, res: Response): void => {
    // The models this sidecar routes to, from its config: answering needs no upstream call.
    const file = sc.config.current.file;
    const seen = new Map<string, string>();
    const walk = (t: { provider?: string; override_params?: Record<string, unknown>; targets?: unknown[] }) => {
      const m = t.override_params?.model;
      if (typeof m === 'string' && !seen.has(m)) seen.set(m, (t.provider ?? 'switchyard').replace(/^@/, ''));
      for (const c of (t.targets ?? []) as (typeof t)[]) walk(c);
    };
    for (const cfg of Object.values(file.configs)) walk(cfg);
    res.json({
      object: 'list',
      data: [...seen].map(([id, owner]) => ({ id, object: 'model', created: 0, owned_by: owner })),
    });
  };
}

export function keysSelfHandler(sc: Sidecar) {
  return (req: Request, res: Response): void => {
    describeSelf(sc.policy.current, sc.policy.stateStore, req.headers).then(
      (body) => void res.json(body),
      (e: unknown) => {
        const err =
          e instanceof HttpError
            ? e
            : new HttpError(503, 'the policy state store is unavailable', 'state_store_unavailable');
        sendError(res, err);
      },
    );
  };
}

export function notFound(req: Request, res: Response): void {
  res.status(404).json(errorJson(404, `no route for ${req.method} ${req.path}`, 'not_found'));
}
