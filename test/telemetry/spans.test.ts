// Every attempt is a CLIENT span under one SERVER span, with GenAI attributes, outcomes,
// resend counts, rescued flags, metadata, cost, and the caller's trace continued.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { startFakeOpenAI, type FakeServer } from '../fakes/openai.js';
import { startFakeAnthropic } from '../fakes/anthropic.js';
import { chat, post, startSidecar, type TestSidecar } from '../helpers/sidecar.js';

let a: FakeServer;
let b: FakeServer;
let ant: FakeServer;
let sc: TestSidecar;

beforeAll(async () => {
  a = await startFakeOpenAI({ apiKey: 'sk-SECRET-a' });
  b = await startFakeOpenAI({ apiKey: 'sk-SECRET-b' });
  ant = await startFakeAnthropic({ apiKey: 'sk-SECRET-ant' });
  sc = await startSidecar(
    `
providers:
  a: {type: openai, api_key: sk-SECRET-a, base_url: "${a.url}/v1"}
  b: {type: openai, api_key: sk-SECRET-b, base_url: "${b.url}/v1"}
  ant: {type: anthropic, api_key: sk-SECRET-ant, base_url: "${ant.url}/v1"}
configs:
  fb:
    strategy: {mode: fallback}
    retry: {attempts: 1, on_status_codes: [503], backoff_base_ms: 5}
    targets:
      - {provider: "@a", override_params: {model: gpt-4o}, request_timeout: 300}
      - {provider: "@b", override_params: {model: gpt-4o-mini}}
  ant: {provider: "@ant", override_params: {model: claude-sonnet-4-6}}
  unpriced: {provider: "@a", override_params: {model: my-finetune}}
default_config: fb
pricing:
  openai:
    my-custom: {input: 1, output: 1}
`,
    { telemetry: true },
  );
});
afterAll(async () => {
  await sc.close();
  await Promise.all([a.close(), b.close(), ant.close()]);
});
beforeEach(() => {
  a.reset();
  b.reset();
  ant.reset();
  sc.spans!.reset();
});

function split(spans: ReadableSpan[]) {
  const server = spans.filter((s) => s.kind === SpanKind.SERVER);
  const client = spans
    .filter((s) => s.kind === SpanKind.CLIENT)
    .sort((x, y) => (x.attributes['switchyard.attempt'] as number) - (y.attributes['switchyard.attempt'] as number));
  return { server, client };
}

describe('spans', () => {
  it('a healthy call: one SERVER span, one CLIENT span with GenAI attributes and cost', async () => {
    const r = await post(`${sc.url}/v1/chat/completions`, chat('hello'), {
      'x-switchyard-metadata': '{"user":"u1","feature":"search"}',
    });
    expect(r.status).toBe(200);
    const { server, client } = split(sc.spans!.getFinishedSpans());
    expect(server).toHaveLength(1);
    expect(client).toHaveLength(1);
    const c = client[0];
    expect(c.name).toBe('chat gpt-4o');
    expect(c.parentSpanContext?.spanId).toBe(server[0].spanContext().spanId);
    expect(c.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.response.model': 'gpt-4o',
      'gen_ai.request.stream': false,
      'server.address': '127.0.0.1',
      'switchyard.attempt': 0,
      'switchyard.target': '0',
      'switchyard.outcome': 'ok',
      'http.response.status_code': 200,
      'switchyard.metadata.user': 'u1',
      'switchyard.metadata.feature': 'search',
    });
    expect(c.attributes['gen_ai.response.id']).toMatch(/^chatcmpl-/);
    expect(c.attributes['gen_ai.response.finish_reasons']).toEqual(['stop']);
    const inTok = c.attributes['gen_ai.usage.input_tokens'] as number;
    const outTok = c.attributes['gen_ai.usage.output_tokens'] as number;
    expect(inTok).toBe(r.json.usage.prompt_tokens);
    expect(outTok).toBe(r.json.usage.completion_tokens);
    // gpt-4o: $2.50 in, $10 out per 1M
    expect(c.attributes['switchyard.cost_usd']).toBeCloseTo((inTok * 2.5 + outTok * 10) / 1e6, 12);
    const s = server[0];
    expect(s.attributes).toMatchObject({
      'switchyard.trace_id': r.headers.get('x-switchyard-trace-id'),
      'switchyard.config_id': 'fb',
      'switchyard.strategy': 'fallback',
      'switchyard.attempts': 1,
      'switchyard.rescued': false,
      'http.response.status_code': 200,
      'switchyard.metadata.user': 'u1',
    });
    expect(s.attributes['switchyard.cost_usd']).toBeCloseTo(c.attributes['switchyard.cost_usd'] as number, 12);
    // without x-switchyard-trace-id the W3C trace id is echoed
    expect(r.headers.get('x-switchyard-trace-id')).toBe(s.spanContext().traceId);
  });

  it('retry then fallback: three CLIENT spans with outcomes, resend count and rescued', async () => {
    a.enqueue({ status: 503 }, { status: 503 });
    const r = await post(`${sc.url}/v1/chat/completions`, chat(), { 'x-switchyard-trace-id': 'order-42' });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-switchyard-trace-id')).toBe('order-42');
    const { server, client } = split(sc.spans!.getFinishedSpans());
    expect(
      client.map((c) => [
        c.attributes['switchyard.target'],
        c.attributes['switchyard.outcome'],
        c.attributes['http.response.status_code'],
      ]),
    ).toEqual([
      ['0', 'http_error', 503],
      ['0', 'http_error', 503],
      ['1', 'ok', 200],
    ]);
    expect(client[0].attributes['http.request.resend_count']).toBeUndefined();
    expect(client[1].attributes['http.request.resend_count']).toBe(1);
    expect(client[0].status.code).toBe(SpanStatusCode.ERROR);
    expect(client[0].attributes['error.type']).toBe('503');
    expect(client[2].name).toBe('chat gpt-4o-mini');
    expect(server[0].attributes).toMatchObject({
      'switchyard.attempts': 3,
      'switchyard.rescued': true,
      'switchyard.trace_id': 'order-42',
      'switchyard.target': '1',
    });
    expect(server[0].events.map((e) => e.name)).toContain('switchyard.backoff');
    // cost only for the answering attempt (failed attempts report no usage)
    expect(client[0].attributes['switchyard.cost_usd']).toBeUndefined();
  });

  it('a timeout is an attempt span with outcome timeout and status 408', async () => {
    a.enqueue({ hang: true });
    const r = await post(`${sc.url}/v1/chat/completions`, chat());
    expect(r.status).toBe(200);
    const { client } = split(sc.spans!.getFinishedSpans());
    expect(client[0].attributes).toMatchObject({
      'switchyard.outcome': 'timeout',
      'http.response.status_code': 408,
      'error.type': 'timeout',
    });
  });

  it('a stream cut after the first byte: outcome stream_cut, TTFT recorded, request span in error', async () => {
    a.enqueue({ cutAfterEvents: 3 });
    await post(`${sc.url}/v1/chat/completions`, chat('several words for the stream', { stream: true }));
    const { server, client } = split(sc.spans!.getFinishedSpans());
    expect(client).toHaveLength(1);
    expect(client[0].attributes['switchyard.outcome']).toBe('stream_cut');
    expect(client[0].attributes['gen_ai.request.stream']).toBe(true);
    expect(client[0].attributes['switchyard.ttft_ms']).toBeGreaterThan(0);
    expect(client[0].events.map((e) => e.name)).toContain('gen_ai.first_chunk');
    expect(server[0].status.code).toBe(SpanStatusCode.ERROR);
    expect(server[0].attributes['error.type']).toBe('stream_cut');
  });

  it('streams gather usage (asked of the provider) and cost', async () => {
    await post(`${sc.url}/v1/chat/completions`, chat('count these', { stream: true }));
    const { client } = split(sc.spans!.getFinishedSpans());
    expect(client[0].attributes['switchyard.outcome']).toBe('ok');
    expect(client[0].attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(client[0].attributes['switchyard.cost_usd']).toBeGreaterThan(0);
  });

  it('Anthropic cache reads and writes are priced apart (hand-computed)', async () => {
    const messages = [
      { role: 'system', content: [{ type: 'text', text: 'S'.repeat(400), cache_control: { type: 'ephemeral' } }] },
      { role: 'user', content: 'question' },
    ];
    await post(`${sc.url}/v1/chat/completions`, { model: 'x', messages }, { 'x-switchyard-config': 'ant' });
    await post(`${sc.url}/v1/chat/completions`, { model: 'x', messages }, { 'x-switchyard-config': 'ant' });
    const client = split(sc.spans!.getFinishedSpans()).client.sort(
      (x, y) => Number(x.startTime[1]) - Number(y.startTime[1]) + (x.startTime[0] - y.startTime[0]) * 1e9,
    );
    const [first, second] = client.map((c) => c.attributes);
    const write = first['gen_ai.usage.cache_creation.input_tokens'] as number;
    const read = second['gen_ai.usage.cache_read.input_tokens'] as number;
    expect(write).toBe(100); // 400 chars / 4
    expect(read).toBe(100);
    const in1 = first['gen_ai.usage.input_tokens'] as number;
    const out1 = first['gen_ai.usage.output_tokens'] as number;
    // claude-sonnet-4-6: input $3, cache write $3.75, cache read $0.30, output $15 per 1M
    expect(first['switchyard.cost_usd']).toBeCloseTo(((in1 - write) * 3 + write * 3.75 + out1 * 15) / 1e6, 12);
    const in2 = second['gen_ai.usage.input_tokens'] as number;
    const out2 = second['gen_ai.usage.output_tokens'] as number;
    expect(second['switchyard.cost_usd']).toBeCloseTo(((in2 - read) * 3 + read * 0.3 + out2 * 15) / 1e6, 12);
  });

  it('an unknown model records no cost and switchyard.cost_unknown', async () => {
    await post(`${sc.url}/v1/chat/completions`, chat(), { 'x-switchyard-config': 'unpriced' });
    const { server, client } = split(sc.spans!.getFinishedSpans());
    expect(client[0].attributes['switchyard.cost_usd']).toBeUndefined();
    expect(client[0].attributes['switchyard.cost_unknown']).toBe(true);
    expect(server[0].attributes['switchyard.cost_usd']).toBeUndefined();
    expect(server[0].attributes['switchyard.cost_unknown']).toBe(true);
  });

  it('continues the caller trace from traceparent (and tracestate)', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    const r = await post(`${sc.url}/v1/chat/completions`, chat(), {
      traceparent: `00-${traceId}-${parent}-01`,
      tracestate: 'vendor=abc',
      baggage: 'tenant=t1',
    });
    const { server, client } = split(sc.spans!.getFinishedSpans());
    expect(server[0].spanContext().traceId).toBe(traceId);
    expect(server[0].parentSpanContext?.spanId).toBe(parent);
    expect(server[0].spanContext().traceState?.get('vendor')).toBe('abc');
    expect(client[0].spanContext().traceId).toBe(traceId);
    expect(r.headers.get('x-switchyard-trace-id')).toBe(traceId);
  });

  it('prompt text is not recorded by default', async () => {
    await post(`${sc.url}/v1/chat/completions`, chat('my secret prompt'));
    const all = JSON.stringify(sc.spans!.getFinishedSpans().map((s) => s.attributes));
    expect(all).not.toContain('my secret prompt');
    expect(all).not.toContain('gen_ai.input.messages');
  });

  it('provider keys never appear in spans', async () => {
    a.enqueue({ status: 401 });
    await post(`${sc.url}/v1/chat/completions`, chat());
    const dump = JSON.stringify(
      sc.spans!.getFinishedSpans().map((s) => ({ a: s.attributes, e: s.events, n: s.name, st: s.status })),
    );
    expect(dump).not.toMatch(/sk-SECRET/);
  });
});

describe('metrics', () => {
  it('serves GenAI histograms with the spec buckets and routing counters at /metrics', async () => {
    a.enqueue({ status: 503 }, { status: 503 });
    await post(`${sc.url}/v1/chat/completions`, chat());
    const text = await (await fetch(`${sc.url}/metrics`)).text();
    expect(text).toMatch(/gen_ai_client_operation_duration_bucket\{[^}]*le="0\.01"/);
    expect(text).toMatch(/gen_ai_client_operation_duration_bucket\{[^}]*le="81\.92"/);
    expect(text).toMatch(/gen_ai_client_token_usage_bucket\{[^}]*gen_ai_token_type="input"[^}]*le="67108864"/);
    expect(text).toMatch(/switchyard_rescued(_total)?\{[^}]*\} [1-9]/);
    expect(text).toMatch(/switchyard_retries(_total)?\{[^}]*\} [1-9]/);
    expect(text).toMatch(/switchyard_fallbacks(_total)?\{[^}]*\} [1-9]/);
  });
});
