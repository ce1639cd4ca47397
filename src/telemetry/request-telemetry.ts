// One SERVER span per request, one CLIENT span per attempt, with GenAI v1.41 attribute names.
import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { IncomingHttpHeaders } from 'node:http';
import type { Operation } from '../providers/types.js';
import type { AttemptEnd, AttemptInfo, AttemptObserver, RequestObserver } from '../routing/observer.js';
import { costUsd } from './cost.js';
import type { GatewayMetrics } from './metrics.js';
import { findPrice, type PriceTable } from './pricing.js';
import type { RequestSummary, RequestTelemetry } from './types.js';
import type { ContentCapture } from './content.js';

export interface TelemetryDeps {
  tracer: Tracer;
  metrics: GatewayMetrics;
  prices: () => PriceTable;
  capture?: ContentCapture;
}

export class SpanRequestTelemetry implements RequestTelemetry, RequestObserver {
  readonly traceId: string;
  readonly observer: RequestObserver = this;
  private readonly span: Span;
  private readonly ctx: Context;
  private metadataAttrs: Attributes = {};
  private costTotal = 0;
  private costKnown = true;
  private inputTokens = 0;
  private outputTokens = 0;
  private sawUsage = false;
  private lastTarget?: string;

  constructor(
    private readonly deps: TelemetryDeps,
    private readonly op: Operation,
    route: string,
    headers: IncomingHttpHeaders,
  ) {
    const parent = propagation.extract(ROOT_CONTEXT, headers);
    this.span = deps.tracer.startSpan(`POST ${route}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'POST', 'http.route': route, 'url.path': route, 'gen_ai.operation.name': op } }, parent);
    this.ctx = trace.setSpan(parent, this.span);
    this.traceId = this.span.spanContext().traceId;
  }

  setRequestInfo(switchyardTraceId: string, metadata: Record<string, string>): void {
    const attrs: Attributes = { 'switchyard.trace_id': switchyardTraceId };
    for (const [k, v] of Object.entries(metadata)) attrs[`switchyard.metadata.${k}`] = v;
    this.metadataAttrs = attrs;
    this.span.setAttributes(attrs);
  }

  attemptStart(info: AttemptInfo): AttemptObserver {
    const span = this.deps.tracer.startSpan(
      `${info.op} ${info.model}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'gen_ai.operation.name': info.op,
          'gen_ai.provider.name': info.providerName,
          'gen_ai.request.model': info.model,
          'gen_ai.request.stream': info.stream,
          'server.address': info.serverAddress,
          'server.port': info.serverPort,
          'switchyard.attempt': info.attempt,
          'switchyard.target': info.target,
          'switchyard.provider': info.providerSlug,
          ...(info.resendCount > 0 ? { 'http.request.resend_count': info.resendCount } : {}),
          ...this.metadataAttrs,
        },
      },
      this.ctx,
    );
    if (info.resendCount === 0 && this.lastTarget !== undefined && this.lastTarget !== info.target) this.deps.metrics.fallbacks.add(1, { 'gen_ai.provider.name': info.providerName });
    if (info.resendCount > 0) this.deps.metrics.retries.add(1, { 'gen_ai.provider.name': info.providerName });
    this.lastTarget = info.target;
    this.deps.capture?.input(span, info.body);
    const started = performance.now();
    return {
      firstChunk: (ttftMs) => {
        span.addEvent('gen_ai.first_chunk', { 'switchyard.ttft_ms': Math.round(ttftMs * 10) / 10 });
        this.deps.metrics.ttft.record(ttftMs / 1000, { 'gen_ai.provider.name': info.providerName, 'gen_ai.request.model': info.model });
      },
      end: (r) => this.endAttempt(span, info, r, performance.now() - started),
    };
  }

  private endAttempt(span: Span, info: AttemptInfo, r: AttemptEnd, ms: number): void {
    const a: Attributes = { 'switchyard.outcome': r.outcome };
    if (r.status !== undefined) a['http.response.status_code'] = r.status;
    if (r.responseModel) a['gen_ai.response.model'] = r.responseModel;
    if (r.responseId) a['gen_ai.response.id'] = r.responseId;
    if (r.finishReasons?.length) a['gen_ai.response.finish_reasons'] = r.finishReasons;
    if (r.ttftMs !== undefined) a['switchyard.ttft_ms'] = Math.round(r.ttftMs * 10) / 10;
    const u = r.usage;
    if (u) {
      if (u.input_tokens !== undefined) a['gen_ai.usage.input_tokens'] = u.input_tokens;
      if (u.output_tokens !== undefined) a['gen_ai.usage.output_tokens'] = u.output_tokens;
      if (u.cache_read_tokens !== undefined) a['gen_ai.usage.cache_read.input_tokens'] = u.cache_read_tokens;
      if (u.cache_write_tokens !== undefined) a['gen_ai.usage.cache_creation.input_tokens'] = u.cache_write_tokens;
      if (u.reasoning_tokens !== undefined) a['gen_ai.usage.reasoning.output_tokens'] = u.reasoning_tokens;
    }
    if (u?.input_tokens !== undefined || u?.output_tokens !== undefined) {
      this.sawUsage = true;
      this.inputTokens += u.input_tokens ?? 0;
      this.outputTokens += u.output_tokens ?? 0;
    }
    if (r.outcome === 'ok' || u?.input_tokens !== undefined) {
      const price = findPrice(this.deps.prices(), info.providerName, r.responseModel ?? info.model) ?? findPrice(this.deps.prices(), info.providerName, info.model);
      if (price && u) {
        const c = costUsd(u, price);
        a['switchyard.cost_usd'] = c;
        this.costTotal += c;
      } else {
        // Unknown price: no cost recorded (not 0), flagged so dashboards can count the gap.
        a['switchyard.cost_unknown'] = true;
        this.costKnown = false;
      }
    }
    if (r.outcome !== 'ok') {
      a['error.type'] = r.errorType ?? r.outcome;
      span.setStatus({ code: SpanStatusCode.ERROR, message: r.errorMessage });
    }
    span.setAttributes(a);
    if (r.outcome === 'ok') this.deps.capture?.output(span, r.output);
    span.end();
    // Metric attribute sets are kept small on purpose: the SDK hashes every set on every record,
    // which measured as the largest telemetry cost on the hot path. Spans carry the full detail.
    const base: Attributes = { 'gen_ai.operation.name': info.op, 'gen_ai.provider.name': info.providerName, 'gen_ai.request.model': info.model };
    this.deps.metrics.duration.record(ms / 1000, r.outcome === 'ok' ? base : { ...base, 'error.type': r.errorType ?? r.outcome });
    this.deps.metrics.attempts.add(1, { 'gen_ai.provider.name': info.providerName, 'gen_ai.request.model': info.model, 'switchyard.outcome': r.outcome });
    if (u?.input_tokens !== undefined) this.deps.metrics.tokens.record(u.input_tokens, { ...base, 'gen_ai.token.type': 'input' });
    if (u?.output_tokens !== undefined) this.deps.metrics.tokens.record(u.output_tokens, { ...base, 'gen_ai.token.type': 'output' });
  }

  backoff(waitMs: number, afterAttempt: number, reason: 'backoff' | 'retry_after'): void {
    this.span.addEvent('switchyard.backoff', { 'switchyard.wait_ms': waitMs, 'switchyard.after_attempt': afterAttempt, 'switchyard.reason': reason });
  }

  finish(s: RequestSummary): void {
    const r = s.result;
    const a: Attributes = {
      'switchyard.trace_id': s.switchyardTraceId,
      'switchyard.config_id': s.configId,
      'switchyard.strategy': s.strategy,
      'switchyard.attempts': r?.attempts.length ?? 0,
      'switchyard.retries': r?.retries ?? 0,
      'switchyard.rescued': r?.rescued ?? false,
      'switchyard.cache_status': 'DISABLED',
      'http.response.status_code': s.status,
    };
    if (r?.answered) {
      a['gen_ai.provider.name'] = r.answered.providerName;
      a['gen_ai.request.model'] = r.answered.model;
      a['switchyard.target'] = r.answered.target;
      if (r.answered.responseModel) a['gen_ai.response.model'] = r.answered.responseModel;
    }
    // Request totals over all attempts, so cost panels can read tokens from requests alone.
    if (this.sawUsage) {
      a['gen_ai.usage.input_tokens'] = this.inputTokens;
      a['gen_ai.usage.output_tokens'] = this.outputTokens;
    }
    if (this.costKnown && r && r.attempts.length > 0) a['switchyard.cost_usd'] = this.costTotal;
    else if (!this.costKnown) a['switchyard.cost_unknown'] = true;
    const failed = s.status >= 400 || r?.streamError !== undefined;
    if (failed) {
      a['error.type'] = r?.streamError ?? s.errorType ?? String(s.status);
      this.span.setStatus({ code: SpanStatusCode.ERROR });
    }
    this.span.setAttributes(a);
    this.span.end();
    if (r?.rescued) this.deps.metrics.rescued.add(1);
  }
}
