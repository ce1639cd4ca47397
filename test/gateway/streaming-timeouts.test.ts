// Streams and timeouts: normalised chunks, fallback until the first byte, error frames after it,
// whole-attempt timeouts (body included), first-chunk and idle limits, client disconnects.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeServer } from '../fakes/openai.js';
import { startFakeAnthropic } from '../fakes/anthropic.js';
import type { ChatBody } from '../fakes/openai-chat.js';
import { chat, post, sseData, startSidecar, type TestSidecar } from '../helpers/sidecar.js';

let a: FakeServer;
let b: FakeServer;
let ant: FakeServer;
let sc: TestSidecar;

beforeAll(async () => {
  a = await startFakeOpenAI();
  b = await startFakeOpenAI();
  ant = await startFakeAnthropic();
  sc = await startSidecar(`
providers:
  a: {type: openai, api_key: k, base_url: "${a.url}/v1"}
  b: {type: openai, api_key: k, base_url: "${b.url}/v1"}
  ant: {type: anthropic, api_key: k, base_url: "${ant.url}/v1"}
configs:
  fb:
    strategy: {mode: fallback}
    targets:
      - {provider: "@a", request_timeout: 400, idle_timeout: 400}
      - {provider: "@b"}
  ant-first:
    strategy: {mode: fallback}
    targets:
      - {provider: "@ant", override_params: {model: claude-sonnet-4-6}, request_timeout: 2000}
      - {provider: "@b"}
  single-a:
    provider: "@a"
    request_timeout: 5000
  deadline:
    deadline_ms: 600
    strategy: {mode: fallback}
    targets:
      - {provider: "@a"}
      - {provider: "@b"}
default_config: fb
`);
});
afterAll(async () => {
  await sc.close();
  await Promise.all([a.close(), b.close(), ant.close()]);
});
beforeEach(() => {
  a.reset();
  b.reset();
  ant.reset();
});

const stream = (content = 'hi', extra = {}) => chat(content, { stream: true, ...extra });

describe('streaming', () => {
  it('passes OpenAI chunks through and ends with [DONE]; no usage chunk unless asked', async () => {
    const r = await post(`${sc.url}/v1/chat/completions`, stream('hello world'));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/text\/event-stream/);
    const frames = sseData(r.text);
    expect(frames.at(-1)).toBe('[DONE]');
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f));
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Hello from fake-openai: hello world');
    expect(chunks.some((c) => c.usage)).toBe(false);
    // the sidecar asked upstream for usage anyway (for spans)
    expect((a.requests[0].body as ChatBody).stream_options).toEqual({ include_usage: true });
  });

  it('sends the usage chunk when the client asks for it', async () => {
    const r = await post(`${sc.url}/v1/chat/completions`, stream('hello', { stream_options: { include_usage: true } }));
    const chunks = sseData(r.text)
      .slice(0, -1)
      .map((f) => JSON.parse(f));
    const last = chunks.at(-1);
    expect(last.choices).toEqual([]);
    expect(last.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it('normalises the Anthropic event sequence to OpenAI chunks with finish_reason and usage', async () => {
    const r = await post(
      `${sc.url}/v1/chat/completions`,
      stream('hey there', { stream_options: { include_usage: true } }),
      { 'x-switchyard-config': 'ant-first' },
    );
    expect(r.status).toBe(200);
    const frames = sseData(r.text);
    expect(frames.at(-1)).toBe('[DONE]');
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f));
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Hello from fake-anthropic: hey there');
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe('stop');
    expect(chunks.at(-1).usage.completion_tokens).toBeGreaterThan(0);
    expect(chunks[0].model).toBe('claude-sonnet-4-6');
  });

  it('falls back when the stream fails before its first byte', async () => {
    a.enqueue({ status: 503 });
    const r = await post(`${sc.url}/v1/chat/completions`, stream('x'));
    expect(r.status).toBe(200);
    expect(r.headers.get('x-switchyard-target')).toBe('1');
    expect(sseData(r.text).at(-1)).toBe('[DONE]');
  });

  it('falls back on an in-stream error before the first chunk (Anthropic overloaded)', async () => {
    ant.enqueue({ errorAfterEvents: 0 });
    const r = await post(`${sc.url}/v1/chat/completions`, stream('x'), { 'x-switchyard-config': 'ant-first' });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-switchyard-provider')).toBe('b');
  });

  it('ends a stream cut after the first byte with an error frame and no [DONE]', async () => {
    a.enqueue({ cutAfterEvents: 3 });
    const r = await post(`${sc.url}/v1/chat/completions`, stream('a longer answer with several words'));
    expect(r.status).toBe(200);
    const frames = sseData(r.text);
    expect(frames).not.toContain('[DONE]');
    const last = JSON.parse(frames.at(-1)!);
    expect(last.error.type).toBe('stream_cut');
    expect(last.error.attempts).toHaveLength(1);
    expect(b.requests).toHaveLength(0); // no retry after the first byte
  });

  it('reports an in-stream provider error after the first byte as an error frame', async () => {
    ant.enqueue({ errorAfterEvents: 4, slowBodyMs: 30 }); // spaced, so the first chunk is committed first
    const r = await post(`${sc.url}/v1/chat/completions`, stream('some words here'), {
      'x-switchyard-config': 'ant-first',
    });
    const frames = sseData(r.text);
    expect(frames).not.toContain('[DONE]');
    expect(JSON.parse(frames.at(-1)!).error.status).toBeGreaterThanOrEqual(500);
  });

  it('times out a stream whose first chunk is late and moves on', async () => {
    a.enqueue({ firstChunkDelayMs: 1500 });
    const t0 = Date.now();
    const r = await post(`${sc.url}/v1/chat/completions`, stream('x'));
    expect(r.status).toBe(200);
    expect(r.headers.get('x-switchyard-target')).toBe('1');
    expect(Date.now() - t0).toBeLessThan(1400);
  });

  it('cuts a stream whose gap between chunks exceeds idle_timeout', async () => {
    a.enqueue({ slowBodyMs: 900 });
    const r = await post(`${sc.url}/v1/chat/completions`, stream('x'));
    const frames = sseData(r.text);
    // headers+first chunk may arrive (then the error frame), or the first chunk itself is late (fallback)
    if (r.headers.get('x-switchyard-target') === '0') {
      expect(frames).not.toContain('[DONE]');
      expect(JSON.parse(frames.at(-1)!).error.type).toBe('timeout');
    } else {
      expect(r.headers.get('x-switchyard-target')).toBe('1');
    }
  });

  it('aborts the upstream call when the client disconnects', async () => {
    a.enqueue({ slowBodyMs: 300 });
    await new Promise((r) => setTimeout(r, 600)); // let aborts from earlier tests land first
    const before = a.aborted;
    const ac = new AbortController();
    const res = await fetch(`${sc.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify(stream('many words in this answer')),
      headers: { 'x-switchyard-config': 'single-a' },
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    ac.abort();
    await new Promise((r) => setTimeout(r, 500));
    expect(a.aborted).toBe(before + 1);
  });
});

describe('timeouts', () => {
  it('request_timeout bounds the body too: a slow body is a 408 timeout, then fallback', async () => {
    a.enqueue({ slowBodyMs: 1500 });
    const t0 = Date.now();
    const r = await post(`${sc.url}/v1/chat/completions`, chat());
    expect(r.status).toBe(200);
    expect(r.headers.get('x-switchyard-target')).toBe('1');
    expect(Date.now() - t0).toBeLessThan(1400);
  });

  it('a hung target times out with outcome timeout / 408', async () => {
    a.enqueue({ hang: true });
    b.enqueue({ hang: true });
    const r = await post(`${sc.url}/v1/chat/completions`, chat(), { 'x-switchyard-config': 'deadline' });
    expect(r.status).toBe(408);
    expect(r.json.error.attempts[0]).toMatchObject({ status: 408, error_type: 'timeout' });
  });

  it('the overall deadline bounds fallbacks: the header can shorten it', async () => {
    a.enqueue({ delayHeadersMs: 2000 });
    const t0 = Date.now();
    const r = await post(`${sc.url}/v1/chat/completions`, chat(), {
      'x-switchyard-config': 'single-a',
      'x-switchyard-deadline-ms': '300',
    });
    expect(r.status).toBe(408);
    expect(Date.now() - t0).toBeLessThan(1500);
  });
});
