// The production telemetry path end to end: requests through a sidecar whose spans are built and
// exported by the export worker over OTLP/HTTP protobuf, decoded by a real receiver with the
// official OTLP protos.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTraceRequestProto } from '../../src/collector/otlp-proto.js';
import type { KeyValue, Span } from '../../src/collector/otlp-model.js';
import { parseConfigText } from '../../src/config/load.js';
import { Sidecar } from '../../src/gateway/sidecar.js';
import { createTelemetry } from '../../src/telemetry/setup.js';
import { startFakeOpenAI, type FakeServer } from '../fakes/openai.js';
import { chat, post } from '../helpers/sidecar.js';

const KEY = 'sk-worker-path-secret-4242';
let oai: FakeServer;
let receiver: Server;
let endpoint = '';
const bodies: Buffer[] = [];

beforeAll(async () => {
  oai = await startFakeOpenAI();
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces') bodies.push(Buffer.concat(chunks));
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
});
afterAll(async () => {
  await oai.close();
  receiver.close();
});

const attr = (s: Span, key: string) => {
  const v = s.attributes?.find((a: KeyValue) => a.key === key)?.value as Record<string, unknown> | undefined;
  // protobufjs names the set oneof member in `value`; Longs print as decimal strings
  const kind = v?.value as string | undefined;
  return kind === 'intValue' ? Number(String(v!.intValue)) : kind ? v![kind] : undefined;
};
const hex = (b?: Uint8Array | null) => Buffer.from(b ?? []).toString('hex');

describe('export worker (production path)', () => {
  it('exports SERVER and CLIENT spans over OTLP/protobuf that continue the caller trace', async () => {
    const yaml = `providers: {a: {type: openai, api_key: ${KEY}, base_url: "${oai.url}/v1"}}\nconfigs: {d: {provider: "@a"}}\ndefault_config: d`;
    const telemetry = await createTelemetry({
      otlpMetrics: false,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_SERVICE_NAME: 'worker-test' },
    });
    const sc = new Sidecar({ config: parseConfigText(yaml, 't.yaml', {}), telemetry, port: 0 });
    const port = await sc.listen();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    try {
      const r = await post(`http://127.0.0.1:${port}/v1/chat/completions`, chat(), {
        traceparent: `00-${traceId}-${parent}-01`,
        'x-switchyard-metadata': '{"team":"search"}',
      });
      expect(r.status).toBe(200);
      expect(r.headers.get('x-switchyard-trace-id')).toBe(traceId);
      // /metrics is answered by the worker's meter provider
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).toMatch(/gen_ai_client_operation_duration_count\{[^}]*\} 1/);
      await telemetry.flush();
    } finally {
      await sc.close();
      await telemetry.shutdown();
    }
    const spans = bodies
      .flatMap((b) => decodeTraceRequestProto(b).resourceSpans ?? [])
      .flatMap((rs) => (rs.scopeSpans ?? []).flatMap((ss) => ss.spans ?? []));
    const server = spans.filter((s) => s.kind === 2);
    const client = spans.filter((s) => s.kind === 3);
    expect(server).toHaveLength(1);
    expect(client).toHaveLength(1);
    expect(hex(server[0].traceId)).toBe(traceId);
    expect(hex(server[0].parentSpanId)).toBe(parent);
    expect(hex(client[0].traceId)).toBe(traceId);
    expect(hex(client[0].parentSpanId)).toBe(hex(server[0].spanId));
    expect(client[0].name).toBe('chat gpt-4o');
    expect(attr(client[0], 'gen_ai.provider.name')).toBe('openai');
    expect(attr(client[0], 'switchyard.outcome')).toBe('ok');
    expect(attr(client[0], 'switchyard.metadata.team')).toBe('search');
    expect(attr(server[0], 'switchyard.metadata.team')).toBe('search');
    expect(Number(attr(client[0], 'gen_ai.usage.input_tokens'))).toBeGreaterThan(0);
    // the attempt lies inside the request in time
    expect(BigInt(String(client[0].startTimeUnixNano))).toBeGreaterThanOrEqual(
      BigInt(String(server[0].startTimeUnixNano)),
    );
    expect(BigInt(String(client[0].endTimeUnixNano))).toBeLessThanOrEqual(BigInt(String(server[0].endTimeUnixNano)));
    // the provider key never leaves the sidecar
    for (const b of bodies) expect(b.includes(KEY)).toBe(false);
  });

  it('a backend that never answers: requests still answer, drops are counted, shutdown stays bounded', async () => {
    const stuck = createServer(() => {}); // accepts, never responds
    await new Promise<void>((r) => stuck.listen(0, '127.0.0.1', r));
    const yaml = `providers: {a: {type: openai, api_key: ${KEY}, base_url: "${oai.url}/v1"}}\nconfigs: {d: {provider: "@a"}}\ndefault_config: d`;
    const telemetry = await createTelemetry({
      otlpMetrics: false,
      maxQueueSize: 8,
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(stuck.address() as { port: number }).port}`,
        OTEL_BSP_SCHEDULE_DELAY: '10',
      },
    });
    const sc = new Sidecar({ config: parseConfigText(yaml, 't.yaml', {}), telemetry, port: 0 });
    const port = await sc.listen();
    try {
      const statuses = await Promise.all(
        Array.from({ length: 40 }, () =>
          post(`http://127.0.0.1:${port}/v1/chat/completions`, chat()).then((r) => r.status),
        ),
      );
      expect(statuses.every((s) => s === 200)).toBe(true);
      // 40 requests = 80 spans; the worker holds at most 8 (queued or in an export that never
      // ends), so at least 72 are dropped, and every drop is counted
      const text = (await telemetry.metricsText()).body;
      const m = /switchyard_telemetry_dropped_spans(?:_total)?\{[^}]*\} (\d+)/.exec(text);
      expect(m).not.toBeNull();
      expect(Number(m![1])).toBeGreaterThanOrEqual(72);
      expect(Number(m![1])).toBeGreaterThan(0);
    } finally {
      await sc.close();
      const t0 = Date.now();
      await telemetry.shutdown();
      expect(Date.now() - t0).toBeLessThan(3500);
      stuck.closeAllConnections();
      stuck.close();
    }
  });
});
