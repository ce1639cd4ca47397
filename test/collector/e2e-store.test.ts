// End to end: the official OpenTelemetry JS exporters (protobuf and JSON) send spans from a
// real BasicTracerProvider to the collector, which writes them into the real embedded
// ClickHouse store; then an outage spools to disk and replays across a collector restart.
// One embedded store per process (chdb owns one data folder), shared by every test here.
import { OTLPTraceExporter as HttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startCollector, type RunningCollector } from '../../src/collector/index.js';
import { openStore } from '../../src/store/open.js';
import type { FeedbackRow, OtelTraceRow, SpanStore } from '../../src/store/types.js';
import { eventually, tempDir, waitFor } from './helpers.js';

/** Delegates to the real store, but fails every write (and ping) while `down` is set. */
class FlakyStore implements SpanStore {
  down = false;
  constructor(private readonly inner: SpanStore) {}
  async insertTraces(rows: OtelTraceRow[]) {
    if (this.down) throw new Error('simulated outage');
    return this.inner.insertTraces(rows);
  }
  async insertFeedback(rows: FeedbackRow[]) {
    if (this.down) throw new Error('simulated outage');
    return this.inner.insertFeedback(rows);
  }
  async insertEncoded(kind: 'traces' | 'feedback', payload: Buffer) {
    if (this.down) throw new Error('simulated outage');
    return this.inner.insertEncoded(kind, payload);
  }
  query(sql: string, format?: string) {
    return this.inner.query(sql, format);
  }
  async ping() {
    return !this.down && (await this.inner.ping());
  }
  async close() {}
}

let store: SpanStore;
const dirs: (() => void)[] = [];

beforeAll(async () => {
  vi.stubEnv('CLICKHOUSE_URL', '');
  const data = tempDir('sy-e2e-data-');
  dirs.push(data.cleanup);
  store = await openStore({ dataDir: data.dir });
});

afterAll(async () => {
  await store?.close();
  vi.unstubAllEnvs();
  for (const d of dirs) d();
});

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  const text = await store.query(sql, 'JSONEachRow');
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function provider(service: string, exporter: SpanExporter, processor?: SpanProcessor): BasicTracerProvider {
  return new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'deployment.environment': 'test' }),
    spanProcessors: [processor ?? new SimpleSpanProcessor(exporter)],
  });
}

/** One SERVER span with a failing CLIENT attempt under it, with exact start/end times. */
function emitRequest(p: BasicTracerProvider): { serverId: string; clientId: string; traceId: string } {
  const tracer = p.getTracer('switchyard-test', '9.9.9');
  const server = tracer.startSpan('POST /v1/chat/completions', {
    kind: SpanKind.SERVER,
    startTime: [1_700_000_000, 0],
  });
  const ctx = server.spanContext();
  const client = tracer.startSpan(
    'chat gpt-4o',
    {
      kind: SpanKind.CLIENT,
      startTime: [1_700_000_000, 100_000_000],
      attributes: {
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': 42,
        'gen_ai.request.stream': true,
        'switchyard.cost_usd': 0.0125,
        'gen_ai.response.finish_reasons': ['stop', 'length'],
      },
    },
    // Parent the attempt under the server span.
    trace.setSpanContext(context.active(), ctx),
  );
  client.addEvent('retry', { 'http.response.status_code': 503 }, [1_700_000_000, 200_000_000]);
  client.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream 503' });
  client.end([1_700_000_000, 350_000_123]);
  server.end([1_700_000_001, 0]);
  return { serverId: ctx.spanId, clientId: client.spanContext().spanId, traceId: ctx.traceId };
}

async function checkStored(service: string, ids: { serverId: string; clientId: string; traceId: string }) {
  const found = await rows(
    `SELECT SpanName, SpanKind, StatusCode, StatusMessage, ServiceName, TraceId, SpanId, ParentSpanId, ScopeName, ScopeVersion,
            SpanAttributes, ResourceAttributes, Duration, toUnixTimestamp64Nano(Timestamp) AS StartNs,
            Events.Name AS EventNames, Events.Attributes AS EventAttrs
     FROM otel_traces WHERE ServiceName = '${service}' ORDER BY SpanKind`,
  );
  expect(found).toHaveLength(2);
  const [client, server] = found; // 'Client' < 'Server'
  expect(client).toMatchObject({
    SpanName: 'chat gpt-4o',
    SpanKind: 'Client',
    StatusCode: 'Error',
    StatusMessage: 'upstream 503',
    ServiceName: service,
    TraceId: ids.traceId,
    SpanId: ids.clientId,
    ParentSpanId: ids.serverId,
    ScopeName: 'switchyard-test',
    ScopeVersion: '9.9.9',
    Duration: '250000123',
    StartNs: '1700000000100000000',
    EventNames: ['retry'],
    EventAttrs: [{ 'http.response.status_code': '503' }],
  });
  expect(client.SpanAttributes).toEqual({
    'gen_ai.request.model': 'gpt-4o',
    'gen_ai.usage.input_tokens': '42',
    'gen_ai.request.stream': 'true',
    'switchyard.cost_usd': '0.0125',
    'gen_ai.response.finish_reasons': '["stop","length"]',
  });
  expect(client.ResourceAttributes).toMatchObject({ 'service.name': service, 'deployment.environment': 'test' });
  expect(server).toMatchObject({ SpanKind: 'Server', StatusCode: 'Unset', ParentSpanId: '', Duration: '1000000000' });
}

describe('official exporters → collector → embedded ClickHouse', () => {
  let collector: RunningCollector;
  beforeAll(async () => {
    const spool = tempDir();
    dirs.push(spool.cleanup);
    collector = await startCollector({ store, spoolDir: spool.dir, host: '127.0.0.1', port: 0, flushIntervalMs: 20 });
  });
  afterAll(() => collector?.close());

  it('stores spans from @opentelemetry/exporter-trace-otlp-proto (gzip) with the exporter columns', async () => {
    const p = provider(
      'e2e-proto',
      new ProtoExporter({ url: `${collector.url}/v1/traces`, compression: 'gzip' as never }),
    );
    const ids = emitRequest(p);
    await p.forceFlush();
    await p.shutdown();
    await eventually(() => checkStored('e2e-proto', ids));
  });

  it('stores spans from @opentelemetry/exporter-trace-otlp-http (JSON)', async () => {
    const p = provider('e2e-json', new HttpJsonExporter({ url: `${collector.url}/v1/traces` }));
    const ids = emitRequest(p);
    await p.forceFlush();
    await p.shutdown();
    await eventually(() => checkStored('e2e-json', ids));
  });

  it('stores feedback sent before its spans', async () => {
    const res = await fetch(`${collector.url}/v1/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ trace_id: 'e2e-fb-1', value: -3, weight: 0.5, metadata: { user: 'ada' } }),
    });
    expect(res.status).toBe(202);
    await eventually(async () => {
      const fb = await rows(`SELECT TraceId, Value, Weight, Metadata FROM llm_feedback WHERE TraceId = 'e2e-fb-1'`);
      expect(fb).toEqual([{ TraceId: 'e2e-fb-1', Value: -3, Weight: 0.5, Metadata: { user: 'ada' } }]);
    });
  });
});

describe('visibility delay with the default settings', () => {
  it('makes acknowledged spans queryable within the flush interval plus one insert', async () => {
    const spool = tempDir();
    dirs.push(spool.cleanup);
    const c = await startCollector({ store, spoolDir: spool.dir, host: '127.0.0.1', port: 0 });
    try {
      const exporter = new ProtoExporter({ url: `${c.url}/v1/traces` });
      const p = provider('e2e-visible', exporter);
      const t0 = Date.now();
      emitRequest(p);
      await p.forceFlush();
      const acked = Date.now();
      await waitFor(
        async () => (await rows(`SELECT count() AS n FROM otel_traces WHERE ServiceName = 'e2e-visible'`))[0].n === '2',
        5000,
        10,
      );
      const visibleAfter = Date.now() - acked;
      // Default --flush-interval-ms is 2000, plus one insert.
      expect(visibleAfter).toBeLessThan(3000);
      expect(Date.now() - t0).toBeLessThan(4500);
      await p.shutdown();
    } finally {
      await c.close();
    }
  });
});

describe('outage with the real store', () => {
  it('spools while the store fails and replays after a collector restart, nothing lost or doubled', async () => {
    const spool = tempDir();
    dirs.push(spool.cleanup);
    const flaky = new FlakyStore(store);
    flaky.down = true;
    const opts = {
      spoolDir: spool.dir,
      host: '127.0.0.1',
      port: 0,
      flushIntervalMs: 20,
      retryIntervalMs: 50,
      maxRetryIntervalMs: 100,
    };
    const first = await startCollector({ ...opts, store: flaky });
    const exporter = new ProtoExporter({ url: `${first.url}/v1/traces` });
    const p = provider(
      'e2e-outage',
      exporter,
      new BatchSpanProcessor(exporter, { maxExportBatchSize: 40, scheduledDelayMillis: 10 }),
    );
    const tracer = p.getTracer('outage');
    for (let i = 0; i < 120; i++) tracer.startSpan(`op-${i}`).end();
    await p.forceFlush();
    await p.shutdown();
    // Acknowledged once fsynced in the spool; counted as spooled once the store refused them.
    await waitFor(async () => /switchyard_collector_spans_spooled_total 120\b/.test(await first.metricsText()));
    await first.close();
    expect(await rows(`SELECT count() AS n FROM otel_traces WHERE ServiceName = 'e2e-outage'`)).toEqual([{ n: '0' }]);

    flaky.down = false;
    const second = await startCollector({ ...opts, store: flaky });
    try {
      await waitFor(async () => {
        const [r] = await rows(`SELECT count() AS n FROM otel_traces WHERE ServiceName = 'e2e-outage'`);
        return r.n === '120';
      }, 10_000);
      const [r] = await rows(
        `SELECT count() AS n, uniqExact(SpanId) AS u, min(SpanName) AS first FROM otel_traces WHERE ServiceName = 'e2e-outage'`,
      );
      expect(r).toEqual({ n: '120', u: '120', first: 'op-0' });
      // The replay count moves just after the last segment leaves the disk, which is after its
      // rows are queryable (queries no longer wait behind inserts on one connection).
      await waitFor(async () => /switchyard_collector_spans_replayed_total 120\b/.test(await second.metricsText()));
    } finally {
      await second.close();
    }
  });
});
