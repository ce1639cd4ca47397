import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from '../../src/collector/index.js';
import {
  decodeStatusProto,
  decodeTraceResponseProto,
  encodeTraceRequestProto,
} from '../../src/collector/otlp-proto.js';
import { MemoryStore, protoRequest, protoSpan, tempDir, waitFor } from './helpers.js';

let collector: RunningCollector | undefined;
let cleanup: (() => void) | undefined;

afterEach(async () => {
  await collector?.close();
  collector = undefined;
  cleanup?.();
});

async function start(store: MemoryStore, extra: Record<string, unknown> = {}) {
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  collector = await startCollector({
    store,
    spoolDir: tmp.dir,
    host: '127.0.0.1',
    port: 0,
    flushIntervalMs: 20,
    ...extra,
  });
  return collector;
}

function post(path: string, body: Uint8Array | string, headers: Record<string, string>) {
  // Copy into a plain ArrayBuffer-backed view: fetch's BodyInit typing wants one.
  return fetch(collector!.url + path, {
    method: 'POST',
    body: typeof body === 'string' ? body : new Uint8Array(body),
    headers,
  });
}

const PROTO = { 'content-type': 'application/x-protobuf' };
const JSON_CT = { 'content-type': 'application/json' };

describe('OTLP/HTTP receiver', () => {
  it('accepts protobuf, answers an empty ExportTraceServiceResponse, and stores the spans', async () => {
    const store = new MemoryStore();
    await start(store);
    const res = await post('/v1/traces', encodeTraceRequestProto(protoRequest([protoSpan(), protoSpan()])), PROTO);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-protobuf');
    const body = new Uint8Array(await res.arrayBuffer());
    expect(body.length).toBe(0);
    expect(decodeTraceResponseProto(body).partialSuccess).toBeUndefined();
    // 200 means durable (fsynced in the spool); the store has the rows shortly after.
    await waitFor(() => store.traces.length === 2);
    expect(store.traces[0].ServiceName).toBe('test-svc');
  });

  it('decodes on its worker once decodersReady resolves: a large body moved there stores every span', async () => {
    const store = new MemoryStore();
    await start(store, { decodeThreads: 1 });
    expect(await collector!.decodersReady()).toBe(true);
    // ~300 KB: many socket reads, copied into one buffer that moves to the worker.
    const spans = Array.from({ length: 2000 }, (_, i) =>
      protoSpan({ name: `big-${i}`, attributes: [{ key: 'pad', value: { stringValue: 'x'.repeat(100) } }] }),
    );
    const res = await post('/v1/traces', encodeTraceRequestProto(protoRequest(spans)), PROTO);
    expect(res.status).toBe(200);
    await waitFor(() => store.traces.length === 2000);
    expect(store.traces.map((r) => r.SpanName)).toEqual(spans.map((s) => s.name));
    expect(store.traces.every((r) => r.SpanAttributes.pad === 'x'.repeat(100))).toBe(true);
  });

  it('accepts gzip-compressed protobuf', async () => {
    const store = new MemoryStore();
    await start(store);
    const body = gzipSync(encodeTraceRequestProto(protoRequest([protoSpan({ name: 'zipped' })])));
    const res = await post('/v1/traces', body, { ...PROTO, 'content-encoding': 'gzip' });
    expect(res.status).toBe(200);
    await waitFor(() => store.traces.length === 1);
    expect(store.traces.map((r) => r.SpanName)).toEqual(['zipped']);
  });

  it('accepts OTLP/JSON (hex ids, string int64, integer enums) and answers in JSON', async () => {
    const store = new MemoryStore();
    await start(store);
    const json = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'json-svc' } }] },
          scopeSpans: [
            {
              scope: { name: 'sc' },
              spans: [
                {
                  traceId: '5B8EFFF798038103D269B633813FC60C',
                  spanId: 'EEE19B7EC3C1B174',
                  parentSpanId: '',
                  name: 'json-span',
                  kind: 3,
                  startTimeUnixNano: '1544712660000000000',
                  endTimeUnixNano: 1544712661000000000,
                  attributes: [
                    { key: 'i', value: { intValue: '12345678901234567' } },
                    { key: 'b', value: { bytesValue: 'AAEC' } },
                  ],
                  events: [{ timeUnixNano: '1544712660500000000', name: 'e1', attributes: [] }],
                  status: { code: 2, message: 'bad' },
                },
              ],
            },
          ],
        },
      ],
    };
    const res = await post('/v1/traces', gzipSync(JSON.stringify(json)), { ...JSON_CT, 'content-encoding': 'gzip' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({});
    await waitFor(() => store.traces.length === 1);
    const row = store.traces[0];
    expect(row.TraceId).toBe('5b8efff798038103d269b633813fc60c');
    expect(row.SpanKind).toBe('Client');
    expect(row.StatusCode).toBe('Error');
    expect(row.Duration).toBe('1000000000');
    expect(row.SpanAttributes).toEqual({ i: '12345678901234567', b: 'AAEC' });
    expect(row['Events.Name']).toEqual(['e1']);
  });

  it('reports rejected spans in partial_success (protobuf and JSON)', async () => {
    const store = new MemoryStore();
    await start(store);
    const res = await post(
      '/v1/traces',
      encodeTraceRequestProto(protoRequest([protoSpan({ traceId: Buffer.from('abcd', 'hex') }), protoSpan()])),
      PROTO,
    );
    expect(res.status).toBe(200);
    const ps = decodeTraceResponseProto(new Uint8Array(await res.arrayBuffer())).partialSuccess;
    expect(ps?.rejectedSpans).toBe(1);
    expect(ps?.errorMessage).toMatch(/trace_id must be 16 bytes, got 2/);
    await waitFor(() => store.traces.length === 1);

    const jres = await post(
      '/v1/traces',
      JSON.stringify({
        resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'abcd', spanId: '0102030405060708' }] }] }],
      }),
      JSON_CT,
    );
    expect(jres.status).toBe(200);
    expect(await jres.json()).toEqual({
      partialSuccess: { rejectedSpans: '1', errorMessage: expect.stringMatching(/trace_id/) },
    });
    const metrics = await collector!.metricsText();
    expect(metrics).toMatch(/switchyard_collector_spans_rejected_total 2/);
    expect(metrics).toMatch(/switchyard_collector_spans_received_total 3/);
  });

  it('answers 400 with a google.rpc.Status for undecodable bodies', async () => {
    await start(new MemoryStore());
    const res = await post('/v1/traces', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]), PROTO);
    expect(res.status).toBe(400);
    const status = decodeStatusProto(new Uint8Array(await res.arrayBuffer()));
    expect(status.code).toBe(3);
    expect(status.message).toMatch(/invalid ExportTraceServiceRequest/);

    const bad = await post('/v1/traces', '{"resourceSpans": [', JSON_CT);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ code: 3, message: expect.stringMatching(/not valid JSON/) });

    const wrongType = await post(
      '/v1/traces',
      JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'zz' }] }] }] }),
      JSON_CT,
    );
    expect(wrongType.status).toBe(400);
    expect((await wrongType.json()).message).toMatch(
      /resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.traceId: must be a hex string/,
    );

    const badGzip = await post('/v1/traces', Buffer.from('not gzip'), { ...PROTO, 'content-encoding': 'gzip' });
    expect(badGzip.status).toBe(400);
  });

  it('answers 413 past the body limit, before and after decompression', async () => {
    await start(new MemoryStore(), { maxBodyBytes: 1024 });
    const big = encodeTraceRequestProto(protoRequest(Array.from({ length: 40 }, () => protoSpan())));
    expect(big.length).toBeGreaterThan(1024);
    const res = await post('/v1/traces', big, PROTO);
    expect(res.status).toBe(413);
    // A small gzip body that inflates past the limit (a zip bomb) is refused too.
    const bomb = gzipSync(Buffer.alloc(64 * 1024, 0));
    expect(bomb.length).toBeLessThan(1024);
    const res2 = await post('/v1/traces', bomb, { ...PROTO, 'content-encoding': 'gzip' });
    expect(res2.status).toBe(413);
    expect(decodeStatusProto(new Uint8Array(await res2.arrayBuffer())).message).toMatch(/decompressed/);
  });

  it('answers 415 for unsupported content types and encodings', async () => {
    await start(new MemoryStore());
    const res = await post('/v1/traces', 'hello', { 'content-type': 'text/plain' });
    expect(res.status).toBe(415);
    expect((await res.json()).message).toMatch(/unsupported Content-Type/);
    const res2 = await post('/v1/traces', 'x', { ...PROTO, 'content-encoding': 'br' });
    expect(res2.status).toBe(415);
  });

  it('answers 429 with Retry-After when the write buffer is full, never dropping silently', async () => {
    const store = new MemoryStore();
    let open!: () => void;
    store.gate = new Promise<void>((r) => (open = r));
    await start(store, { maxBufferedRows: 3, batchSize: 2, flushIntervalMs: 5 });
    const first = post('/v1/traces', encodeTraceRequestProto(protoRequest([protoSpan(), protoSpan()])), PROTO);
    await waitFor(() => store.insertCalls === 1);
    const second = await post('/v1/traces', encodeTraceRequestProto(protoRequest([protoSpan(), protoSpan()])), PROTO);
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('1');
    expect(decodeStatusProto(new Uint8Array(await second.arrayBuffer())).code).toBe(8);
    open();
    expect((await first).status).toBe(200);
    expect(store.traces).toHaveLength(2);
    expect(await collector!.metricsText()).toMatch(/switchyard_collector_spans_refused_total 2/);
  });

  it('serves /healthz, /metrics, 404 and 405', async () => {
    await start(new MemoryStore());
    const h = await fetch(`${collector!.url}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.json()).toEqual({ status: 'ok' });
    const m = await fetch(`${collector!.url}/metrics`);
    expect(m.status).toBe(200);
    expect(await m.text()).toMatch(/switchyard_collector_spans_written_total/);
    const nf = await fetch(`${collector!.url}/nope`);
    expect(nf.status).toBe(404);
    const get = await fetch(`${collector!.url}/v1/traces`);
    expect(get.status).toBe(405);
  });
});
