// Plain spans (src/telemetry/plain-spans.ts) against the SDK's Tracer and Span: the same records
// go through the pipeline both ways; both span lists are serialised with the official
// ProtobufTraceSerializer (bytes equal, and equal once decoded from the official .proto) and
// JsonTraceSerializer (parsed JSON equal), and our otlp-proto-writer's bytes for the plain spans
// equal the official serialiser's for the SDK spans. Also with samplers (ratio 0, an unsampled
// parent, a ratio that keeps some, a sampler returning RECORD_ONLY, attributes and tracestate)
// and with the OTEL_SPAN_* limits low enough to drop and truncate.
import { createTraceState, SamplingDecision, type Attributes, type Context, type SpanKind } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, Sampler, SamplingResult, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeTraceRequest } from '../../src/telemetry/otlp-proto-writer.js';
import { createPipeline, type PipelineOptions } from '../../src/telemetry/pipeline.js';
import type { RequestRecord } from '../../src/telemetry/records.js';
import { full, hex, minimal, okAttempt, records, request, T0 } from './record-fixtures.js';
import { decodeTraceRequest } from './otlp-decode.js';

const decode = decodeTraceRequest;

/** The spans a pipeline hands its processor for these records (recording ones, sampled or not). */
function spansOf(spans: 'plain' | 'sdk', recs: RequestRecord[], opts: PipelineOptions = {}): ReadableSpan[] {
  const out: ReadableSpan[] = [];
  const processor: SpanProcessor = {
    onStart() {},
    onEnd: (s) => void out.push(s),
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  const pipeline = createPipeline({ spanProcessor: processor, otlpMetrics: false, env: {}, ...opts, spans });
  pipeline.build(recs);
  return out;
}

/** Builds both ways; the exports must be equal. Returns the plain spans. */
function expectSame(recs: RequestRecord[], opts: PipelineOptions = {}): ReadableSpan[] {
  const sdk = spansOf('sdk', recs, opts);
  const plain = spansOf('plain', recs, opts);
  expect(plain.length).toBe(sdk.length);
  for (const [which, set] of [
    ['all', [sdk, plain]],
    ...sdk.map((s, i) => [`span ${i}`, [[s], [plain[i]]]] as const),
  ] as const) {
    const [a, b] = set as readonly [ReadableSpan[], ReadableSpan[]];
    const pa = ProtobufTraceSerializer.serializeRequest(a)!;
    const pb = ProtobufTraceSerializer.serializeRequest(b)!;
    expect(decode(pb), which).toEqual(decode(pa));
    expect(Buffer.from(pb).equals(Buffer.from(pa)), which).toBe(true);
    expect(Buffer.from(encodeTraceRequest(b)).equals(Buffer.from(pa)), which).toBe(true);
    const ja = JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(a)!).toString());
    const jb = JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(b)!).toString());
    expect(jb, which).toEqual(ja);
  }
  // What the serialisers do not carry but processors may read.
  for (let i = 0; i < sdk.length; i++) {
    const [a, b] = [sdk[i], plain[i]];
    expect(b.spanContext()).toEqual(a.spanContext());
    expect(b.parentSpanContext).toEqual(a.parentSpanContext);
    expect([b.duration, b.ended, b.status]).toEqual([a.duration, a.ended, a.status]);
    // Two pipelines, two resources: equal, not the same object.
    expect(b.resource.attributes).toEqual(a.resource.attributes);
    expect(b.instrumentationScope).toEqual(a.instrumentationScope);
  }
  return plain;
}

// The request path records epoch ms; the SDK reads a small number as a performance timestamp
// (shifted by a clock offset it measures per span, so two builds cannot be compared).
const atEpoch = (r: RequestRecord): RequestRecord => ({
  ...r,
  start: T0 + r.start,
  end: T0 + r.end,
  attempts: r.attempts.map((a) => ({ ...a, start: T0 + a.start, end: a.end === undefined ? undefined : T0 + a.end })),
});

const unsampledParent = request(7, { parent: { spanId: hex(16, 8), traceFlags: 0, traceState: 'k=v' } });
const all = [full, atEpoch(minimal), atEpoch(okAttempt), ...records, unsampledParent];

afterEach(() => vi.unstubAllEnvs());

describe('plain spans', () => {
  it('export the same protobuf and JSON as the SDK tracer, for every kind of record', () => {
    const spans = expectSame(all);
    // full: 1 + 2, minimal: 1, okAttempt: 2, records: 2 + 4 + 1; the unsampled parent: none.
    expect(spans.length).toBe(13);
    expect(spans.some((s) => s.parentSpanContext?.isRemote && s.spanContext().traceState)).toBe(true);
    expect(spans.some((s) => s.events.length > 1 && s.status.code === 2)).toBe(true);
  });

  it('honour the env samplers: ratio 0 exports nothing, an unsampled parent nothing, a ratio the same subset', () => {
    expect(expectSame(all, { env: { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' } })).toEqual([]);
    expect(expectSame([unsampledParent])).toEqual([]);
    expect(expectSame([unsampledParent], { env: { OTEL_TRACES_SAMPLER: 'always_on' } })).toHaveLength(2);
    // Trace ids spread over the ratio sampler's range (it reads their last 8 hex digits).
    const many = Array.from({ length: 64 }, (_, i) =>
      request(100 + i, { traceId: hex(24, i) + ((i * 0x9e3779b1) >>> 0).toString(16).padStart(8, '0') }),
    );
    const kept = expectSame(many, {
      env: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5' },
    });
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(128);
  });

  it('pass the sampler what the tracer passes, and take its decision, attributes and tracestate', () => {
    const calls: unknown[][] = [];
    const sampler = (decide: (name: string) => SamplingDecision): Sampler => ({
      shouldSample(
        ctx: Context,
        traceId: string,
        name: string,
        kind: SpanKind,
        attrs: Attributes,
        links,
      ): SamplingResult {
        calls.push([ctx, traceId, name, kind, { ...attrs }, links]);
        return {
          decision: decide(name),
          attributes: { 'sampler.said': name, 'sampler.undefined': undefined },
          traceState: createTraceState(`s=${kind}`),
        };
      },
      toString: () => 'test',
    });
    // RECORD_ONLY request spans: recorded (handed to the processor) but not sampled.
    const recordOnly = sampler((n) =>
      n.startsWith('POST') ? SamplingDecision.RECORD : SamplingDecision.RECORD_AND_SAMPLED,
    );
    const spans = expectSame(all, { sampler: recordOnly });
    expect(spans.some((s) => s.spanContext().traceFlags === 0)).toBe(true);
    const sdkCalls = calls.splice(0, calls.length / 2);
    expect(calls.map((c) => c.slice(1))).toEqual(sdkCalls.map((c) => c.slice(1)));
    // Attempts under a non-recorded request: the context still carries the request's ids.
    expectSame(all, {
      sampler: sampler((n) =>
        n.startsWith('POST') ? SamplingDecision.NOT_RECORD : SamplingDecision.RECORD_AND_SAMPLED,
      ),
    });
  });

  it('apply the OTEL_SPAN_* limits as the SDK does (dropped and truncated attributes, events)', () => {
    vi.stubEnv('OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', '7');
    vi.stubEnv('OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', '5');
    vi.stubEnv('OTEL_SPAN_EVENT_COUNT_LIMIT', '2');
    vi.stubEnv('OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT', '1');
    const spans = expectSame(all);
    expect(spans.some((s) => s.droppedAttributesCount > 0)).toBe(true);
    expect(spans.some((s) => s.droppedEventsCount > 0)).toBe(true);
    expect(spans.some((s) => s.events.some((e) => e.droppedAttributesCount))).toBe(true);
    vi.stubEnv('OTEL_SPAN_EVENT_COUNT_LIMIT', '0');
    vi.stubEnv('OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', '0');
    expectSame(all);
  });

  it('keep the SDK rule for an end before the start', () => {
    const backwards = { ...atEpoch(okAttempt), end: T0 - 5 };
    backwards.attempts = [{ ...backwards.attempts[0], end: T0 - 10 }];
    const spans = expectSame([backwards]);
    expect(spans.map((s) => s.duration)).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });
});
