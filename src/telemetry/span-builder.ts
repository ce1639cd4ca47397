// Turns one request's record into OTel spans (one SERVER span per request, one CLIENT span per
// attempt, GenAI v1.41 attribute names) and metric points. The tracer is plain-spans.ts's (the
// SDK's span machinery without its Span class) or the SDK's own; both export the same bytes.
import {
  createTraceState,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';
import { attemptCostUsd } from './cost.js';
import type { CounterBatch, GatewayMetrics, MetricAttributeSets, ModelAttributeSets } from './metrics.js';
import type { PriceSpec } from '../config/schema.js';
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
  /** Memoised price lookup (pricing.ts priceLookup). */
  price: (provider: string, model: string | undefined) => PriceSpec | undefined;
  /** Counter increments of the current batch, added once per attribute set (flushed by the caller). */
  counters: CounterBatch;
  metricAttributes: MetricAttributeSets;
}

interface Totals {
  cost: number;
  costKnown: boolean;
  input: number;
  output: number;
  sawUsage: boolean;
}

// Attribute objects are written as one literal each, with undefined for absent values (the SDK
// skips them): adding keys one by one to a spread copy measured ~1 µs per key in the export
// worker's profile, more than the SDK's own work on the same span. They are set after
// startSpan, not passed to it: the tracer copies start attributes twice more (sanitising for
// the sampler, then again after it), and the env samplers do not read attributes.

export function buildRequest(deps: BuilderDeps, rec: RequestRecord): void {
  const parent = rec.parent
    ? trace.setSpanContext(ROOT_CONTEXT, {
        traceId: rec.traceId,
        spanId: rec.parent.spanId,
        traceFlags: rec.parent.traceFlags,
        traceState: rec.parent.traceState ? createTraceState(rec.parent.traceState) : undefined,
        isRemote: true,
      })
    : ROOT_CONTEXT;
  deps.ids.set(rec.traceId, rec.spanId);
  const span = deps.tracer.startSpan(`POST ${rec.route}`, { kind: SpanKind.SERVER, startTime: rec.start }, parent);
  const ctx = trace.setSpan(parent, span);
  // Request identity on every span: views join attempts to requests by switchyard.trace_id.
  const meta = metadataAttributes(rec.metadata);
  const totals: Totals = { cost: 0, costKnown: true, input: 0, output: 0, sawUsage: false };
  let lastTarget: string | undefined;
  for (const at of rec.attempts) {
    const { info } = at;
    const sets = deps.metricAttributes.of(info.op, info.providerName, info.model);
    if (info.resendCount === 0 && !info.hedge && lastTarget !== undefined && lastTarget !== info.target)
      deps.counters.add(deps.metrics.fallbacks, sets.provider);
    if (info.resendCount > 0) deps.counters.add(deps.metrics.retries, sets.provider);
    else if (info.hedge) deps.counters.add(deps.metrics.hedgesStarted, sets.provider);
    lastTarget = info.target;
    buildAttempt(deps, rec, at, ctx, meta, totals, sets);
  }
  for (const b of rec.backoffs)
    span.addEvent(
      'switchyard.backoff',
      { 'switchyard.wait_ms': b.waitMs, 'switchyard.after_attempt': b.afterAttempt, 'switchyard.reason': b.reason },
      b.time,
    );

  const ans = rec.answered;
  const failed = rec.status >= 400 || rec.streamError !== undefined;
  span.setAttributes({
    'http.request.method': 'POST',
    'http.route': rec.route,
    'url.path': rec.route,
    'gen_ai.operation.name': rec.op,
    'switchyard.trace_id': rec.switchyardTraceId,
    'switchyard.config_id': rec.configId,
    'switchyard.strategy': rec.strategy,
    'switchyard.attempts': rec.attemptCount,
    'switchyard.retries': rec.retries,
    'switchyard.rescued': rec.rescued,
    // The cache stage's status (src/policy/cache); DISABLED when the request never reached it.
    'switchyard.cache_status': rec.attributes?.['switchyard.cache_status'] ?? 'DISABLED',
    'http.response.status_code': rec.status,
    'gen_ai.provider.name': ans?.providerName,
    'gen_ai.request.model': ans?.model,
    'switchyard.target': ans?.target,
    'gen_ai.response.model': ans?.responseModel || undefined,
    // Request totals over all attempts, so cost panels can read tokens from requests alone.
    'gen_ai.usage.input_tokens': totals.sawUsage ? totals.input : undefined,
    'gen_ai.usage.output_tokens': totals.sawUsage ? totals.output : undefined,
    'switchyard.cost_usd': totals.costKnown && rec.attemptCount > 0 ? totals.cost : undefined,
    'switchyard.cost_unknown': totals.costKnown ? undefined : true,
    'error.type': failed ? (rec.streamError ?? rec.errorType ?? String(rec.status)) : undefined,
  });
  if (meta) span.setAttributes(meta);
  if (rec.attributes) {
    span.setAttributes(rec.attributes);
    if (rec.attributes['switchyard.policy.fail_open'] === true) deps.counters.add(deps.metrics.policyFailOpen);
    if (rec.attributes['switchyard.hedge.won'] === true) deps.counters.add(deps.metrics.hedgesWon);
    const throttled = rec.attributes['switchyard.hedge.throttled'];
    for (let n = typeof throttled === 'number' ? throttled : 0; n > 0; n--)
      deps.counters.add(deps.metrics.hedgesThrottled);
  }
  if (rec.events)
    for (const e of rec.events) {
      span.addEvent(e.name, e.attributes, e.time);
      if (e.name === 'switchyard.ejection')
        deps.counters.add(deps.metrics.ejections, ejectionSets[e.attributes['switchyard.ejection.action'] as 'eject']);
    }
  if (failed) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end(rec.end);
  if (rec.rescued) deps.counters.add(deps.metrics.rescued);
}

// Frozen once: CounterBatch sums by attribute-set identity.
const ejectionSets = {
  eject: Object.freeze({ 'switchyard.ejection.action': 'eject' }),
  return: Object.freeze({ 'switchyard.ejection.action': 'return' }),
};

/** switchyard.metadata.<key> attributes, or undefined when the request carried none. */
function metadataAttributes(metadata: Record<string, string>): Attributes | undefined {
  let out: Attributes | undefined;
  for (const k in metadata) (out ??= {})[`switchyard.metadata.${k}`] = metadata[k];
  return out;
}

function buildAttempt(
  deps: BuilderDeps,
  rec: RequestRecord,
  at: AttemptSpanRecord,
  ctx: Context,
  meta: Attributes | undefined,
  totals: Totals,
  sets: ModelAttributeSets,
): void {
  const { info } = at;
  deps.ids.set(rec.traceId, at.spanId);
  const span: Span = deps.tracer.startSpan(
    `${info.op} ${info.model}`,
    { kind: SpanKind.CLIENT, startTime: at.start },
    ctx,
  );
  span.setAttributes({
    'gen_ai.operation.name': info.op,
    'gen_ai.provider.name': info.providerName,
    'gen_ai.request.model': info.model,
    'gen_ai.request.stream': info.stream,
    'server.address': info.serverAddress,
    'server.port': info.serverPort,
    'switchyard.attempt': info.attempt,
    'switchyard.target': info.target,
    'switchyard.provider': info.providerSlug,
    'switchyard.trace_id': rec.switchyardTraceId,
    'http.request.resend_count': info.resendCount > 0 ? info.resendCount : undefined,
    'switchyard.hedge': info.hedge,
    'gen_ai.input.messages': at.input,
  });
  if (meta) span.setAttributes(meta);
  if (at.firstChunk) {
    span.addEvent(
      'gen_ai.first_chunk',
      { 'switchyard.ttft_ms': Math.round(at.firstChunk.ttftMs * 10) / 10 },
      at.firstChunk.time,
    );
    deps.metrics.ttft.record(at.firstChunk.ttftMs / 1000, sets.ttft);
  }
  const r = at.result;
  if (!r) {
    // Never reported an end (should not happen): close it with the request, without an outcome.
    span.end(rec.end);
    return;
  }
  const u = r.usage;
  if (u?.input_tokens !== undefined || u?.output_tokens !== undefined) {
    totals.sawUsage = true;
    totals.input += u.input_tokens ?? 0;
    totals.output += u.output_tokens ?? 0;
  }
  let cost: number | undefined;
  let costUnknown: true | undefined;
  const priced = attemptCostUsd(r, info.providerName, info.model, deps.price);
  if (priced.priced) {
    if (priced.usd !== undefined) {
      cost = priced.usd;
      totals.cost += cost;
    } else {
      // Unknown price: no cost recorded (not 0), flagged so dashboards can count the gap.
      costUnknown = true;
      totals.costKnown = false;
    }
  }
  const ok = r.outcome === 'ok';
  span.setAttributes({
    'switchyard.outcome': r.outcome,
    'http.response.status_code': r.status,
    'gen_ai.response.model': r.responseModel || undefined,
    'gen_ai.response.id': r.responseId || undefined,
    'gen_ai.response.finish_reasons': r.finishReasons?.length ? r.finishReasons : undefined,
    'switchyard.ttft_ms': r.ttftMs !== undefined ? Math.round(r.ttftMs * 10) / 10 : undefined,
    'gen_ai.usage.input_tokens': u?.input_tokens,
    'gen_ai.usage.output_tokens': u?.output_tokens,
    'gen_ai.usage.cache_read.input_tokens': u?.cache_read_tokens,
    'gen_ai.usage.cache_creation.input_tokens': u?.cache_write_tokens,
    'gen_ai.usage.reasoning.output_tokens': u?.reasoning_tokens,
    'switchyard.cost_usd': cost,
    'switchyard.cost_unknown': costUnknown,
    'error.type': ok ? undefined : (r.errorType ?? r.outcome),
    'gen_ai.output.messages': at.output,
  });
  if (!ok) span.setStatus({ code: SpanStatusCode.ERROR, message: r.errorMessage });
  span.end(at.end);
  // Metric attribute sets are kept small on purpose: the SDK hashes every set on every record.
  const ms = (at.end ?? rec.end) - at.start;
  deps.metrics.duration.record(ms / 1000, ok ? sets.base : sets.failed(r.errorType ?? r.outcome));
  deps.counters.add(deps.metrics.attempts, sets.outcome(r.outcome));
  if (u?.input_tokens !== undefined) deps.metrics.tokens.record(u.input_tokens, sets.inputTokens);
  if (u?.output_tokens !== undefined) deps.metrics.tokens.record(u.output_tokens, sets.outputTokens);
}
