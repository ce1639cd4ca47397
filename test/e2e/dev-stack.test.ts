// End to end through the real exporter path: sidecar spans → OTLP/HTTP → collector → embedded
// ClickHouse → llm_attempts / llm_requests / llm_feedback. Also greps everything exported and
// logged for the provider key.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { startDevStack, type DevStack } from '../../src/commands/dev-stack.js';
import { setLogSink } from '../../src/logger.js';
import { parseJsonEachRow } from '../../src/store/embedded.js';
import { startFakeOpenAI, type FakeServer } from '../fakes/openai.js';
import { chat, post } from '../helpers/sidecar.js';

const KEY = 'sk-FAKE-e2e-0123456789';
let a: FakeServer;
let b: FakeServer;
let stack: DevStack;
let dir: string;
const logs: string[] = [];
let restoreLog: ReturnType<typeof setLogSink>;

beforeAll(async () => {
  restoreLog = setLogSink((l) => logs.push(l));
  a = await startFakeOpenAI({ apiKey: KEY });
  b = await startFakeOpenAI({ apiKey: KEY });
  dir = mkdtempSync(join(tmpdir(), 'sy-e2e-'));
  const config = parseConfigText(
    `
providers:
  a: {type: openai, api_key: "${KEY}", base_url: "${a.url}/v1"}
  b: {type: openai, api_key: "${KEY}", base_url: "${b.url}/v1"}
configs:
  default:
    strategy: {mode: fallback}
    targets:
      - {provider: "@a", override_params: {model: gpt-4o}}
      - {provider: "@b", override_params: {model: gpt-4o-mini}}
default_config: default
`,
    'e2e.yaml',
    {},
  );
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  process.env.OTEL_BSP_SCHEDULE_DELAY = '100';
  stack = await startDevStack({ argv: [], config, dataDir: dir, sidecarPort: 0, otlpPort: 0, clickhouseHttpPort: 0 });
}, 120_000);

afterAll(async () => {
  await stack?.close();
  setLogSink(restoreLog);
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  await Promise.all([a?.close(), b?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  return parseJsonEachRow(await stack.store.query(sql, 'JSONEachRow'));
}

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    await stack.sidecar.telemetry.flush();
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('sidecar → collector → ClickHouse', () => {
  it('stores every attempt and the request with metadata, rescued and cost', async () => {
    const base = `http://127.0.0.1:${stack.sidecarPort}`;
    a.enqueue({ status: 500 });
    const r = await post(`${base}/v1/chat/completions`, chat('hello'), {
      'x-switchyard-trace-id': 'e2e-rescued',
      'x-switchyard-metadata': '{"user":"alice","feature":"search"}',
    });
    expect(r.status).toBe(200);
    const ok = await post(`${base}/v1/chat/completions`, chat('second'), { 'x-switchyard-trace-id': 'e2e-plain' });
    expect(ok.status).toBe(200);

    const att = await until(
      () => rows("SELECT * FROM llm_attempts WHERE RequestTraceId = 'e2e-rescued' ORDER BY Attempt"),
      (v) => v.length >= 2,
    );
    expect(att.map((x) => [Number(x.Attempt), x.Target, x.Provider, x.Model, x.Outcome, Number(x.HttpStatus)])).toEqual(
      [
        [0, '0', 'openai', 'gpt-4o', 'http_error', 500],
        [1, '1', 'openai', 'gpt-4o-mini', 'ok', 200],
      ],
    );
    expect(Number(att[1].InputTokens)).toBeGreaterThan(0);
    expect(att[1].TraceId).toBe(att[0].TraceId);

    const req = await until(
      () => rows("SELECT * FROM llm_requests WHERE RequestTraceId = 'e2e-rescued'"),
      (v) => v.length >= 1,
    );
    expect([Number(req[0].Attempts), Number(req[0].HttpStatus), req[0].ConfigId]).toEqual([2, 200, 'default']);
    expect(Boolean(req[0].Rescued)).toBe(true);
    expect(req[0].Metadata).toEqual({ user: 'alice', feature: 'search' });
    expect(Number(req[0].CostUSD)).toBeGreaterThan(0);
    expect(req[0].ServiceName).toBe('switchyard-dev');
  });

  it('feedback through the sidecar lands in llm_feedback', async () => {
    const base = `http://127.0.0.1:${stack.sidecarPort}`;
    const bad = await post(`${base}/v1/feedback`, { trace_id: 'e2e-rescued', value: 42 });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/value/);
    const f = await post(`${base}/v1/feedback`, {
      trace_id: 'e2e-rescued',
      value: 7,
      weight: 0.5,
      metadata: { source: 'thumbs' },
    });
    expect(f.status).toBeLessThan(300);
    const fb = await until(
      () => rows("SELECT * FROM llm_feedback WHERE TraceId = 'e2e-rescued'"),
      (v) => v.length >= 1,
    );
    expect([Number(fb[0].Value), Number(fb[0].Weight)]).toEqual([7, 0.5]);
  });

  it('the embedded store answers @clickhouse/client over the HTTP interface', async () => {
    const client = createClient({ url: `http://127.0.0.1:${stack.clickhousePort}`, database: 'switchyard' });
    try {
      const rs = await client.query({
        query: "SELECT count() AS n FROM llm_requests WHERE RequestTraceId LIKE 'e2e-%'",
        format: 'JSONEachRow',
      });
      const [row] = await rs.json<{ n: string }>();
      expect(Number(row.n)).toBe(2);
    } finally {
      await client.close();
    }
  });

  it('runs the embedded engine with small caches and pools (it shares the process with the sidecar)', async () => {
    const settings = Object.fromEntries(
      (
        await rows(
          "SELECT name, value FROM system.server_settings WHERE name IN ('mark_cache_size', 'compiled_expression_cache_size', 'background_pool_size')",
        )
      ).map((r) => [r.name, Number(r.value)]),
    );
    expect(settings).toEqual({
      mark_cache_size: 16 * 1024 * 1024,
      compiled_expression_cache_size: 8 * 1024 * 1024,
      background_pool_size: 4,
    });
  });

  it('no provider key in any stored span or log line', async () => {
    const dump = await stack.store.query('SELECT * FROM otel_traces FORMAT JSONEachRow', 'JSONEachRow');
    expect(dump.length).toBeGreaterThan(0);
    expect(dump).not.toContain(KEY);
    expect(logs.join('\n')).not.toContain(KEY);
  });
});
