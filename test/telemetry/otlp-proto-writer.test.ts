// The hand-written OTLP/protobuf encoder (src/telemetry/otlp-proto-writer.ts) against the
// official exporter's serializer (@opentelemetry/otlp-transformer's ProtobufTraceSerializer):
// both encode the same ReadableSpans, both bodies are decoded with protobufjs from the official
// .proto files (src/collector/proto) and must be deeply equal, and, since the field order is the
// same, byte for byte equal too. Spans come from the project's own pipeline (records of a few
// kinds of request), from the SDK tracer directly (links, arrays, remote parents), and from a
// seeded generator of attribute values the SDK's types allow and some they do not (kvlist,
// bytes, nested arrays, null), with several resources and scopes in one batch.
import { ROOT_CONTEXT, SpanStatusCode, createTraceState, trace, type Attributes } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { encodeTraceRequest } from '../../src/telemetry/otlp-proto-writer.js';
import { createPipeline } from '../../src/telemetry/pipeline.js';
import { hex, records } from './record-fixtures.js';
import { decodeTraceRequest } from './otlp-decode.js';

const decode = decodeTraceRequest;

function expectSame(spans: ReadableSpan[]): void {
  const theirs = ProtobufTraceSerializer.serializeRequest(spans)!;
  const ours = encodeTraceRequest(spans);
  expect(decode(ours)).toEqual(decode(theirs));
  expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true);
}

function capture(): { processor: SpanProcessor; spans: ReadableSpan[] } {
  const spans: ReadableSpan[] = [];
  const processor: SpanProcessor = {
    onStart() {},
    onEnd: (s) => void spans.push(s),
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  return { processor, spans };
}

describe('otlp-proto-writer', () => {
  it('encodes the pipeline spans of several kinds of request as the official serializer does', () => {
    const { processor, spans } = capture();
    const pipeline = createPipeline({ spanProcessor: processor, otlpMetrics: false, env: {} });
    pipeline.build(records);
    expect(spans.length).toBe(1 + 1 + 4 + 1);
    expect(spans.some((s) => s.events.length > 0 && s.status.code === SpanStatusCode.ERROR)).toBe(true);
    expectSame(spans);
    for (const s of spans) expectSame([s]);
    expectSame([]);
  });

  it('encodes links, remote parents, arrays, scopes and resources from the SDK tracer', () => {
    const spans: ReadableSpan[] = [];
    const mk = (attrs: Attributes) => {
      const { processor, spans: out } = capture();
      const tp = new BasicTracerProvider({ resource: resourceFromAttributes(attrs), spanProcessors: [processor] });
      return { tp, out };
    };
    const a = mk({ 'service.name': 'a', 'k8s.pod.name': 'pöd-1', n: 3 });
    const b = mk({ 'service.name': 'b', list: ['x', 'y'] });
    const tracers = [
      a.tp.getTracer('one', '1.0.0'),
      a.tp.getTracer('two'),
      b.tp.getTracer('one', '1.0.0', { schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' }),
    ];
    const remote = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 0,
      isRemote: true,
      traceState: createTraceState('vendor=value'),
    });
    for (let i = 0; i < 9; i++) {
      const tracer = tracers[i % 3];
      const s = tracer.startSpan(
        i % 2 ? '' : `op ${i} ✓`,
        {
          kind: i % 5,
          startTime: [1_767_000_000 + i, 999_999_999],
          links: [
            { context: { traceId: hex(32, i), spanId: hex(16, i), traceFlags: 1, isRemote: true } },
            {
              context: {
                traceId: hex(32, i + 1),
                spanId: hex(16, i + 1),
                traceFlags: 0,
                traceState: createTraceState('a=1,b=2'),
              },
              attributes: { 'link.kind': 'follows', weights: [1.5, 2, -3] },
            },
          ],
        },
        i % 3 === 0 ? remote : ROOT_CONTEXT,
      );
      s.setAttributes({ bools: [true, false], ints: [0, -1, 2 ** 62], mixed: ['a', 'ü'], empty: [], i });
      s.addEvent('no attributes', [1_767_000_001, 5]);
      s.addEvent('with attributes', { 'exception.message': 'boom 💥', count: 2 ** 33 }, [1_767_000_002, 6]);
      if (i === 4) s.setStatus({ code: SpanStatusCode.OK });
      if (i === 5) s.setStatus({ code: SpanStatusCode.ERROR, message: 'nope' });
      s.end([1_767_000_003 + i, i]);
    }
    spans.push(...a.out, ...b.out);
    // Interleaved, so grouping by resource and scope has to gather them.
    spans.sort((x, y) => x.name.length - y.name.length || x.startTime[0] - y.startTime[0]);
    expect(new Set(spans.map((s) => s.resource)).size).toBe(2);
    expectSame(spans);
  });

  it('matches on generated attribute values, events, links and ids (seeded)', () => {
    let seed = 0x9e3779b9;
    const rnd = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
    const codePoints = [0x41, 0x7a, 0x20, 0x7f, 0x80, 0xe9, 0x7ff, 0x800, 0x4e16, 0xfffd, 0x1f30d, 0x10ffff];
    const str = (): string => {
      const n = pick([0, 1, 5, 20, 127, 128, 200, 3000]);
      let s = '';
      for (let i = 0; i < n; i++) {
        const r = rnd();
        if (r < 0.7) s += String.fromCharCode(0x20 + Math.floor(rnd() * 95));
        else if (r < 0.98) s += String.fromCodePoint(pick(codePoints));
        else s += String.fromCharCode(0xd800 + Math.floor(rnd() * 0x800)); // a lone surrogate
      }
      return s;
    };
    const num = (): number =>
      pick([
        0,
        -0,
        1,
        127,
        128,
        2 ** 31 - 1,
        2 ** 31,
        2 ** 32 - 1,
        2 ** 32,
        2 ** 53 - 1,
        2 ** 53,
        2 ** 63 - 1024,
        2 ** 63,
        -1,
        -(2 ** 31),
        -(2 ** 53),
        -(2 ** 63),
        -(2 ** 64),
        0.5,
        -1e-300,
        1e300,
        Number.NaN,
        Number.POSITIVE_INFINITY,
        Math.floor(rnd() * 2 ** 40),
        rnd() * 1e6,
      ]);
    const value = (depth: number): unknown => {
      const r = rnd();
      if (r < 0.3) return str();
      if (r < 0.55) return num();
      if (r < 0.65) return rnd() < 0.5;
      if (r < 0.75 && depth < 3) return Array.from({ length: Math.floor(rnd() * 4) }, () => value(depth + 1));
      if (r < 0.82 && depth < 3) return attrs(depth + 1, 3);
      if (r < 0.88) return Uint8Array.from({ length: Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256));
      if (r < 0.94) return pick([null, undefined]);
      return str();
    };
    const attrs = (depth: number, max: number): Attributes => {
      const out: Record<string, unknown> = {};
      for (let i = Math.floor(rnd() * max); i > 0; i--)
        out[rnd() < 0.8 ? `k.${i}.${str().slice(0, 8)}` : str()] = value(depth);
      return out as Attributes;
    };
    const time = (): [number, number] => [1_700_000_000 + Math.floor(rnd() * 1e8), Math.floor(rnd() * 1e9)];
    const resources = [resourceFromAttributes(attrs(0, 5)), resourceFromAttributes({})];
    const scopes = [{ name: 'a', version: '1' }, { name: 'b' }, { name: '', version: '', schemaUrl: 'https://s/1' }];
    for (let round = 0; round < 60; round++) {
      const spans: ReadableSpan[] = [];
      for (let i = Math.floor(rnd() * 12); i > 0; i--) {
        const traceId = hex(32, Math.floor(rnd() * 1e6));
        const spanId = hex(16, Math.floor(rnd() * 1e6));
        const parent =
          rnd() < 0.5
            ? { traceId, spanId: hex(16, i), traceFlags: 1, isRemote: rnd() < 0.5 }
            : rnd() < 0.5
              ? undefined
              : { traceId, spanId: '', traceFlags: 0 };
        const ts = rnd() < 0.3 ? createTraceState(`v${i}=x${i}`) : undefined;
        const ctx = { traceId, spanId, traceFlags: rnd() < 0.5 ? 1 : 0, traceState: ts };
        spans.push({
          name: str(),
          kind: Math.floor(rnd() * 5),
          spanContext: () => ctx,
          parentSpanContext: parent,
          startTime: time(),
          endTime: time(),
          status: { code: Math.floor(rnd() * 3), message: rnd() < 0.3 ? str() : undefined },
          attributes: attrs(0, 30),
          links: Array.from({ length: Math.floor(rnd() * 3) }, () => ({
            context: {
              traceId: hex(32, Math.floor(rnd() * 1e6)),
              spanId: hex(16, Math.floor(rnd() * 1e6)),
              traceFlags: 1,
              isRemote: rnd() < 0.5,
              traceState: ts,
            },
            attributes: rnd() < 0.5 ? attrs(0, 4) : undefined,
            droppedAttributesCount: rnd() < 0.2 ? 3 : undefined,
          })),
          events: Array.from({ length: Math.floor(rnd() * 4) }, () => ({
            name: str(),
            time: time(),
            attributes: rnd() < 0.7 ? attrs(0, 5) : undefined,
            droppedAttributesCount: rnd() < 0.2 ? 300 : undefined,
          })),
          duration: [0, 1],
          ended: true,
          resource: pick(resources),
          instrumentationScope: pick(scopes),
          droppedAttributesCount: pick([0, 1, 200, 70000]),
          droppedEventsCount: pick([0, 5]),
          droppedLinksCount: pick([0, 129]),
        } as ReadableSpan);
      }
      expectSame(spans);
    }
  });
});
