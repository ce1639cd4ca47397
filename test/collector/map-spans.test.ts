import { describe, expect, it } from 'vitest';
import { decodeTraceRequestProto, encodeTraceRequestProto } from '../../src/collector/otlp-proto.js';
import { hexBytes, mapTraceRequest, protoRequest, protoSpan } from './helpers.js';

function roundTrip(req: Record<string, unknown>) {
  return mapTraceRequest(decodeTraceRequestProto(encodeTraceRequestProto(req)));
}

describe('mapTraceRequest (ClickHouse exporter column mapping)', () => {
  it('fills every otel_traces column like the contrib exporter', () => {
    const span = protoSpan({
      traceId: hexBytes('5b8efff798038103d269b633813fc60c'),
      spanId: hexBytes('eee19b7ec3c1b174'),
      parentSpanId: hexBytes('eee19b7ec3c1b173'),
      traceState: 'vendor=1',
      name: 'chat gpt-4o',
      kind: 3,
      startTimeUnixNano: '1700000000123456789',
      endTimeUnixNano: '1700000001623456790',
      attributes: [
        { key: 'gen_ai.usage.input_tokens', value: { intValue: 42 } },
        { key: 'gen_ai.request.stream', value: { boolValue: false } },
        { key: 'switchyard.cost_usd', value: { doubleValue: 0.00125 } },
        { key: 'gen_ai.response.finish_reasons', value: { arrayValue: { values: [{ stringValue: 'stop' }] } } },
      ],
      events: [
        {
          timeUnixNano: '1700000000500000000',
          name: 'exception',
          attributes: [{ key: 'exception.message', value: { stringValue: 'boom' } }],
        },
      ],
      links: [
        {
          traceId: hexBytes('00000000000000000000000000000001'),
          spanId: hexBytes('0000000000000002'),
          traceState: 'a=b',
        },
      ],
      status: { code: 2, message: 'upstream 503' },
    });
    const { rows, rejected } = roundTrip({
      resourceSpans: [
        {
          resource: {
            attributes: [
              { key: 'service.name', value: { stringValue: 'checkout' } },
              { key: 'host.cpus', value: { intValue: 8 } },
            ],
          },
          scopeSpans: [{ scope: { name: 'switchyard', version: '0.1.0' }, spans: [span] }],
        },
      ],
    });
    expect(rejected).toBe(0);
    expect(rows).toEqual([
      {
        Timestamp: '1700000000123456789',
        TraceId: '5b8efff798038103d269b633813fc60c',
        SpanId: 'eee19b7ec3c1b174',
        ParentSpanId: 'eee19b7ec3c1b173',
        TraceState: 'vendor=1',
        SpanName: 'chat gpt-4o',
        SpanKind: 'Client',
        ServiceName: 'checkout',
        ResourceAttributes: { 'service.name': 'checkout', 'host.cpus': '8' },
        ScopeName: 'switchyard',
        ScopeVersion: '0.1.0',
        SpanAttributes: {
          'gen_ai.usage.input_tokens': '42',
          'gen_ai.request.stream': 'false',
          'switchyard.cost_usd': '0.00125',
          'gen_ai.response.finish_reasons': '["stop"]',
        },
        Duration: '1500000001',
        StatusCode: 'Error',
        StatusMessage: 'upstream 503',
        'Events.Timestamp': ['1700000000500000000'],
        'Events.Name': ['exception'],
        'Events.Attributes': [{ 'exception.message': 'boom' }],
        'Links.TraceId': ['00000000000000000000000000000001'],
        'Links.SpanId': ['0000000000000002'],
        'Links.TraceState': ['a=b'],
        'Links.Attributes': [{}],
      },
    ]);
  });

  it('names every span kind and status code as ptrace String() does', () => {
    const kinds = [0, 1, 2, 3, 4, 5].map((kind) => protoSpan({ kind, status: { code: kind % 3 } }));
    const { rows } = roundTrip(protoRequest(kinds));
    expect(rows.map((r) => r.SpanKind)).toEqual([
      'Unspecified',
      'Internal',
      'Server',
      'Client',
      'Producer',
      'Consumer',
    ]);
    expect(rows.map((r) => r.StatusCode)).toEqual(['Unset', 'Ok', 'Error', 'Unset', 'Ok', 'Error']);
  });

  it('leaves ParentSpanId empty for roots and ServiceName empty without service.name', () => {
    const { rows } = roundTrip({ resourceSpans: [{ scopeSpans: [{ spans: [protoSpan()] }] }] });
    expect(rows[0].ParentSpanId).toBe('');
    expect(rows[0].ServiceName).toBe('');
    expect(rows[0].ScopeName).toBe('');
    expect(rows[0].StatusCode).toBe('Unset');
  });

  it('rejects spans with invalid ids and keeps the rest', () => {
    const { rows, rejected, firstError } = roundTrip(
      protoRequest([
        protoSpan({ traceId: hexBytes('0102') }),
        protoSpan({ traceId: Buffer.alloc(16) }),
        protoSpan({ spanId: hexBytes('01') }),
        protoSpan({ parentSpanId: hexBytes('010203') }),
        protoSpan({ name: 'good' }),
      ]),
    );
    expect(rejected).toBe(4);
    expect(firstError).toBe('trace_id must be 16 bytes, got 2');
    expect(rows.map((r) => r.SpanName)).toEqual(['good']);
  });

  it('clamps a negative duration to 0 (UInt64 column)', () => {
    const { rows } = roundTrip(protoRequest([protoSpan({ startTimeUnixNano: '2000', endTimeUnixNano: '1000' })]));
    expect(rows[0].Duration).toBe('0');
  });

  it('computes durations across the 32-bit boundary and saturates timestamps past DateTime64(9)', () => {
    const { rows } = roundTrip(
      protoRequest([
        protoSpan({ startTimeUnixNano: '1700000000999999999', endTimeUnixNano: '1700000005000000001' }),
        protoSpan({ startTimeUnixNano: '4294967295', endTimeUnixNano: '4294967296' }),
        protoSpan({ startTimeUnixNano: '18446744073709551615', endTimeUnixNano: '18446744073709551615' }),
      ]),
    );
    expect(rows.map((r) => r.Duration)).toEqual(['4000000002', '1', '0']);
    expect(rows[2].Timestamp).toBe('9223372036854775807');
  });

  it('keeps a repeated attribute key once: first position, last value (as a map built from the list)', () => {
    const { rows } = roundTrip(
      protoRequest([
        protoSpan({
          attributes: [
            { key: 'a', value: { stringValue: '1' } },
            { key: 'b', value: { stringValue: '2' } },
            { key: 'a', value: { stringValue: '3' } },
          ],
          events: [
            {
              timeUnixNano: '1',
              name: 'e',
              attributes: [
                { key: 'x', value: { intValue: 1 } },
                { key: 'x', value: { intValue: 2 } },
              ],
            },
          ],
        }),
      ]),
    );
    expect(Object.entries(rows[0].SpanAttributes)).toEqual([
      ['a', '3'],
      ['b', '2'],
    ]);
    expect(rows[0]['Events.Attributes']).toEqual([{ x: '2' }]);
  });

  it('gives each span its own resource and scope when a request carries several', () => {
    const req = {
      resourceSpans: ['svc-a', 'svc-b'].map((svc) => ({
        resource: { attributes: [{ key: 'service.name', value: { stringValue: svc } }] },
        scopeSpans: ['s1', 's2'].map((scope) => ({
          scope: { name: scope, version: '1' },
          spans: [protoSpan({ name: `${svc}/${scope}` })],
        })),
      })),
    };
    const { rows } = roundTrip(req);
    expect(rows.map((r) => [r.SpanName, r.ServiceName, r.ScopeName, r.ResourceAttributes['service.name']])).toEqual([
      ['svc-a/s1', 'svc-a', 's1', 'svc-a'],
      ['svc-a/s2', 'svc-a', 's2', 'svc-a'],
      ['svc-b/s1', 'svc-b', 's1', 'svc-b'],
      ['svc-b/s2', 'svc-b', 's2', 'svc-b'],
    ]);
  });

  it('keeps a "__proto__" attribute key as data', () => {
    const { rows } = roundTrip(
      protoRequest([protoSpan({ attributes: [{ key: '__proto__', value: { stringValue: 'x' } }] })]),
    );
    const m = rows[0].SpanAttributes;
    expect(Object.keys(m)).toEqual(['__proto__']);
    // biome-ignore lint/suspicious/noProto: the test is that an attribute named __proto__ is an own key
    expect(m.__proto__).toBe('x');
  });
});
