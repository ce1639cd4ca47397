// Route handlers: parse, select routing, call the executor, write. Nothing else lives here.
import type { Request, Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Operation } from '../providers/types.js';
import { PolicyError } from '../policy/errors.js';
import { describeSelf } from '../policy/keys/self.js';
import type { PipelineContext } from '../policy/pipeline.js';
import { UsageTally } from '../policy/usage.js';
import { AbortReason } from '../routing/outcome.js';
import { parseBody } from './bodies.js';
import { readJsonBody } from './body.js';
import { errorJson, HttpError, sendError, writeJson } from './errors.js';
import { header, parseDeadline, parseMetadata } from './request-headers.js';
import { selectRouting } from './select-routing.js';
import { SseSink } from './sse-sink.js';
import type { Sidecar } from './sidecar.js';

/** The completion routes, served on node:http directly (see server.ts for why). */
export function completionHandler(sc: Sidecar, op: Operation, route: string) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const tel = sc.telemetry.startRequest(op, route, req.headers);
    let traceId = tel.traceId;
    let configId = '';
    let metadata: Record<string, string> = {};
    let ctx: PipelineContext | undefined;
    // The policy stages' headers (RateLimit-*) and the trace id, on every answer.
    const responseHeaders = () => ({ ...ctx?.responseHeaders, 'x-switchyard-trace-id': traceId });
    try {
      traceId = header(req.headers, 'trace-id') || tel.traceId;
      metadata = parseMetadata(header(req.headers, 'metadata'));
      const deadlineHeader = parseDeadline(header(req.headers, 'deadline-ms'));
      const body = parseBody(op, await readJsonBody(req, sc.config.current.file.server.max_body_bytes));
      const file = sc.config.current.file;
      const sel = selectRouting(file, header(req.headers, 'config'), body.model);
      configId = sel.configId;
      if (sel.model !== body.model) body.model = sel.model;
      const deadlineMs = Math.min(file.server.deadline_ms, sel.routing.deadline_ms ?? Infinity, deadlineHeader ?? Infinity);
      const stream = op !== 'embeddings' && body.stream === true;
      const client = new AbortController();
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
            includeUsage: (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true,
            metadata,
            routing: sel.routing,
            deadlineAt,
            clientSignal: client.signal,
            sink: stream ? new SseSink(res, responseHeaders) : undefined,
          },
          env: { file, health: sc.health, simulatedUrls: sc.simulators.urls },
        },
        observer: usage.wrap(tel.observer),
        usage,
        price: policy.price,
        attributes: {},
        responseHeaders: {},
      };
      const result = await policy.run(ctx);
      tel.finish({ switchyardTraceId: traceId, configId, strategy: sel.routing.strategy?.mode ?? 'single', metadata, status: result.status, result, attributes: ctx.attributes });
      if (result.streamed || res.headersSent) return;
      writeJson(res, result.status, result.body, { ...result.headers, ...responseHeaders() });
    } catch (e) {
      const err = e instanceof HttpError ? e : new HttpError(500, `internal error: ${(e as Error).message}`, 'internal_error');
      tel.finish({ switchyardTraceId: traceId, configId, strategy: '', metadata, status: err.status, errorType: err.code ?? err.type, attributes: ctx?.attributes });
      sendError(res, err, { ...(err instanceof PolicyError ? err.headers : {}), ...responseHeaders() });
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
    res.json({ object: 'list', data: [...seen].map(([id, owner]) => ({ id, object: 'model', created: 0, owned_by: owner })) });
  };
}

export function keysSelfHandler(sc: Sidecar) {
  return (req: Request, res: Response): void => {
    describeSelf(sc.policy.current, sc.policy.stateStore, req.headers).then(
      (body) => void res.json(body),
      (e: unknown) => {
        const err = e instanceof HttpError ? e : new HttpError(503, 'the policy state store is unavailable', 'state_store_unavailable');
        sendError(res, err);
      },
    );
  };
}

export function notFound(req: Request, res: Response): void {
  res.status(404).json(errorJson(404, `no route for ${req.method} ${req.path}`, 'not_found'));
}
