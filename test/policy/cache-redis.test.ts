// The response cache on a real redis-server: two sidecars on one Redis share entries (an answer
// one cached is a HIT on the other, streamed or not, tenants still apart), and a Redis that is
// down makes lookups MISS and answers still flow (a cache fault never fails a request).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeServer } from '../fakes/openai.js';
import { REMOTE_REFRESH_MS } from '../../src/policy/cache/shared-index.js';
import { hasRedisServer, NO_REDIS_MESSAGE, startRedisServer, type RedisServer } from '../helpers/redis.js';
import { post, sseData, startSidecar, type TestSidecar } from '../helpers/sidecar.js';

const VK = { one: 'vk-redis-one-0123456789abcdef', two: 'vk-redis-two-0123456789abcdef' };
let redis: RedisServer;
let fake: FakeServer;
let a: TestSidecar;
let b: TestSidecar;

const yaml = (fakeUrl: string, redisUrl: string) => `
providers:
  p: {type: openai, api_key: sk-real, base_url: "${fakeUrl}/v1"}
  emb: {type: simulated, simulated: {latency_ms: {p50: 1, p95: 2}}}
configs:
  main: {provider: "@p", cache: {mode: simple, max_age: 60}}
  sem: {provider: "@p", cache: {mode: semantic, max_age: 60, similarity_threshold: 0.95, embedding: "@emb/sim-embed"}}
default_config: main
telemetry: {enabled: false}
server: {require_virtual_key: false}
state: {store: redis, redis_url: "${redisUrl}", on_store_error: fail_open}
virtual_keys:
  one: {key: ${VK.one}}
  two: {key: ${VK.two}}
`;

beforeAll(async () => {
  if (!hasRedisServer) {
    console.warn(NO_REDIS_MESSAGE);
    return;
  }
  redis = await startRedisServer();
  fake = await startFakeOpenAI({ apiKey: 'sk-real' });
  a = await startSidecar(yaml(fake.url, redis.url));
  b = await startSidecar(yaml(fake.url, redis.url));
}, 60_000);
afterAll(async () => {
  await a?.close();
  await b?.close();
  await fake?.close();
  await redis?.stop();
});
beforeEach(() => fake?.reset());

const body = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  model: 'gpt-4o',
  messages: [{ role: 'user', content: `fleet ${Math.random()}` }],
  ...extra,
});
const status = (r: { headers: Headers }) => r.headers.get('x-switchyard-cache-status');
const chat = (sc: TestSidecar, b: unknown, h: Record<string, string> = {}) =>
  post(`${sc.url}/v1/chat/completions`, b, h);

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 2_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.skipIf(!hasRedisServer)('two sidecars on one redis-server', () => {
  it('an answer cached by one sidecar is a HIT on the other', async () => {
    const q = body({ max_tokens: 30 });
    const first = await chat(a, q);
    expect(status(first)).toBe('MISS');
    const second = await chat(b, q);
    expect(status(second)).toBe('HIT');
    expect(second.headers.get('x-switchyard-attempts')).toBe('0');
    expect(second.json).toEqual(first.json);
    expect(fake.requests).toHaveLength(1);
  });

  it('a streamed answer cached by one is replayed by the other, as JSON and as a stream', async () => {
    const q = body();
    const s = await chat(a, { ...q, stream: true });
    expect(status(s)).toBe('MISS');
    const text = sseData(s.text)
      .filter((d) => d !== '[DONE]')
      .map((d) => JSON.parse(d).choices[0]?.delta?.content ?? '')
      .join('');
    // The stream's store lands just after the client saw [DONE].
    const j = await until(
      () => chat(b, q),
      (r) => status(r) === 'HIT',
    );
    expect(status(j)).toBe('HIT');
    expect(j.json.choices[0].message.content).toBe(text);
    const again = await chat(b, { ...q, stream: true });
    expect(status(again)).toBe('HIT');
    expect(
      sseData(again.text)
        .filter((d) => d !== '[DONE]')
        .map((d) => JSON.parse(d).choices[0]?.delta?.content ?? '')
        .join(''),
    ).toBe(text);
    expect(fake.requests).toHaveLength(1);
  });

  it('keeps tenants apart across the fleet', async () => {
    const q = body();
    expect(status(await chat(a, q, { authorization: `Bearer ${VK.one}` }))).toBe('MISS');
    expect(status(await chat(b, q, { authorization: `Bearer ${VK.one}` }))).toBe('HIT');
    expect(status(await chat(b, q, { authorization: `Bearer ${VK.two}` }))).toBe('MISS');
    expect(status(await chat(a, q, { authorization: `Bearer ${VK.two}` }))).toBe('HIT');
    expect(fake.requests).toHaveLength(2);
  });

  it('a semantic entry written by one sidecar is a SEMANTIC HIT on the other at once, or after its 500 ms refresh', async () => {
    const h = { 'x-switchyard-config': 'sem' };
    const n = Math.random().toString(36).slice(2, 8);
    const first = await chat(
      a,
      { model: 'gpt-4o', messages: [{ role: 'user', content: `What is the capital of France ${n}?` }] },
      h,
    );
    expect(status(first)).toBe('SEMANTIC MISS');
    // Same words, other spelling: not an exact hit; the simulated embeddings make it cosine 1.
    // a stored before it answered, and b has not read this partition yet: a hit at once.
    const other = await chat(
      b,
      { model: 'gpt-4o', messages: [{ role: 'user', content: `what is the capital of france ${n}` }] },
      h,
    );
    expect(status(other)).toBe('SEMANTIC HIT');
    expect(other.json.choices[0].message.content).toBe(first.json.choices[0].message.content);
    expect(
      status(
        await chat(b, { model: 'gpt-4o', messages: [{ role: 'user', content: `How tall is Mont Blanc ${n}?` }] }, h),
      ),
    ).toBe('SEMANTIC MISS');
    // b has now read the partition (kept for 500 ms): a new entry from a reaches it after the refresh.
    const second = await chat(a, { model: 'gpt-4o', messages: [{ role: 'user', content: `Where is Paris ${n}?` }] }, h);
    expect(status(second)).toBe('SEMANTIC MISS');
    // (A lookup inside that window would miss and store its own answer: the window is the bound.)
    await new Promise((r) => setTimeout(r, REMOTE_REFRESH_MS + 100));
    const later = await chat(b, { model: 'gpt-4o', messages: [{ role: 'user', content: `where is paris ${n}` }] }, h);
    expect(status(later)).toBe('SEMANTIC HIT');
    expect(fake.requests).toHaveLength(3);
  });

  it('with Redis down a lookup is a MISS and the answer still comes; entries are back in use once it returns', async () => {
    const q = body();
    await redis.kill();
    try {
      const r = await chat(a, q);
      expect(r.status).toBe(200);
      expect(status(r)).toBe('MISS');
    } finally {
      await redis.restart();
    }
    // Redis restarted empty: the first request after it misses, stores, and the other sidecar hits.
    const m = await until(
      () => chat(a, q),
      (r) => r.status === 200 && status(r) === 'MISS',
      10_000,
    );
    expect(status(m)).toBe('MISS');
    expect(
      status(
        await until(
          () => chat(b, q),
          (r) => status(r) === 'HIT',
          10_000,
        ),
      ),
    ).toBe('HIT');
  }, 30_000);
});
