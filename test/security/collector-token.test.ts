// The collector's ingest token (SWITCHYARD_COLLECTOR_TOKEN): OTLP exports without it, or with a
// wrong one, get 401 with an OTLP Status body and store nothing; with it they land. Feedback takes
// the same token unless it has its own. The sidecar's exporter sends the token (beside
// OTEL_EXPORTER_OTLP_HEADERS), and the dev stack (sidecar + collector in one process) keeps
// storing spans and feedback with a token set.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from '../../src/collector/index.js';
import { resolveCollectorOptions } from '../../src/collector/options.js';
import { decodeStatusProto, encodeTraceRequestProto } from '../../src/collector/otlp-proto.js';
import { startDevStack } from '../../src/commands/dev-stack.js';
import { parseConfigText } from '../../src/config/load.js';
import { Sidecar } from '../../src/gateway/sidecar.js';
import { parseJsonEachRow } from '../../src/store/embedded.js';
import { otlpAuthHeaders } from '../../src/telemetry/pipeline.js';
import { createTelemetry } from '../../src/telemetry/setup.js';
import { eventually, MemoryStore, protoRequest, protoSpan, tempDir } from '../collector/helpers.js';
import { chat, post } from '../helpers/sidecar.js';

const TOKEN = 'collector-t0ken-abcdef0123456789';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function collectorWith(opts: { ingestToken?: string; feedbackToken?: string } = {}) {
  const store = new MemoryStore();
  const tmp = tempDir();
  const collector = await startCollector({
    store,
    spoolDir: tmp.dir,
    host: '127.0.0.1',
    port: 0,
    flushIntervalMs: 20,
    decodeThreads: 0,
    ...opts,
  });
  cleanups.push(async () => {
    await collector.close();
    tmp.cleanup();
  });
  return { store, collector };
}

function exportSpans(c: RunningCollector, service: string, headers: Record<string, string> = {}, json = false) {
  const req = protoRequest([protoSpan()], service);
  const body = json
    ? JSON.stringify({
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
            scopeSpans: [
              {
                spans: [
                  {
                    traceId: '0af7651916cd43dd8448eb211c80319c',
                    spanId: 'b7ad6b7169203331',
                    name: 'j',
                    kind: 2,
                    startTimeUnixNano: '1700000000000000000',
                    endTimeUnixNano: '1700000000250000000',
                  },
                ],
              },
            ],
          },
        ],
      })
    : new Uint8Array(encodeTraceRequestProto(req));
  return fetch(`${c.url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': json ? 'application/json' : 'application/x-protobuf', ...headers },
    body,
  });
}

const stored = (store: MemoryStore, service: string) => store.traces.filter((t) => t.ServiceName === service).length;

describe('OTLP ingest with SWITCHYARD_COLLECTOR_TOKEN', () => {
  it('refuses exports without the token or with a wrong one (401, OTLP Status), stores those with it', async () => {
    const { store, collector } = await collectorWith({ ingestToken: TOKEN });

    const none = await exportSpans(collector, 'no-token');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(none.headers.get('content-type')).toBe('application/x-protobuf');
    const status = decodeStatusProto(new Uint8Array(await none.arrayBuffer()));
    expect(status.code).toBe(16); // UNAUTHENTICATED
    expect(status.message).toMatch(/bearer token/);

    for (const authorization of [
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      TOKEN,
      `Basic ${TOKEN}`,
      'Bearer ',
    ]) {
      const wrong = await exportSpans(collector, 'wrong-token', { authorization });
      expect(wrong.status).toBe(401);
      await wrong.arrayBuffer();
    }
    const jsonNone = await exportSpans(collector, 'no-token', {}, true);
    expect(jsonNone.status).toBe(401);
    expect(jsonNone.headers.get('content-type')).toBe('application/json');
    const jsonBody = await jsonNone.text();
    expect(JSON.parse(jsonBody)).toEqual({ code: 16, message: expect.stringMatching(/bearer token/) });
    expect(jsonBody).not.toContain(TOKEN);

    const ok = await exportSpans(collector, 'with-token', { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    const okJson = await exportSpans(collector, 'with-token', { authorization: `bearer  ${TOKEN}` }, true);
    expect(okJson.status).toBe(200);
    await okJson.text();
    await eventually(() => expect(stored(store, 'with-token')).toBe(2));
    expect(stored(store, 'no-token') + stored(store, 'wrong-token')).toBe(0);
    expect(await collector.metricsText()).toMatch(
      /switchyard_collector_http_requests_total\{route="\/v1\/traces",status="401"\} 7/,
    );
  });

  it('without a token ingest stays open; health and metrics never need one', async () => {
    const { store, collector } = await collectorWith();
    expect((await exportSpans(collector, 'open')).status).toBe(200);
    await eventually(() => expect(stored(store, 'open')).toBe(1));
    const { collector: guarded } = await collectorWith({ ingestToken: TOKEN });
    expect((await fetch(`${guarded.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${guarded.url}/metrics`)).status).toBe(200);
  });

  it('feedback takes the ingest token unless it has its own', async () => {
    const fb = (c: RunningCollector, authorization?: string) =>
      fetch(`${c.url}/v1/feedback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: JSON.stringify({ trace_id: 't', value: 1 }),
      });
    const { collector: shared } = await collectorWith({ ingestToken: TOKEN });
    expect((await fb(shared)).status).toBe(401);
    expect((await fb(shared, `Bearer ${TOKEN}`)).status).toBe(202);
    const { collector: own } = await collectorWith({ ingestToken: TOKEN, feedbackToken: 'feedback-only' });
    expect((await fb(own, `Bearer ${TOKEN}`)).status).toBe(401);
    expect((await fb(own, 'Bearer feedback-only')).status).toBe(202);
    expect((await exportSpans(own, 'x', { authorization: 'Bearer feedback-only' })).status).toBe(401);
  });

  it('comes from SWITCHYARD_COLLECTOR_TOKEN or --token-file, never from a flag holding the secret', () => {
    expect(resolveCollectorOptions({}, {}).ingestToken).toBeUndefined();
    expect(resolveCollectorOptions({}, { SWITCHYARD_COLLECTOR_TOKEN: TOKEN }).ingestToken).toBe(TOKEN);
    const dir = mkdtempSync(join(tmpdir(), 'sy-token-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    writeFileSync(join(dir, 'empty'), '\n');
    expect(
      resolveCollectorOptions({ 'token-file': join(dir, 'token') }, { SWITCHYARD_COLLECTOR_TOKEN: 'other' })
        .ingestToken,
    ).toBe(TOKEN);
    expect(() => resolveCollectorOptions({ 'token-file': join(dir, 'empty') }, {})).toThrow(
      /--token-file: .* is empty/,
    );
    expect(() => resolveCollectorOptions({ 'token-file': join(dir, 'missing') }, {})).toThrow(/--token-file/);
    // Listener timeouts: flags or env, and the head's bound cannot exceed the request's.
    expect(resolveCollectorOptions({}, {})).toMatchObject({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 65_000,
      maxHeaderBytes: 16_384,
    });
    expect(
      resolveCollectorOptions({ 'headers-timeout-ms': '2000' }, { SWITCHYARD_COLLECTOR_REQUEST_TIMEOUT_MS: '5000' }),
    ).toMatchObject({ headersTimeoutMs: 2000, requestTimeoutMs: 5000 });
    expect(() => resolveCollectorOptions({ 'headers-timeout-ms': '60000' }, {})).toThrow(
      /--headers-timeout-ms: must not exceed --request-timeout-ms/,
    );
  });
});

describe("the sidecar's OTLP exporter", () => {
  it('adds the bearer token unless OTEL_EXPORTER_OTLP_HEADERS already sets Authorization', () => {
    expect(otlpAuthHeaders({}, 'TRACES')).toBeUndefined();
    expect(otlpAuthHeaders({ SWITCHYARD_COLLECTOR_TOKEN: TOKEN }, 'TRACES')).toEqual({
      authorization: `Bearer ${TOKEN}`,
    });
    expect(
      otlpAuthHeaders({ SWITCHYARD_COLLECTOR_TOKEN: TOKEN, OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=a' }, 'TRACES'),
    ).toEqual({ authorization: `Bearer ${TOKEN}` });
    expect(
      otlpAuthHeaders(
        { SWITCHYARD_COLLECTOR_TOKEN: TOKEN, OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=a, Authorization=Basic%20abc' },
        'TRACES',
      ),
    ).toBeUndefined();
    expect(
      otlpAuthHeaders(
        { SWITCHYARD_COLLECTOR_TOKEN: TOKEN, OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'authorization=x' },
        'TRACES',
      ),
    ).toBeUndefined();
    expect(
      otlpAuthHeaders(
        { SWITCHYARD_COLLECTOR_TOKEN: TOKEN, OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'authorization=x' },
        'METRICS',
      ),
    ).toEqual({ authorization: `Bearer ${TOKEN}` });
  });

  async function sidecarExportingTo(endpoint: string, env: Record<string, string>) {
    const config = parseConfigText(
      `providers: {s: {type: simulated, simulated: {latency_ms: 1}}}\nconfigs: {default: {provider: "@s"}}\ndefault_config: default\n`,
      'token.yaml',
      {},
    );
    // No injected exporter: the real export worker and OTLP/HTTP exporter, configured by env.
    const telemetry = await createTelemetry({
      otlpMetrics: false,
      serviceName: 'token-sidecar',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: '50', ...env },
    });
    const sc = new Sidecar({ config, telemetry, port: 0 });
    const port = await sc.listen();
    cleanups.push(async () => {
      await sc.close();
      await telemetry.shutdown();
    });
    return { sc, telemetry, url: `http://127.0.0.1:${port}` };
  }

  it('sends the token, and the spans land; a wrong token lands nothing', async () => {
    const { store, collector } = await collectorWith({ ingestToken: TOKEN });
    const good = await sidecarExportingTo(collector.url, { SWITCHYARD_COLLECTOR_TOKEN: TOKEN });
    expect(
      (await post(`${good.url}/v1/chat/completions`, chat('hello'), { 'x-switchyard-trace-id': 'token-ok' })).status,
    ).toBe(200);
    await eventually(
      async () => {
        await good.telemetry.flush();
        expect(
          store.traces.filter((t) => t.SpanAttributes['switchyard.trace_id'] === 'token-ok').length,
        ).toBeGreaterThanOrEqual(1);
      },
      15_000,
      100,
    );
    expect(stored(store, 'token-sidecar')).toBeGreaterThanOrEqual(2); // the request span and its attempt

    const before = store.traces.length;
    const bad = await sidecarExportingTo(collector.url, { SWITCHYARD_COLLECTOR_TOKEN: 'not-the-token' });
    expect(
      (await post(`${bad.url}/v1/chat/completions`, chat('hello'), { 'x-switchyard-trace-id': 'token-bad' })).status,
    ).toBe(200);
    await eventually(
      async () => {
        await bad.telemetry.flush();
        expect(await collector.metricsText()).toMatch(/route="\/v1\/traces",status="401"\} [1-9]/);
      },
      15_000,
      100,
    );
    expect(store.traces.length).toBe(before);
  });

  it('sends OTEL_EXPORTER_OTLP_HEADERS as well (both protocols)', async () => {
    const seen: http.IncomingHttpHeaders[] = [];
    const capture = http.createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': String(req.headers['content-type']) }).end());
    });
    await new Promise<void>((r) => capture.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => capture.close(() => r())));
    const endpoint = `http://127.0.0.1:${(capture.address() as AddressInfo).port}`;
    for (const protocol of ['http/protobuf', 'http/json']) {
      seen.length = 0;
      const s = await sidecarExportingTo(endpoint, {
        SWITCHYARD_COLLECTOR_TOKEN: TOKEN,
        OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=blue',
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      });
      expect((await post(`${s.url}/v1/chat/completions`, chat('hi'))).status).toBe(200);
      await eventually(
        async () => {
          await s.telemetry.flush();
          expect(seen.length).toBeGreaterThan(0);
        },
        15_000,
        100,
      );
      expect(seen[0]).toMatchObject({ authorization: `Bearer ${TOKEN}`, 'x-tenant': 'blue' });
    }
  });
});

describe('switchyard dev with SWITCHYARD_COLLECTOR_TOKEN set', () => {
  it('stores spans and feedback; the collector refuses senders without the token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-dev-token-'));
    const names = [
      'SWITCHYARD_COLLECTOR_TOKEN',
      'OTEL_BSP_SCHEDULE_DELAY',
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'SWITCHYARD_FEEDBACK_TOKEN',
    ];
    const saved = names.map((n) => [n, process.env[n]] as const);
    process.env.SWITCHYARD_COLLECTOR_TOKEN = TOKEN;
    process.env.OTEL_BSP_SCHEDULE_DELAY = '100';
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT; // the dev stack points it at its own collector
    delete process.env.SWITCHYARD_FEEDBACK_TOKEN;
    const config = parseConfigText(
      `providers: {s: {type: simulated, simulated: {latency_ms: 1}}}\nconfigs: {default: {provider: "@s"}}\ndefault_config: default\n`,
      'dev-token.yaml',
      {},
    );
    const stack = await startDevStack({
      argv: [],
      config,
      dataDir: dir,
      sidecarPort: 0,
      otlpPort: 0,
      clickhouseHttpPort: 0,
    });
    cleanups.push(async () => {
      await stack.close();
      for (const [n, v] of saved) {
        if (v === undefined) delete process.env[n];
        else process.env[n] = v;
      }
      rmSync(dir, { recursive: true, force: true });
    });
    const base = `http://127.0.0.1:${stack.sidecarPort}`;
    expect(
      (await post(`${base}/v1/chat/completions`, chat('hi'), { 'x-switchyard-trace-id': 'dev-token' })).status,
    ).toBe(200);
    expect((await post(`${base}/v1/feedback`, { trace_id: 'dev-token', value: 5 })).status).toBe(202);
    const rows = async (sql: string) => parseJsonEachRow(await stack.store.query(sql, 'JSONEachRow'));
    await eventually(
      async () => {
        await stack.sidecar.telemetry.flush();
        expect(await rows("SELECT * FROM llm_requests WHERE RequestTraceId = 'dev-token'")).toHaveLength(1);
        expect(await rows("SELECT * FROM llm_feedback WHERE TraceId = 'dev-token'")).toHaveLength(1);
      },
      20_000,
      250,
    );
    // Anyone else talking to the dev collector needs the token too.
    expect((await exportSpans(stack.collector, 'intruder')).status).toBe(401);
  }, 120_000);
});
