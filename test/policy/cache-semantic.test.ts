// Semantic mode through a real sidecar: the fake OpenAI answers chats, a small embeddings server
// of our own answers deterministic vectors chosen per text (so similarity is known exactly).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { buildPolicy } from '../../src/policy/build.js';
import { normalise, semanticParts } from '../../src/policy/cache/semantic.js';
import { EXACT_MAX, entryBytes, VectorIndex } from '../../src/policy/cache/vector-index.js';
import { MemoryStateStore } from '../../src/policy/state/memory.js';
import { startFakeOpenAI, type FakeServer } from '../fakes/openai.js';
import { post, sseData, startSidecar, type TestSidecar } from '../helpers/sidecar.js';

// Unit vectors with known cosines to Q: 0.97 and 0.9.
const Q = 'what is the capital of france';
const VECTORS: Record<string, number[]> = {
  [Q]: [1, 0, 0],
  'whats the capital of france': [0.97, Math.sqrt(1 - 0.97 ** 2), 0],
  'capital city of france?': [0.9, Math.sqrt(1 - 0.81), 0],
  'france capital please': [0.9, 0, Math.sqrt(1 - 0.81)],
  'the capital of france is?': [0.97, 0, Math.sqrt(1 - 0.97 ** 2)],
};
let embedCalls: string[] = [];
let embedServer: Server;
let embedUrl: string;
let fake: FakeServer;
let sc: TestSidecar;

function hashVector(text: string): number[] {
  let h = 2166136261;
  for (const c of text) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return [Math.sin(h), Math.cos(h), Math.sin(h * 7)];
}

beforeAll(async () => {
  embedServer = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      const body = JSON.parse(raw);
      const input = String(body.input);
      embedCalls.push(input);
      const answer = () => {
        if (input.includes('broken')) {
          res
            .writeHead(500, { 'content-type': 'application/json' })
            .end(JSON.stringify({ error: { message: 'down', type: 'server_error' } }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            object: 'list',
            model: body.model,
            data: [{ object: 'embedding', index: 0, embedding: VECTORS[input] ?? hashVector(input) }],
            usage: { prompt_tokens: 3, total_tokens: 3 },
          }),
        );
      };
      if (input.includes('slow')) {
        // Far past the 150 ms embedding timeout: a request that waited for it would be obvious.
        const t = setTimeout(answer, 30_000);
        res.on('close', () => clearTimeout(t));
      } else answer();
    });
  });
  await new Promise<void>((r) => embedServer.listen(0, '127.0.0.1', r));
  embedUrl = `http://127.0.0.1:${(embedServer.address() as AddressInfo).port}/v1`;
  fake = await startFakeOpenAI({ apiKey: 'sk-real-a' });
  sc = await startSidecar(
    `
providers:
  a: {type: openai, api_key: sk-real-a, base_url: "${fake.url}/v1"}
  emb: {type: openai, api_key: sk-emb, base_url: "${embedUrl}"}
configs:
  sem: {provider: "@a", cache: {mode: semantic, similarity_threshold: 0.95, embedding: "@emb/text-embedding-3-small", embedding_timeout_ms: 150}}
default_config: sem
server: {require_virtual_key: false}
`,
    { telemetry: true },
  );
});
afterAll(async () => {
  await sc?.close();
  await fake?.close();
  await new Promise((r) => embedServer?.close(r));
});
beforeEach(() => {
  fake.reset();
  embedCalls = [];
});

const url = () => `${sc.url}/v1/chat/completions`;
const status = (r: { headers: Headers }) => r.headers.get('x-switchyard-cache-status');
const ask = (content: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  post(
    url(),
    {
      model: 'gpt-4o',
      messages: [
        ...((extra.system ? [{ role: 'system', content: extra.system }] : []) as unknown[]),
        { role: 'user', content },
      ],
      ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'system')),
    },
    headers,
  );

describe('semantic mode', () => {
  it('answers similar user text at or above the threshold, misses below it', async () => {
    sc.spans!.reset();
    const first = await ask(Q);
    expect(status(first)).toBe('SEMANTIC MISS');
    const similar = await ask('whats the capital of france');
    expect(status(similar)).toBe('SEMANTIC HIT');
    expect(similar.headers.get('x-switchyard-attempts')).toBe('0');
    expect(similar.json).toEqual(first.json);
    const below = await ask('capital city of france?');
    expect(status(below)).toBe('SEMANTIC MISS');
    expect(below.json.id).not.toBe(first.json.id);
    // The exact text is an exact hit, before any embedding.
    const before = embedCalls.length;
    expect(status(await ask(Q))).toBe('HIT');
    expect(embedCalls.length).toBe(before);
    expect(fake.requests).toHaveLength(2);

    await sc.sc.telemetry.flush();
    const servers = sc.spans!.getFinishedSpans().filter((s) => s.kind === 1);
    expect(servers.map((s) => s.attributes['switchyard.cache_status'])).toEqual([
      'SEMANTIC MISS',
      'SEMANTIC HIT',
      'SEMANTIC MISS',
      'HIT',
    ]);
    expect(servers[1].attributes['switchyard.cache.similarity']).toBeCloseTo(0.97, 5);
    expect(servers[1].attributes['switchyard.attempts']).toBe(0);
    // The embedding call is not an attempt of the request.
    expect(sc.spans!.getFinishedSpans().filter((s) => s.kind === 2)).toHaveLength(2);
  });

  it('replays a semantic hit as a stream', async () => {
    const q = `${Q} `.trim();
    await ask(q);
    const s = await ask('the capital of france is?', { stream: true });
    expect(status(s)).toBe('SEMANTIC HIT');
    const text = sseData(s.text)
      .filter((d) => d !== '[DONE]')
      .map((d) => JSON.parse(d).choices[0]?.delta?.content ?? '')
      .join('');
    expect(text).toBe(`Hello from fake-openai: ${Q}`);
  });

  it('partitions by everything but the user text: another system prompt or model misses', async () => {
    expect(status(await ask(Q))).toMatch(/HIT/);
    expect(status(await ask('whats the capital of france', { system: 'be brief' }))).toBe('SEMANTIC MISS');
    expect(status(await ask('whats the capital of france', { model: 'gpt-4o-mini' }))).toBe('SEMANTIC MISS');
    expect(status(await ask('whats the capital of france', { temperature: 0.3 }))).toBe('SEMANTIC MISS');
    expect(status(await ask('whats the capital of france', {}, { 'x-switchyard-cache-namespace': 'other' }))).toBe(
      'SEMANTIC MISS',
    );
    expect(fake.requests).toHaveLength(4);
  });

  it('a request may raise the threshold, never lower it', async () => {
    expect(status(await ask(Q))).toMatch(/HIT/);
    expect(
      status(await ask('whats the capital of france', {}, { 'x-switchyard-cache-similarity-threshold': '0.99' })),
    ).toBe('SEMANTIC MISS');
    expect(status(await ask('france capital please', {}, { 'x-switchyard-cache-similarity-threshold': '0.5' }))).toBe(
      'SEMANTIC MISS',
    );
    expect(fake.requests).toHaveLength(2);
  });

  it('an embedding that times out or fails is a MISS, never an error', async () => {
    const t0 = Date.now();
    const slow = await ask('a slow question');
    expect([slow.status, status(slow)]).toEqual([200, 'MISS']);
    // Not the 30 s the embedding would take (a loose bound: no scheduling-sensitive figure).
    expect(Date.now() - t0).toBeLessThan(10_000);
    const broken = await ask('a broken question');
    expect([broken.status, status(broken)]).toEqual([200, 'MISS']);
    expect(embedCalls).toEqual(['a slow question', 'a broken question']);
  });

  it('looks up conversations of more than 4 messages exactly only', async () => {
    const long = [
      { role: 'user', content: 'a' },
      { role: 'assistant', content: 'b' },
      { role: 'user', content: 'c' },
      { role: 'assistant', content: 'd' },
      { role: 'user', content: `long ${Math.random()}` },
    ];
    const a = await post(url(), { model: 'gpt-4o', messages: long });
    const b = await post(url(), { model: 'gpt-4o', messages: long });
    expect([status(a), status(b)]).toEqual(['MISS', 'HIT']);
    expect(embedCalls).toEqual([]);
  });
});

describe('semantic mode on the simulated provider (the demo)', () => {
  it('answers a rewording with the same words as a SEMANTIC HIT, other questions miss', async () => {
    const sim = await startSidecar(`
providers:
  sim: {type: simulated, simulated: {latency_ms: {p50: 1, p95: 2}}}
configs:
  c: {provider: "@sim", override_params: {model: sim-fast}, cache: {mode: semantic, embedding: "@sim/sim-embed"}}
default_config: c
server: {require_virtual_key: false}
`);
    try {
      const q = (content: string) =>
        post(`${sim.url}/v1/chat/completions`, { model: 'x', messages: [{ role: 'user', content }] });
      const a = await q('What is the capital of France?');
      expect([a.status, status(a)]).toEqual([200, 'SEMANTIC MISS']);
      const b = await q('what is the capital of france');
      expect(status(b)).toBe('SEMANTIC HIT');
      expect(b.json.choices[0].message.content).toBe(a.json.choices[0].message.content);
      expect(status(await q('How tall is Mont Blanc?'))).toBe('SEMANTIC MISS');
    } finally {
      await sim.close();
    }
  });
});

describe('semantic config', () => {
  const file = (cache: unknown, providers = '') =>
    parseConfigText(
      `
providers:
  a: {type: openai, api_key: k, base_url: "http://127.0.0.1:1/v1"}
  claude: {type: anthropic, api_key: k}
${providers}
configs:
  c: {provider: "@a", cache: ${JSON.stringify(cache)}}
`,
      'c.yaml',
      {},
    ).file;

  it('refuses a semantic cache without an embeddings target, naming the path', () => {
    expect(() => file({ mode: 'semantic' })).toThrow(
      /configs\.c\.cache\.embedding: semantic mode needs an embeddings target/,
    );
    expect(() => file({ mode: 'semantic', embedding: '@a/x', similarity_threshold: 1.5 })).toThrow(
      /configs\.c\.cache\.similarity_threshold/,
    );
  });

  it.each([
    ['text-embedding-3-small', /configs\.c\.cache\.embedding: expected "@provider\/model"/],
    ['@ghost/text-embedding-3-small', /configs\.c\.cache\.embedding: unknown provider "@ghost"/],
    [
      '@claude/claude-haiku-4-5',
      /configs\.c\.cache\.embedding: provider "@claude" \(anthropic\) does not serve embeddings/,
    ],
  ])('refuses embedding %j when the pipeline is built (at load and on reload)', (embedding, re) => {
    const f = file({ mode: 'semantic', embedding });
    expect(() => buildPolicy(f, new MemoryStateStore())).toThrow(re);
  });

  it('accepts an embeddings-capable provider', () => {
    expect(() =>
      buildPolicy(file({ mode: 'semantic', embedding: '@a/text-embedding-3-small' }), new MemoryStateStore()),
    ).not.toThrow();
  });
});

describe('semantic parts and index', () => {
  it('embeds user text only, and blanks it in the partition material', () => {
    const p = semanticParts('chat', {
      model: 'm',
      messages: [
        { role: 'system', content: 'sys' },
        { role: 'user', content: [{ type: 'text', text: 'hi' }] },
      ],
    });
    expect(p?.text).toBe('hi');
    expect(p?.rest).toEqual({
      model: 'm',
      messages: [
        { role: 'system', content: 'sys' },
        { role: 'user', content: [{ type: 'text', text: '' }] },
      ],
    });
    // Non-text parts stay in the partition: the same words about another image are another partition.
    const img = (url: string) =>
      semanticParts('chat', {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'what is this?' },
              { type: 'image_url', image_url: { url } },
            ],
          },
        ],
      });
    expect(img('a.png')?.text).toBe('what is this?');
    expect(img('a.png')?.rest).not.toEqual(img('b.png')?.rest);
    expect(semanticParts('embeddings', { input: 'x' })).toBeUndefined();
    expect(semanticParts('chat', { messages: [{ role: 'system', content: 'only system' }] })).toBeUndefined();
  });

  it('finds the nearest live entry; expired and evicted entries leave the index', () => {
    let now = 0;
    const v = (...x: number[]) => normalise(Float32Array.from(x)) as Float32Array;
    const per = entryBytes(2, false);
    const ix = new VectorIndex({ maxBytes: 3 * per, clock: () => now });
    ix.add('p', v(1, 0), 'k1', 100);
    ix.add('p', v(0, 1), 'k2', 1000);
    expect(ix.search('p', v(1, 0), 0.9)).toEqual({ key: 'k1', similarity: 1 });
    expect(ix.search('q', v(1, 0), 0.9)).toBeUndefined();
    now = 200; // k1 expired: filtered at lookup, swept at the next add
    expect(ix.search('p', v(1, 0), 0.9)).toBeUndefined();
    ix.add('p', v(0.6, 0.8), 'k3', 1000);
    expect(ix.has('p', 'k1')).toBe(false);
    expect(ix.size).toBe(2);
    ix.add('q', v(1, 0), 'c', 1000);
    ix.add('p', v(0.8, 0.6), 'k4', 1000); // over maxBytes: the oldest (k2) goes
    expect(ix.size).toBe(3);
    expect(ix.bytes).toBeLessThanOrEqual(3 * per);
    expect(ix.has('p', 'k2')).toBe(false);
    expect(ix.search('p', v(1, 0), 0.7)?.key).toBe('k4');
    ix.delete('p', 'k4');
    expect(ix.search('p', v(1, 0), 0.5)?.key).toBe('k3');
    // One vector per key: a refreshed entry replaces its vector.
    ix.add('q', v(0, 1), 'c', 1000);
    expect(ix.search('q', v(1, 0), 0.5)).toBeUndefined();
    expect(ix.search('q', v(0, 1), 0.99)?.key).toBe('c');
  });

  it('uses an HNSW graph (usearch) above EXACT_MAX with the same answers as exact search', () => {
    let now = 0;
    const dims = 64;
    let seed = 1;
    const rnd = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32 - 0.5;
    };
    const vec = () => normalise(Float32Array.from({ length: dims }, rnd)) as Float32Array;
    const n = EXACT_MAX * 4;
    const data = Array.from({ length: n }, vec);
    const graph = new VectorIndex({ maxBytes: 1e9, clock: () => now });
    const exact = new VectorIndex({ maxBytes: 1e9, clock: () => now, exactMax: Number.POSITIVE_INFINITY });
    data.forEach((d, i) => {
      graph.add('p', d, `k${i}`, i < 10 ? 100 : 10_000);
      exact.add('p', d, `k${i}`, i < 10 ? 100 : 10_000);
    });
    expect(graph.usesGraph('p')).toBe(true);
    expect(exact.usesGraph('p')).toBe(false);
    // Near-duplicates of stored vectors (the cache's hit case): the same entry, similarity exact (re-ranked).
    let same = 0;
    for (let i = 10; i < 110; i++) {
      const q = normalise(data[i].map((x) => x + rnd() * 0.02)) as Float32Array;
      const g = graph.search('p', q, 0.5);
      const e = exact.search('p', q, 0.5);
      if (g?.key === e?.key) same++;
      if (g && e && g.key === e.key) expect(Math.abs(g.similarity - e.similarity)).toBeLessThan(0.01);
    }
    expect(same).toBeGreaterThanOrEqual(99);
    // Expired entries are never answers, in the graph too.
    now = 200;
    for (let i = 0; i < 10; i++) expect(graph.search('p', data[i], 0.99)?.key).not.toBe(`k${i}`);
    graph.delete('p', 'k20');
    expect(graph.search('p', data[20], 0.99)?.key).not.toBe('k20');
    expect(graph.search('p', data[21], 0.99)?.key).toBe('k21');
  });
});
