// The seed's traced multi-turn example with the Anthropic SDK, through the real exporter path
// (sidecar → OTLP → collector → embedded ClickHouse): each turn's trace id, span id and metadata
// land in the store, and feedback joins the turns by trace id.
import Anthropic from '@anthropic-ai/sdk';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { startDevStack, type DevStack } from '../../src/commands/dev-stack.js';
import { parseJsonEachRow } from '../../src/store/embedded.js';
import { startFakeAnthropic, type FakeServer } from '../fakes/anthropic.js';

let ant: FakeServer;
let stack: DevStack;
let dir: string;

beforeAll(async () => {
  ant = await startFakeAnthropic({ apiKey: 'sk-ant-test' });
  dir = mkdtempSync(join(tmpdir(), 'sy-messages-traced-'));
  const config = parseConfigText(
    `
providers:
  ant: {type: anthropic, api_key: sk-ant-test, base_url: "${ant.url}/v1"}
configs:
  default: {provider: "@ant"}
default_config: default
`,
    'traced.yaml',
    {},
  );
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  process.env.OTEL_BSP_SCHEDULE_DELAY = '100';
  stack = await startDevStack({ argv: [], config, dataDir: dir, sidecarPort: 0, otlpPort: 0, clickhouseHttpPort: 0 });
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await ant?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('traced multi-turn conversation through /v1/messages', () => {
  it('trace id, span id and metadata reach ClickHouse; feedback joins by trace id', { timeout: 120_000 }, async () => {
    const base = `http://127.0.0.1:${stack.sidecarPort}`;
    const traceId = `conv-${Date.now()}`;
    const client = new Anthropic({ baseURL: base, apiKey: 'unused', maxRetries: 0 });
    const headers = (turn: number) => ({
      'x-switchyard-trace-id': traceId,
      'x-switchyard-span-id': `turn-${turn}`,
      'x-switchyard-metadata': JSON.stringify({ user: 'alice', feature: 'support' }),
    });
    const history: Anthropic.MessageParam[] = [{ role: 'user', content: 'My order is late.' }];
    const first = await client.messages.create(
      { model: 'claude-sonnet-4-6', max_tokens: 200, messages: history },
      { headers: headers(1) },
    );
    history.push({ role: 'assistant', content: first.content }, { role: 'user', content: 'Can you check again?' });
    const second = await client.messages
      .stream({ model: 'claude-sonnet-4-6', max_tokens: 200, messages: history }, { headers: headers(2) })
      .finalMessage();
    expect(second.content[0].type).toBe('text');
    const fb = await fetch(`${base}/v1/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ trace_id: traceId, value: 8, weight: 1 }),
    });
    expect(fb.status).toBeLessThan(300);

    const q = (sql: string) => stack.store.query(sql, 'JSONEachRow').then(parseJsonEachRow);
    const deadline = Date.now() + 60_000;
    let rows: Record<string, unknown>[] = [];
    let feedback: Record<string, unknown>[] = [];
    for (;;) {
      await stack.sidecar.telemetry.flush();
      rows = await q(
        `SELECT Provider, Model, Metadata['user'] AS user, Metadata['feature'] AS feature, CallerSpanId AS turn, Ok FROM llm_requests WHERE RequestTraceId = '${traceId}' ORDER BY Timestamp`,
      );
      feedback = await q(
        `SELECT count() AS n, any(f.Value) AS value FROM llm_feedback AS f INNER JOIN llm_requests AS r ON f.TraceId = r.RequestTraceId WHERE f.TraceId = '${traceId}'`,
      );
      if ((rows.length >= 2 && Number(feedback[0]?.n) >= 2) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(rows).toHaveLength(2);
    for (const r of rows)
      expect(r).toMatchObject({ Provider: 'anthropic', Model: 'claude-sonnet-4-6', user: 'alice', feature: 'support' });
    expect(rows.map((r) => r.turn).sort()).toEqual(['turn-1', 'turn-2']); // the caller's span id, in llm_requests
    expect(Number(feedback[0].n)).toBe(2); // one feedback row joined to both turns
    expect(Number(feedback[0].value)).toBe(8);
    const spans = await q(
      `SELECT SpanAttributes['switchyard.span_id'] AS turn, SpanAttributes['http.route'] AS route FROM otel_traces WHERE SpanKind IN ('Server', 'SPAN_KIND_SERVER') AND SpanAttributes['switchyard.trace_id'] = '${traceId}' ORDER BY turn`,
    );
    expect(spans).toEqual([
      { turn: 'turn-1', route: '/v1/messages' },
      { turn: 'turn-2', route: '/v1/messages' },
    ]);
  });
});
