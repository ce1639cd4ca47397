// The cache's parts without a sidecar: load errors by path, canonical JSON and keys, stream
// assembly and replay (they invert each other), the byte-bounded LRU.
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import type { TargetSpec } from '../../src/config/schema.js';
import { cacheOf } from '../../src/policy/cache/config.js';
import { cacheKey, canonicalJson, type KeyParts } from '../../src/policy/cache/key.js';
import { ByteLru } from '../../src/policy/cache/storage.js';
import { assemble, CollectSink, replay } from '../../src/policy/cache/stream.js';
import type { StreamSink } from '../../src/routing/executor.js';

const PROVIDERS = { p: { type: 'openai', api_key: 'sk-x', base_url: 'http://127.0.0.1:1/v1' } };
const load = (cfg: Record<string, unknown>) =>
  parseConfigText(JSON.stringify({ providers: PROVIDERS, configs: { c: { provider: '@p', ...cfg } } }), 'c.json', {});

describe('config', () => {
  it('takes a simple cache with defaults, and the Portkey string form', () => {
    expect(cacheOf(load({ cache: { mode: 'simple' } }).file.configs.c as TargetSpec)).toMatchObject({
      mode: 'simple',
      max_age: 86400,
      max_bytes: 64 * 1024 * 1024,
    });
    expect(cacheOf(load({ cache: 'simple' }).file.configs.c as TargetSpec)).toMatchObject({ mode: 'simple' });
    expect(
      cacheOf(load({ cache: { mode: 'simple', max_age: 60, namespace: 'n' } }).file.configs.c as TargetSpec),
    ).toMatchObject({ max_age: 60, namespace: 'n' });
    expect(cacheOf(load({}).file.configs.c as TargetSpec)).toBeUndefined();
  });

  it.each([
    [{ cache: { mode: 'semantic' } }, /configs\.c\.cache\.embedding: semantic mode needs an embeddings target/],
    [
      { cache: { mode: 'semantic', embedding: '@p/e', embedding_timeout_ms: 0 } },
      /configs\.c\.cache\.embedding_timeout_ms: /,
    ],
    [{ cache: { mode: 'fuzzy' } }, /configs\.c\.cache\.mode: /],
    [{ cache: {} }, /configs\.c\.cache\.mode: /],
    [{ cache: { mode: 'simple', max_age: -1 } }, /configs\.c\.cache\.max_age: /],
    [{ cache: { mode: 'simple', max_age: 1.5 } }, /configs\.c\.cache\.max_age: /],
    [{ cache: { mode: 'simple', max_bytes: 0 } }, /configs\.c\.cache\.max_bytes: /],
    [{ cache: { mode: 'simple', ttl: 5 } }, /configs\.c\.cache: .*ttl/],
    [{ cache: 42 }, /configs\.c\.cache: /],
    [
      { strategy: { mode: 'fallback' }, targets: [{ provider: '@p', cache: { mode: 'simple' } }] },
      /configs\.c\.targets\[0\]\.cache: a cache belongs on a routing config's top level/,
    ],
  ])('refuses %j at load, naming the path', (cfg, re) => {
    expect(() => load(cfg)).toThrow(re);
  });
});

describe('keys', () => {
  const parts = (over: Partial<KeyParts> = {}): KeyParts => ({
    op: 'chat',
    configId: 'main',
    virtualKey: '',
    configNamespace: '',
    requestNamespace: '',
    body: { model: 'm', messages: [{ role: 'user', content: 'x' }] },
    ...over,
  });

  it('canonical JSON sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    );
    expect(canonicalJson({ a: undefined, b: 'é"' })).toBe('{"b":"é\\""}');
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
  });

  it('ignores stream and stream_options, and separates every other part', () => {
    const k = cacheKey(parts());
    expect(
      cacheKey(
        parts({
          body: {
            messages: [{ content: 'x', role: 'user' }],
            model: 'm',
            stream: true,
            stream_options: { include_usage: true },
          },
        }),
      ),
    ).toBe(k);
    for (const over of [
      { op: 'text_completion' as const },
      { configId: 'other' },
      { virtualKey: 'one' },
      { configNamespace: 'n' },
      { requestNamespace: 'n' },
      { routingDigest: 'd' },
      { body: { model: 'm2', messages: [{ role: 'user', content: 'x' }] } },
    ]) {
      expect(cacheKey(parts(over)), JSON.stringify(over)).not.toBe(k);
    }
    // Parts cannot run into each other.
    expect(cacheKey(parts({ configNamespace: 'a', requestNamespace: 'b' }))).not.toBe(
      cacheKey(parts({ configNamespace: 'ab', requestNamespace: '' })),
    );
    expect(k).toMatch(/^cache:[0-9a-f]{64}$/);
  });
});

describe('streams', () => {
  const complete = {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o',
    system_fingerprint: 'fp',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'hello there', reasoning_content: 'thinking' },
        logprobs: null,
        finish_reason: 'stop',
      },
      {
        index: 1,
        message: {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } },
            { id: 'call_2', type: 'function', function: { name: 'g', arguments: '{}' } },
          ],
        },
        logprobs: null,
        finish_reason: 'tool_calls',
      },
    ],
    usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
  };

  it('replay then assemble gives the original back, usage only when asked', () => {
    const withUsage = replay(complete, true);
    expect(withUsage.filter((c) => c.usage)).toHaveLength(1);
    expect(assemble(withUsage)).toEqual(complete);
    const without = replay(complete, false);
    expect(without.some((c) => 'usage' in c)).toBe(false);
    const { usage: _u, ...rest } = complete;
    expect(assemble(without)).toEqual(rest);
  });

  it('assembles a provider-style stream: pieces of content and tool-call arguments by index', () => {
    const head = { id: 'x', object: 'chat.completion.chunk', created: 2, model: 'm' };
    const chunks = [
      { ...head, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
      { ...head, choices: [{ index: 0, delta: { content: 'Hel' }, finish_reason: null }] },
      { ...head, choices: [{ index: 0, delta: { content: 'lo' }, finish_reason: null }] },
      {
        ...head,
        choices: [
          {
            index: 0,
            delta: { tool_calls: [{ index: 0, id: 'c', type: 'function', function: { name: 'f', arguments: '' } }] },
            finish_reason: null,
          },
        ],
      },
      {
        ...head,
        choices: [
          { index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"a"' } }] }, finish_reason: null },
        ],
      },
      {
        ...head,
        choices: [
          { index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }, finish_reason: null },
        ],
      },
      { ...head, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
      { ...head, choices: [], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } },
    ];
    expect(assemble(chunks)).toEqual({
      id: 'x',
      object: 'chat.completion',
      created: 2,
      model: 'm',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Hello',
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
          },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
    });
    expect(assemble([])).toBeUndefined();
  });

  it('text completions round-trip too', () => {
    const tc = {
      id: 'cmpl-1',
      object: 'text_completion',
      created: 1,
      model: 'i',
      choices: [{ index: 0, text: 'abc', logprobs: null, finish_reason: 'length' }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    };
    expect(assemble(replay(tc, true))).toEqual(tc);
  });

  it('CollectSink keeps usage the client did not ask for to itself, forgets a refused attempt, stores nothing after fail', async () => {
    const seen: unknown[] = [];
    const inner: StreamSink = {
      closed: false,
      start: () => {},
      write: async (c) => void seen.push(c),
      end: () => {},
      fail: () => {},
    };
    const s = new CollectSink(inner, 'MISS', true);
    s.start({});
    await s.write({ id: 'a', choices: [{ index: 0, delta: { content: 'x' } }], usage: null });
    s.start({}); // a second attempt
    await s.write({ id: 'b', choices: [{ index: 0, delta: { content: 'y' } }] });
    await s.write({ id: 'b', choices: [], usage: { total_tokens: 1 } });
    await s.end();
    expect(seen).toEqual([
      { id: 'a', choices: [{ index: 0, delta: { content: 'x' } }], usage: null },
      { id: 'b', choices: [{ index: 0, delta: { content: 'y' } }] },
    ]);
    expect(s.chunks.map((c) => c.id)).toEqual(['b', 'b']);
    expect(s.completed).toBe(true);
    s.fail({});
    expect(s.failed).toBe(true);
    expect(s.chunks).toEqual([]);
    // Past its bound the copy is dropped (not stored); the chunks still flow.
    const bounded = new CollectSink(inner, 'MISS', false, 2);
    bounded.start({});
    for (let i = 0; i < 3; i++) await bounded.write({ id: `x${i}`, choices: [] });
    expect([bounded.overflow, bounded.chunks.length, seen.length]).toEqual([true, 0, 5]);
  });
});

describe('ByteLru', () => {
  it('stays within max bytes, evicting the least recently used; expires by TTL', async () => {
    let now = 0;
    const lru = new ByteLru(1000, () => now);
    const v = Buffer.alloc(150); // 215 bytes with key and overhead: four fit
    for (const k of ['a', 'b', 'c', 'd']) await lru.set(k, v, 1000);
    expect(lru.bytes).toBeLessThanOrEqual(1000);
    await lru.get('a'); // a is now the most recently used
    await lru.set('e', v, 1000);
    expect(lru.bytes).toBeLessThanOrEqual(1000);
    expect(await lru.get('b')).toBeUndefined();
    expect(await lru.get('a')).toBeDefined();
    expect(await lru.get('e')).toBeDefined();
    // An entry larger than the bound is not stored.
    await lru.set('big', Buffer.alloc(2000), 1000);
    expect(await lru.get('big')).toBeUndefined();
    now = 1000;
    expect(await lru.get('a')).toBeUndefined();
    // Many writes never grow past the bound.
    for (let i = 0; i < 1000; i++) await lru.set(`k${i}`, Buffer.alloc(i % 300), 10_000);
    expect(lru.bytes).toBeLessThanOrEqual(1000);
  });
});
