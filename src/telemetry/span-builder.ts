// Turns one request's record into OTel spans (one SERVER span per request, one CLIENT span per
// attempt, GenAI v1.41 attribute names) and metric points, through the real SDK.
import { createTraceState, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';
import { costUsd } from './cost.js';
import type { GatewayMetrics } from './metrics.js';
import { findPrice, type PriceTable } from './pricing.js';
import type { AttemptSpanRecord, RequestRecord } from './records.js';

/** Hands the SDK the ids the request path already chose (and echoed to the caller). */
export class PresetIds implements IdGenerator {
  private traceId = '';
  private spanId = '';
  set(traceId: string, spanId: string): void {
    this.traceId = traceId;
    this.spanId = spanId;
  }
  generateTraceId(): string {
    return this.traceId;
  }
  generateSpanId(): string {
    return this.spanId;
  }
}

export interface BuilderDeps {
  tracer: Tracer;
  ids: PresetIds;
  metrics: GatewayMetrics;
  prices: () => PriceTable;
}

interface Totals {
  cost: number;
  costKnown: boolean;
  input: number;
  output: number;
  sawUsage: boolean;
}

export function buildRequest(deps: BuilderDeps, rec: RequestRecord): void {
  const parent = rec.parent
    ? trace.setSpanContext(ROOT_CONTEXT, { traceId: rec.traceId, spanId: rec.parent.spanId, traceFlags: rec.parent.traceFlags, traceState: rec.parent.traceState ? createTraceState(rec.parent.traceState) : undefined, isRemote: true })
    : ROOT_CONTEXT;
  deps.ids.set(rec.traceId, rec.spanId);
  const span = deps.tracer.startSpan(`POST ${rec.route}`, { kind: SpanKind.SERVER, startTime: rec.start, attributes: { 'http.request.method': 'POST', 'http.route': rec.route, 'url.path': rec.route, 'gen_ai.operation.name': rec.op } }, parent);
  const ctx = trace.setSpan(parent, span);
  // Request identity on every span: views join attempts to requests by switchyard.trace_id.
  const meta: Attributes = { 'switchyard.trace_id': rec.switchyardTraceId };
  for (const [k, v] of Object.entries(rec.metadata)) meta[`switchyard.metadata.${k}`] = v;
  const totals: Totals = { cost: 0, costKnown: true, input: 0, output: 0, sawUsage: false };
  let lastTarget: string | undefined;
  for (const at of rec.attempts) {
    const { info } = at;
    if (info.resendCount === 0 && lastTarget !== undefined && lastTarget !== info.target) deps.metrics.fallbacks.add(1, { 'gen_ai.provider.name': info.providerName });
    if (info.resendCount > 0) deps.metrics.retries.add(1, { 'gen_ai.provider.name': info.providerName });
    lastTarget = info.target;
    buildAttempt(deps, rec, at, ctx, meta, totals);
  }
  for (const b of rec.backoffs) span.addEvent('switchyard.backoff', { 'switchyard.wait_ms': b.waitMs, 'switchyard.after_attempt': b.afterAttempt, 'switchyard.reason': b.reason }, b.time);

  const a: Attributes = {
    ...meta,
    'switchyard.config_id': rec.configId,
    'switchyard.strategy': rec.strategy,
    'switchyard.attempts': rec.attemptCount,
    'switchyard.retries': rec.retries,
    'switchyard.rescued': rec.rescued,
    'switchyard.cache_status': 'DISABLED',
    'http.response.status_code': rec.status,
  };
  if (rec.answered) {
    a['gen_ai.provider.name'] = rec.answered.providerName;
    a['gen_ai.request.model'] = rec.answered.model;
    a['switchyard.target'] = rec.answered.target;
    if (rec.answered.responseModel) a['gen_ai.response.model'] = rec.answered.responseModel;
  }
  // Request totals over all attempts, so cost panels can read tokens from requests alone.
  if (totals.sawUsage) {
    a['gen_ai.usage.input_tokens'] = totals.input;
    a['gen_ai.usage.output_tokens'] = totals.output;
  }
  if (totals.costKnown && rec.attemptCount > 0) a['switchyard.cost_usd'] = totals.cost;
  else if (!totals.costKnown) a['switchyard.cost_unknown'] = true;
  if (rec.status >= 400 || rec.streamError !== undefined) {
    a['error.type'] = rec.streamError ?? rec.errorType ?? String(rec.status);
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.setAttributes(a);
  span.end(rec.end);
  if (rec.rescued) deps.metrics.rescued.add(1);
}

function buildAttempt(deps: BuilderDeps, rec: RequestRecord, at: AttemptSpanRecord, ctx: Context, meta: Attributes, totals: Totals): void {
  const { info } = at;
  deps.ids.set(rec.traceId, at.spanId);
  const a: Attributes = {
    'gen_ai.operation.name': info.op,
    'gen_ai.provider.name': info.providerName,
    'gen_ai.request.model': info.model,
    'gen_ai.request.stream': info.stream,
    'server.address': info.serverAddress,
    'server.port': info.serverPort,
    'switchyard.attempt': info.attempt,
    'switchyard.target': info.target,
    'switchyard.provider': info.providerSlug,
    ...meta,
  };
  if (info.resendCount > 0) a['http.request.resend_count'] = info.resendCount;
  if (at.input !== undefined) a['gen_ai.input.messages'] = at.input;
  const span: Span = deps.tracer.startSpan(`${info.op} ${info.model}`, { kind: SpanKind.CLIENT, startTime: at.start, attributes: a }, ctx);
  if (at.firstChunk) {
    span.addEvent('gen_ai.first_chunk', { 'switchyard.ttft_ms': Math.round(at.firstChunk.ttftMs * 10) / 10 }, at.firstChunk.time);
    deps.metrics.ttft.record(at.firstChunk.ttftMs / 1000, { 'gen_ai.provider.name': info.providerName, 'gen_ai.request.model': info.model });
  }
  const r = at.result;
  if (!r) {
    // Never reported an end (should not happen): close it with the request, without an outcome.
    span.end(rec.end);
    return;
  }
  const e: Attributes = { 'switchyard.outcome': r.outcome };
  if (r.status !== undefined) e['http.response.status_code'] = r.status;
  if (r.responseModel) e['gen_ai.response.model'] = r.responseModel;
  if (r.responseId) e['gen_ai.response.id'] = r.responseId;
  if (r.finishReasons?.length) e['gen_ai.response.finish_reasons'] = r.finishReasons;
  if (r.ttftMs !== undefined) e['switchyard.ttft_ms'] = Math.round(r.ttftMs * 10) / 10;
  const u = r.usage;
  if (u) {
    if (u.input_tokens !== undefined) e['gen_ai.usage.input_tokens'] = u.input_tokens;
    if (u.output_tokens !== undefined) e['gen_ai.usage.output_tokens'] = u.output_tokens;
    if (u.cache_read_tokens !== undefined) e['gen_ai.usage.cache_read.input_tokens'] = u.cache_read_tokens;
    if (u.cache_write_tokens !== undefined) e['gen_ai.usage.cache_creation.input_tokens'] = u.cache_write_tokens;
    if (u.reasoning_tokens !== undefined) e['gen_ai.usage.reasoning.output_tokens'] = u.reasoning_tokens;
  }
  if (u?.input_tokens !== undefined || u?.output_tokens !== undefined) {
    totals.sawUsage = true;
    totals.input += u.input_tokens ?? 0;
    totals.output += u.output_tokens ?? 0;
  }
  if (r.outcome === 'ok' || u?.input_tokens !== undefined) {
    const price = findPrice(deps.prices(), info.providerName, r.responseModel ?? info.model) ?? findPrice(deps.prices(), info.providerName, info.model);
    if (price && u) {
      const c = costUsd(u, price);
      e['switchyard.cost_usd'] = c;
      totals.cost += c;
    } else {
      // Unknown price: no cost recorded (not 0), flagged so dashboards can count the gap.
      e['switchyard.cost_unknown'] = true;
      totals.costKnown = false;
    }
  }
  if (r.outcome !== 'ok') {
    e['error.type'] = r.errorType ?? r.outcome;
    span.setStatus({ code: SpanStatusCode.ERROR, message: r.errorMessage });
  }
  if (at.output !== undefined) e['gen_ai.output.messages'] = at.output;
  span.setAttributes(e);
  span.end(at.end);
  // Metric attribute sets are kept small on purpose: the SDK hashes every set on every record.
  const base: Attributes = { 'gen_ai.operation.name': info.op, 'gen_ai.provider.name': info.providerName, 'gen_ai.request.model': info.model };
  const ms = (at.end ?? rec.end) - at.start;
  deps.metrics.duration.record(ms / 1000, r.outcome === 'ok' ? base : { ...base, 'error.type': r.errorType ?? r.outcome });
  deps.metrics.attempts.add(1, { 'gen_ai.provider.name': info.providerName, 'gen_ai.request.model': info.model, 'switchyard.outcome': r.outcome });
  if (u?.input_tokens !== undefined) deps.metrics.tokens.record(u.input_tokens, { ...base, 'gen_ai.token.type': 'input' });
  if (u?.output_tokens !== undefined) deps.metrics.tokens.record(u.output_tokens, { ...base, 'gen_ai.token.type': 'output' });
}
