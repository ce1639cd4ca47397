// Fallback, load balancing, conditions, nesting, retries and the error shape, against fake providers.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeServer } from '../fakes/openai.js';
import { startFakeAnthropic } from '../fakes/anthropic.js';
import type { MessagesBody } from '../fakes/anthropic-messages.js';
import type { ChatBody } from '../fakes/openai-chat.js';
import { chat, post, startSidecar, type TestSidecar } from '../helpers/sidecar.js';

let a: FakeServer;
let b: FakeServer;
let ant: FakeServer;
let sc: TestSidecar;

beforeAll(async () => {
  a = await startFakeOpenAI({ apiKey: 'sk-a' });
  b = await startFakeOpenAI({ apiKey: 'sk-b' });
  ant = await startFakeAnthropic({ apiKey: 'sk-ant' });
  sc = await startSidecar(`
providers:
  a: {type: openai, api_key: sk-a, base_url: "${a.url}/v1"}
  b: {type: openai-compatible, api_key: sk-b, base_url: "${b.url}/v1"}
  ant: {type: anthropic, api_key: sk-ant, base_url: "${ant.url}/v1"}
configs:
  fallback:
    strategy: {mode: fallback}
    targets:
      - {provider: "@a", override_params: {model: gpt-4o}}
      - {provider: "@b", override_params: {model: gpt-4o-mini}}
  fallback-429-only:
    strategy: {mode: fallback, on_status_codes: [429]}
    targets:
      - {provider: "@a"}
      - {provider: "@b"}
  retry:
    retry: {attempts: 2, on_status_codes: [429, 503], backoff_base_ms: 10}
    provider: "@a"
  retry-no-header:
    retry: {attempts: 1, use_retry_after_header: false, backoff_base_ms: 5}
    provider: "@a"
  lb:
    strategy: {mode: loadbalance}
    targets:
      - {provider: "@a", weight: 3}
      - {provider: "@b", weight: 1}
      - {provider: "@ant", weight: 0, override_params: {model: claude-sonnet-4-6}}
  cond:
    strategy:
      mode: conditional
      conditions:
        - query: {"metadata.plan": {"$eq": "paid"}}
          then: premium
        - query: {"$or": [{"params.max_tokens": {"$gte": 1000}}, {"metadata.team": {"$in": ["x", "y"]}}]}
          then: creative
      default: basic
    targets:
      - {name: premium, provider: "@a", override_params: {model: gpt-4.1}}
      - {name: creative, provider: "@ant", override_params: {model: claude-sonnet-4-6}}
      - {name: basic, provider: "@b", override_params: {model: gpt-4o-mini}}
  nested:
    strategy: {mode: fallback}
    retry: {attempts: 1, backoff_base_ms: 5}
    override_params: {temperature: 0.2}
    targets:
      - strategy: {mode: fallback}
        override_params: {model: gpt-4o}
        targets:
          - {provider: "@a", retry: {attempts: 0}}
          - {provider: "@b", override_params: {model: gpt-4.1}}
      - {provider: "@ant", override_params: {model: claude-haiku-4-5}}
default_config: fallback
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

describe('fallback', () => {
  it('answers from the first target when it is healthy', async () => {
    const r = await post(`${sc.url}/v1/chat/completions`, chat('hello'));
    expect(r.status).toBe(200);
    expect(r.json.choices[0].message.content).toBe('Hello from fake-openai: hello');
    expect(r.headers.get('x-switchyard-target')).toBe('0');
    expect(r.headers.get('x-switchyard-provider')).toBe('a');
    expect(r.headers.get('x-switchyard-attempts')).toBe('1');
    expect(b.requests).toHaveLength(0);
  });

  it('counts the attempt that streams in the headers of a streamed answer', async () => {
    const one = await fetch(`${sc.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chat('s', { stream: true })),
    });
    expect(one.headers.get('x-switchyard-attempts')).toBe('1');
    await one.text();
  });

  it('falls back on a 500 and reports both attempts', async () => {
    a.enqueue({ status: 500 });
    const r = await post(`${sc.url}/v1/chat/completions`, chat('x'));
    expect(r.status).toBe(200);
    expect(r.headers.get('x-switchyard-target')).toBe('1');
    expect(r.headers.get('x-switchyard-attempts')).toBe('2');
    expect(r.json.model).toBe('gpt-4o-mini'); // override_params of the second target
    expect((b.requests[0].body as ChatBody).model).toBe('gpt-4o-mini');
    expect(b.requests[0].headers.authorization).toBe('[redacted]'); // the fake checked sk-b
  });

  it('falls back on a connection reset (connect_error)', async () => {
    a.enqueue({ reset: true });
    const r = await post(`${sc.url}/v1/chat/completions`, chat());
    expect(r.status).toBe(200);
    expect(r.headers.get('x-switchyard-target')).toBe('1');
  });

  it('honours strategy.on_status_codes: a 500 is not a reason to fall back there', async () => {
    a.enqueue({ status: 500 });
    const r = await post(`${sc.url}/v1/chat/completions`, chat(), { 'x-switchyard-config': 'fallback-429-only' });
    expect(r.status).toBe(500);
    expect(b.requests).toHaveLength(0);
    a.enqueue({ status: 429 });
    const r2 = await post(`${sc.url}/v1/chat/completions`, chat(), { 'x-portkey-config': 'fallback-429-only' });
    expect(r2.status).toBe(200);
    expect(b.requests).toHaveLength(1);
  });

  it('lists every attempt in the one error shape when all fail', async () => {
    a.enqueue({ status: 503 });
    b.enqueue({ status: 429, errorType: 'tokens' });
    const r = await post(`${sc.url}/v1/chat/completions`, chat());
    expect(r.status).toBe(429);
    expect(r.json.error.status).toBe(429);
    expect(r.json.error.message).toMatch(/rate limit/i);
    expect(r.json.error.attempts).toHaveLength(2);
    expect(r.json.error.attempts[0]).toMatchObject({
      target: '0',
      provider: 'a',
      model: 'gpt-4o',
      status: 503,
      error_type: 'http_error',
    });
    expect(r.json.error.attempts[1]).toMatchObject({ target: '1', provider: 'b', model: 'gpt-4o-mini', status: 429 });
    expect(typeof r.json.error.attempts[0].duration_ms).toBe('number');
    expect(r.text).not.toContain('sk-a');
    expect(r.text).not.toContain('sk-b');
  });

  it('maps malformed upstream JSON to invalid_response 502 and falls back', async () => {
    a.enqueue({ malformed: true });
    b.enqueue({ malformed: true });
    const r = await post(`${sc.url}/v1/chat/completions`, chat());
    expect(r.status).toBe(502);
    expect(r.json.error.attempts.map((x) => x.error_type)).toEqual(['invalid_response', 'invalid_response']);
  });
});

describe('retries', () => {
  it('retries a 503 on the same target and counts it', async () => {
    a.enqueue({ status: 503 }, { status: 503 });
    const r = await post(`${sc.url}/v1/chat/completions`, chat(), { 'x-switchyard-config': 'retry' });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-switchyard-attempts')).toBe('3');
    expect(r.headers.get('x-switchyard-retry-count')).toBe('2');
    expect(a.requests).toHaveLength(3);
  });

  it('does not retry statuses outside on_status_codes', async () => {
    a.enqueue({ status: 500 });
    const r = await post(`${sc.url}/v1/chat/completions`, chat(), { 'x-switchyard-config': 'retry' });
    expect(r.status).toBe(500);
    expect(a.requests).toHaveLength(1);
  });

  it('waits what retry-after-ms says', async () => {
    a.enqueue({ status: 429, retryAfterMs: 300 });
    const t0 = Date.now();
    const r = await post(`${sc.url}/v1/chat/completions`, chat(), { 'x-switchyard-config': 'retry' });
    expect(r.status).toBe(200);
    const gap = a.requests[1].at - a.requests[0].at;
    expect(gap).toBeGreaterThanOrEqual(280);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('honours Retry-After as an HTTP-date', async () => {
    a.enqueue({ status: 429, retryAfter: new Date(Date.now() + 1500).toUTCString() });
    const r = await post(`${sc.url}/v1/chat/completions`, chat(), { 'x-switchyard-config': 'retry' });
    expect(r.status).toBe(200);
    const gap = a.requests[1].at - a.requests[0].at;
    expect(gap).toBeGreaterThanOrEqual(400); // HTTP-dates have 1 s resolution
  });

  it('does not sleep a Retry-After that does not fit in the deadline', async () => {
    a.enqueue({ status: 429, retryAfter: '30' });
    const t0 = Date.now();
    const r = await post(`${sc.url}/v1/chat/completions`, chat(), {
      'x-switchyard-config': 'retry',
      'x-switchyard-deadline-ms': '2000',
    });
    expect(r.status).toBe(429);
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(a.requests).toHaveLength(1);
  });

  it('uses its own backoff when told to ignore the header, and never sleeps after the last attempt', async () => {
    a.enqueue({ status: 503, retryAfter: '20' }, { status: 503, retryAfter: '20' });
    const t0 = Date.now();
    const r = await post(`${sc.url}/v1/chat/completions`, chat(), { 'x-switchyard-config': 'retry-no-header' });
    expect(r.status).toBe(503);
    expect(a.requests).toHaveLength(2);
    expect(Date.now() - t0).toBeLessThan(1500);
  });
});

describe('load balancing', () => {
  it('spreads by weight and never picks a weight-0 target', async () => {
    for (let i = 0; i < 80; i++) {
      const r = await post(`${sc.url}/v1/chat/completions`, chat(), { 'x-switchyard-config': 'lb' });
      expect(r.status).toBe(200);
    }
    expect(ant.requests).toHaveLength(0);
    expect(a.requests.length + b.requests.length).toBe(80);
    // weights 3:1 → expect ~60/20; generous bounds for randomness
    expect(a.requests.length).toBeGreaterThan(45);
    expect(b.requests.length).toBeGreaterThan(8);
  });
});

describe('conditional', () => {
  it('routes on metadata with $eq', async () => {
    const r = await post(`${sc.url}/v1/chat/completions`, chat(), {
      'x-switchyard-config': 'cond',
      'x-switchyard-metadata': '{"plan":"paid"}',
    });
    expect(r.status).toBe(200);
    expect(r.json.model).toBe('gpt-4.1');
    expect(r.headers.get('x-switchyard-target')).toBe('0');
  });

  it('routes on params with $or/$gte and metadata $in', async () => {
    const r = await post(`${sc.url}/v1/chat/completions`, chat('poem', { max_tokens: 2000 }), {
      'x-switchyard-config': 'cond',
    });
    expect(r.headers.get('x-switchyard-provider')).toBe('ant');
    const r2 = await post(`${sc.url}/v1/chat/completions`, chat(), {
      'x-switchyard-config': 'cond',
      'x-switchyard-metadata': '{"team":"y"}',
    });
    expect(r2.headers.get('x-switchyard-provider')).toBe('ant');
  });

  it('uses the default when nothing matches', async () => {
    const r = await post(`${sc.url}/v1/chat/completions`, chat(), {
      'x-switchyard-config': 'cond',
      'x-switchyard-metadata': '{"plan":"free"}',
    });
    expect(r.headers.get('x-switchyard-provider')).toBe('b');
    expect(r.json.model).toBe('gpt-4o-mini');
  });
});

describe('nesting and inheritance', () => {
  it('walks nested targets with inherited retry/override_params, child winning', async () => {
    a.enqueue({ status: 503 }); // inner retry is attempts: 0 → straight to b
    const r = await post(`${sc.url}/v1/chat/completions`, chat(), { 'x-switchyard-config': 'nested' });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-switchyard-target')).toBe('0.1');
    expect(b.requests[0].body).toMatchObject({ model: 'gpt-4.1', temperature: 0.2 });
    expect(a.requests[0].body).toMatchObject({ model: 'gpt-4o', temperature: 0.2 });
  });

  it('reaches the outer fallback after the inner one is exhausted (b retried once)', async () => {
    a.enqueue({ status: 503 });
    b.enqueue({ status: 503 }, { status: 503 });
    const r = await post(`${sc.url}/v1/chat/completions`, chat('hey'), { 'x-switchyard-config': 'nested' });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-switchyard-target')).toBe('1');
    expect(r.headers.get('x-switchyard-attempts')).toBe('4');
    expect(r.headers.get('x-switchyard-retry-count')).toBe('1');
    expect(r.json.choices[0].message.content).toBe('Hello from fake-anthropic: hey');
    expect((ant.requests[0].body as MessagesBody).temperature).toBe(0.2);
  });
});

describe('per-request routing', () => {
  it('accepts an inline JSON config (Portkey shape with inline provider + custom_host)', async () => {
    const inline = JSON.stringify({
      provider: 'openai',
      api_key: 'sk-b',
      custom_host: `${b.url}/v1`,
      override_params: { model: 'gpt-4o' },
    });
    const r = await post(`${sc.url}/v1/chat/completions`, chat(), { 'x-switchyard-config': inline });
    expect(r.status).toBe(200);
    expect(b.requests).toHaveLength(1);
  });

  it('routes "@slug/model" straight to that provider', async () => {
    const r = await post(`${sc.url}/v1/chat/completions`, { ...chat('yo'), model: '@ant/claude-haiku-4-5' });
    expect(r.status).toBe(200);
    expect(r.json.choices[0].message.content).toBe('Hello from fake-anthropic: yo');
    expect((ant.requests[0].body as MessagesBody).model).toBe('claude-haiku-4-5');
  });
});
