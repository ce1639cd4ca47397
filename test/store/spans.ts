// Builds otel_traces rows shaped like the sidecar's spans (DESIGN.md attribute names): one
// SERVER span per request and one CLIENT span per attempt under it.
import { randomBytes } from 'node:crypto';
import type { OtelTraceRow } from '../../src/store/types.js';

export interface SeedAttempt {
  provider: string;
  model: string;
  durationMs: number;
  outcome?: string; // default 'ok'
  status?: number; // default 200 for ok, else 503
  ttftMs?: number;
  costUsd?: number | null; // null/undefined: unknown price, attribute absent
  inputTokens?: number;
  outputTokens?: number;
}

export interface SeedRequest {
  atMs: number;
  attempts: SeedAttempt[];
  requestTraceId?: string; // x-switchyard-trace-id; default: the W3C trace id
  metadata?: Record<string, string>;
  configId?: string;
  /** 'short' = exporter spelling (Client, Error); 'enum' = SPAN_KIND_CLIENT, STATUS_CODE_ERROR. */
  spelling?: 'short' | 'enum';
  serviceName?: string;
  /** switchyard.virtual_key on the request span (the key's name); absent when not given. */
  virtualKey?: string;
  /** switchyard.budget.usage on the request span (fullest budget reserved against, 0..1+). */
  budgetUsage?: number;
  /** switchyard.guardrails.verdict on the request span (passed, failed, denied); absent when not given. */
  guardrailVerdict?: string;
  /**
   * The request's HTTP status (default: 200 when an attempt answered, else the last attempt's
   * status or 503). With no attempts, a policy refusal: 401, 403, 412 or 429.
   */
  status?: number;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const ns = (ms: number) => (BigInt(Math.round(ms * 1000)) * 1000n).toString();

function base(): Omit<
  OtelTraceRow,
  | 'Timestamp'
  | 'TraceId'
  | 'SpanId'
  | 'ParentSpanId'
  | 'SpanName'
  | 'SpanKind'
  | 'SpanAttributes'
  | 'Duration'
  | 'StatusCode'
> {
  return {
    TraceState: '',
    ServiceName: 'checkout',
    ResourceAttributes: { 'service.name': 'checkout' },
    ScopeName: 'switchyard',
    ScopeVersion: '0.1.0',
    StatusMessage: '',
    'Events.Timestamp': [],
    'Events.Name': [],
    'Events.Attributes': [],
    'Links.TraceId': [],
    'Links.SpanId': [],
    'Links.TraceState': [],
    'Links.Attributes': [],
  };
}

export function requestSpans(req: SeedRequest): OtelTraceRow[] {
  const traceId = hex(16);
  const serverSpanId = hex(8);
  const enumSpelling = req.spelling === 'enum';
  const kind = (k: 'Server' | 'Client') => (enumSpelling ? `SPAN_KIND_${k.toUpperCase()}` : k);
  const status = (s: 'Ok' | 'Error') => (enumSpelling ? `STATUS_CODE_${s.toUpperCase()}` : s);
  const rows: OtelTraceRow[] = [];
  let t = req.atMs + 1;
  let answering: SeedAttempt | undefined;
  let firstFailed = false;
  const known: number[] = [];
  let inTok = 0;
  let outTok = 0;
  req.attempts.forEach((a, i) => {
    const outcome = a.outcome ?? 'ok';
    const ok = outcome === 'ok';
    if (i === 0 && !ok) firstFailed = true;
    if (ok) answering = a;
    const attrs: Record<string, string> = {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': a.provider,
      'gen_ai.request.model': a.model,
      'switchyard.attempt': String(i),
      'switchyard.target': String(i),
      'switchyard.outcome': outcome,
      'http.response.status_code': String(a.status ?? (ok ? 200 : 503)),
      'server.address': `${a.provider}.example`,
    };
    if (req.requestTraceId) attrs['switchyard.trace_id'] = req.requestTraceId;
    if (ok) {
      attrs['gen_ai.response.model'] = `${a.model}`;
      attrs['gen_ai.usage.input_tokens'] = String(a.inputTokens ?? 0);
      attrs['gen_ai.usage.output_tokens'] = String(a.outputTokens ?? 0);
      inTok += a.inputTokens ?? 0;
      outTok += a.outputTokens ?? 0;
    } else {
      attrs['error.type'] = String(a.status ?? 503);
    }
    if (a.ttftMs !== undefined) {
      attrs['switchyard.ttft_ms'] = String(a.ttftMs);
      attrs['gen_ai.request.stream'] = 'true';
    }
    if (a.costUsd !== undefined && a.costUsd !== null) {
      attrs['switchyard.cost_usd'] = String(a.costUsd);
      known.push(a.costUsd);
    }
    rows.push({
      ...base(),
      ServiceName: req.serviceName ?? 'checkout',
      Timestamp: ns(t),
      TraceId: traceId,
      SpanId: hex(8),
      ParentSpanId: serverSpanId,
      SpanName: `chat ${a.model}`,
      SpanKind: kind('Client'),
      SpanAttributes: attrs,
      Duration: ns(a.durationMs),
      StatusCode: ok ? status('Ok') : status('Error'),
    });
    t += a.durationMs;
  });
  const okRequest = answering !== undefined;
  const serverAttrs: Record<string, string> = {
    'switchyard.trace_id': req.requestTraceId ?? traceId,
    'switchyard.config_id': req.configId ?? 'default',
    'switchyard.strategy': 'fallback',
    'switchyard.attempts': String(req.attempts.length),
    'switchyard.rescued': String(okRequest && firstFailed),
    'http.response.status_code': String(req.status ?? (okRequest ? 200 : (req.attempts.at(-1)?.status ?? 503))),
    'http.request.method': 'POST',
  };
  if (known.length > 0) serverAttrs['switchyard.cost_usd'] = String(known.reduce((s, c) => s + c, 0));
  if (answering) {
    serverAttrs['gen_ai.provider.name'] = answering.provider;
    serverAttrs['gen_ai.request.model'] = answering.model;
    serverAttrs['gen_ai.response.model'] = answering.model;
    serverAttrs['gen_ai.usage.input_tokens'] = String(inTok);
    serverAttrs['gen_ai.usage.output_tokens'] = String(outTok);
  }
  if (req.virtualKey !== undefined) serverAttrs['switchyard.virtual_key'] = req.virtualKey;
  if (req.budgetUsage !== undefined) serverAttrs['switchyard.budget.usage'] = String(req.budgetUsage);
  if (req.guardrailVerdict !== undefined) serverAttrs['switchyard.guardrails.verdict'] = req.guardrailVerdict;
  for (const [k, v] of Object.entries(req.metadata ?? {})) serverAttrs[`switchyard.metadata.${k}`] = v;
  rows.unshift({
    ...base(),
    ServiceName: req.serviceName ?? 'checkout',
    Timestamp: ns(req.atMs),
    TraceId: traceId,
    SpanId: serverSpanId,
    ParentSpanId: '',
    SpanName: 'POST /v1/chat/completions',
    SpanKind: kind('Server'),
    SpanAttributes: serverAttrs,
    Duration: ns(t - req.atMs + 1),
    StatusCode: okRequest ? status('Unset' as 'Ok') : status('Error'),
  });
  return rows;
}
