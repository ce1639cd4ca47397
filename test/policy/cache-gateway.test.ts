// The response cache through a real sidecar (memory store) in front of the fake OpenAI server:
// statuses and headers an app sees, what reaches the provider (a hit never does), canonical keys,
// tenant and namespace isolation, streams stored once and replayed either way, TTL, force
// refresh, budgets (a hit costs nothing) and the request span of a hit.
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeServer } from '../fakes/openai.js';
import { post, sseData, startSidecar, type TestSidecar } from '../helpers/sidecar.js';

const VK = {
  one: 'vk-cache-one-0123456789abcdef',
  two: 'vk-cache-two-0123456789abcdef',
  budget: 'vk-cache-budget-0123456789ab',
};

let fake: FakeServer;
let sc: TestSidecar;

const config = (fakeUrl: string) => `
providers:
  a: {type: openai, api_key: sk-real-a, base_url: "${fakeUrl}/v1"}
configs:
  main: {provider: "@a", cache: {mode: simple}}
  other: {provider: "@a", cache: {mode: simple}}
  short: {provider: "@a", cache: {mode: simple, max_age: 1}}
  tiny: {provider: "@a", cache: {mode: simple, max_bytes: 6000}}
  off: {provider: "@a"}
  guarded: {provider: "@a", cache: {mode: simple}, guardrails: {output: [{type: contains, deny: ["forbidden"], action: block}]}}
default_config: main
server: {require_virtual_key: false}
virtual_keys:
  one: {key: ${VK.one}}
  two: {key: ${VK.two}}
  budget: {key: ${VK.budget}, budget: {max_cost_usd: 1, period: 1d}}
`;

beforeAll(async () => {
  fake = await startFakeOpenAI({ apiKey: 'sk-real-a' });
  sc = await startSidecar(config(fake.url), { telemetry: true });
});
afterAll(async () => {
  await sc?.close();
  await fake?.close();
});
beforeEach(() => fake.reset());

/** What the openai SDK's stream helper takes (the tests' bodies are built as plain records). */
type StreamParams = Parameters<OpenAI['chat']['completions']['stream']>[0];

let seq = 0;
/** A body no other test sends (the fake's answer echoes the last user message). */
const fresh = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  model: 'gpt-4o',
  messages: [{ role: 'user', content: `question ${++seq} ${Math.random()}` }],
  ...extra,
});
const chatUrl = () => `${sc.url}/v1/chat/completions`;
const status = (r: { headers: Headers }) => r.headers.get('x-switchyard-cache-status');
const TOOLS = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'weather',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
        required: ['city'],
      },
    },
  },
];

describe('simple mode', () => {
  it('answers the same body from the cache: no provider call, attempts 0, the same answer', async () => {
    const body = fresh({ max_tokens: 30 });
    const a = await post(chatUrl(), body);
    const b = await post(chatUrl(), body);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect([status(a), status(b)]).toEqual(['MISS', 'HIT']);
    expect(fake.requests).toHaveLength(1);
    expect(b.headers.get('x-switchyard-attempts')).toBe('0');
    expect(a.headers.get('x-switchyard-attempts')).toBe('1');
    expect(b.json).toEqual(a.json);
  });

  it('hits on reordered keys at every depth (canonical JSON)', async () => {
    const content = `reorder ${Math.random()}`;
    const a = {
      model: 'gpt-4o',
      temperature: 0.2,
      messages: [{ role: 'user', content }],
      tools: TOOLS,
      response_format: { type: 'text' },
    };
    const reordered = {
      response_format: { type: 'text' },
      tools: [
        {
          function: {
            parameters: {
              required: ['city'],
              properties: { unit: { enum: ['c', 'f'], type: 'string' }, city: { type: 'string' } },
              type: 'object',
            },
            description: 'weather',
            name: 'get_weather',
          },
          type: 'function',
        },
      ],
      messages: [{ content, role: 'user' }],
      temperature: 0.2,
      model: 'gpt-4o',
    };
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(reordered));
    expect(status(await post(chatUrl(), a))).toBe('MISS');
    const r = await post(chatUrl(), reordered);
    expect(status(r)).toBe('HIT');
    expect(fake.requests).toHaveLength(1);
  });

  it('misses on any change of model, messages, temperature, top_p, max_tokens, tools, tool_choice, response_format, seed, n, stop', async () => {
    const base = {
      model: 'gpt-4o',
      messages: [{ role: 'user', content: `params ${Math.random()}` }],
      temperature: 0.5,
      top_p: 1,
      max_tokens: 40,
      tools: TOOLS,
      tool_choice: 'none',
      response_format: { type: 'text' },
      seed: 1,
      n: 1,
      stop: ['zzz'],
    };
    expect(status(await post(chatUrl(), base))).toBe('MISS');
    expect(status(await post(chatUrl(), base))).toBe('HIT');
    const variants: Record<string, unknown>[] = [
      { model: 'gpt-4o-mini' },
      { messages: [...base.messages, { role: 'assistant', content: 'ok' }, { role: 'user', content: 'more' }] },
      { messages: [{ role: 'system', content: 'be brief' }, ...base.messages] },
      { temperature: 0.6 },
      { top_p: 0.9 },
      { max_tokens: 41 },
      { tools: [{ ...TOOLS[0], function: { ...TOOLS[0].function, description: 'the weather' } }] },
      { tool_choice: 'auto' },
      {
        response_format: { type: 'json_object' },
        messages: [{ role: 'user', content: `${base.messages[0].content} in json` }],
      },
      { seed: 2 },
      { n: 2, temperature: 0 },
      { stop: ['yyy'] },
    ];
    for (const v of variants) {
      const before = fake.requests.length;
      const r = await post(chatUrl(), { ...base, ...v });
      expect(r.status, JSON.stringify(v)).toBe(200);
      expect(status(r), JSON.stringify(v)).toBe('MISS');
      expect(fake.requests.length, JSON.stringify(v)).toBe(before + 1);
    }
    // stream and stream_options are how the answer is delivered, not what it is: still a hit.
    const s = await post(chatUrl(), { ...base, stream: true, stream_options: { include_usage: true } });
    expect(status(s)).toBe('HIT');
  });

  it('never shares an entry between two virtual keys, nor with keyless requests', async () => {
    const body = fresh();
    const as = async (k?: string) => status(await post(chatUrl(), body, k ? { authorization: `Bearer ${k}` } : {}));
    expect(await as(VK.one)).toBe('MISS');
    expect(await as(VK.one)).toBe('HIT');
    expect(await as(VK.two)).toBe('MISS');
    expect(await as(VK.two)).toBe('HIT');
    expect(await as()).toBe('MISS');
    expect(fake.requests).toHaveLength(3);
  });

  it('isolates namespaces (x-switchyard-cache-namespace and the x-portkey- spelling) and configs', async () => {
    const body = fresh();
    const ns = (n?: string, spelling = 'x-switchyard') =>
      post(chatUrl(), body, n === undefined ? {} : { [`${spelling}-cache-namespace`]: n }).then(status);
    expect(await ns('team-a')).toBe('MISS');
    expect(await ns('team-a')).toBe('HIT');
    expect(await ns('team-a', 'x-portkey')).toBe('HIT');
    expect(await ns('team-b')).toBe('MISS');
    expect(await ns()).toBe('MISS');
    expect(await ns()).toBe('HIT');
    // The same body under another routing config is another entry.
    expect(status(await post(chatUrl(), body, { 'x-switchyard-config': 'other' }))).toBe('MISS');
    expect(fake.requests).toHaveLength(4);
  });

  it('inline configs: the same inline config hits, another inline config with the same body misses', async () => {
    const body = fresh();
    const inline = (extra: Record<string, unknown> = {}) => ({
      'x-switchyard-config': JSON.stringify({ provider: '@a', cache: { mode: 'simple' }, ...extra }),
    });
    expect(status(await post(chatUrl(), body, inline()))).toBe('MISS');
    expect(status(await post(chatUrl(), body, inline()))).toBe('HIT');
    expect(status(await post(chatUrl(), body, inline({ request_timeout: 9000 })))).toBe('MISS');
    expect(status(await post(chatUrl(), body, { 'x-switchyard-config': JSON.stringify({ provider: '@a' }) }))).toBe(
      'DISABLED',
    );
    expect(fake.requests).toHaveLength(3);
  });

  it('stores only complete 200 answers: an error is not cached', async () => {
    const body = fresh();
    fake.enqueue({ status: 400, message: 'bad thing' });
    const a = await post(chatUrl(), body);
    expect(a.status).toBe(400);
    const b = await post(chatUrl(), body);
    expect([b.status, status(b)]).toEqual([200, 'MISS']);
    expect(status(await post(chatUrl(), body))).toBe('HIT');
    expect(fake.requests).toHaveLength(2);
  });

  it('stores only answers that passed output guardrails, streamed or not', async () => {
    const h = { 'x-switchyard-config': 'guarded' };
    for (const stream of [false, true]) {
      fake.reset();
      const denied = fresh({ messages: [{ role: 'user', content: `say forbidden ${Math.random()}` }], stream });
      const d1 = await post(chatUrl(), denied, h);
      expect(stream ? d1.text : d1.status, `stream ${stream}`).toEqual(
        stream ? expect.stringContaining('guardrail') : 446,
      );
      const d2 = await post(chatUrl(), denied, h);
      expect(stream ? d2.text : d2.status).toEqual(stream ? expect.stringContaining('guardrail') : 446);
      expect(fake.requests).toHaveLength(2);
      const ok = fresh({ stream });
      expect(status(await post(chatUrl(), ok, h))).toBe('MISS');
      const hit = await post(chatUrl(), ok, h);
      expect(status(hit)).toBe('HIT');
      if (stream) expect(sseData(hit.text).at(-1)).toBe('[DONE]');
      expect(fake.requests).toHaveLength(3);
    }
  });

  it('does not store a stream cut mid-way', async () => {
    const body = fresh({ stream: true });
    fake.enqueue({ cutAfterEvents: 2 });
    const a = await post(chatUrl(), body);
    expect(a.status).toBe(200);
    expect(status(a)).toBe('MISS');
    const b = await post(chatUrl(), body);
    expect(status(b)).toBe('MISS');
    expect(sseData(b.text).at(-1)).toBe('[DONE]');
    expect(fake.requests).toHaveLength(2);
  });

  it('expires entries after max_age seconds', async () => {
    const body = fresh();
    const h = { 'x-switchyard-config': 'short' };
    expect(status(await post(chatUrl(), body, h))).toBe('MISS');
    expect(status(await post(chatUrl(), body, h))).toBe('HIT');
    await new Promise((r) => setTimeout(r, 1100));
    expect(status(await post(chatUrl(), body, h))).toBe('MISS');
    expect(fake.requests).toHaveLength(2);
  });

  it('force refresh: REFRESH calls the provider and stores the new answer, then HIT answers it', async () => {
    const body = fresh();
    const first = await post(chatUrl(), body);
    expect(status(await post(chatUrl(), body))).toBe('HIT');
    const refreshed = await post(chatUrl(), body, { 'x-switchyard-cache-force-refresh': 'true' });
    expect(status(refreshed)).toBe('REFRESH');
    expect(refreshed.json.id).not.toBe(first.json.id);
    const after = await post(chatUrl(), body);
    expect(status(after)).toBe('HIT');
    expect(after.json.id).toBe(refreshed.json.id);
    expect(status(await post(chatUrl(), body, { 'x-portkey-cache-force-refresh': 'true' }))).toBe('REFRESH');
    expect(fake.requests).toHaveLength(3);
  });

  it("a model field naming a provider keeps the config's cache, under its own config id", async () => {
    const body = fresh({ model: '@a/gpt-4o' });
    expect(status(await post(chatUrl(), body))).toBe('MISS');
    expect(status(await post(chatUrl(), body))).toBe('HIT');
    // Not the entry of the same request through the config's own targets.
    expect(status(await post(chatUrl(), { ...body, model: 'gpt-4o' }))).toBe('MISS');
    expect(fake.requests).toHaveLength(2);
  });

  it('a config without cache: DISABLED, force refresh ignored', async () => {
    const body = fresh();
    const h = { 'x-switchyard-config': 'off' };
    expect(status(await post(chatUrl(), body, h))).toBe('DISABLED');
    expect(status(await post(chatUrl(), body, { ...h, 'x-switchyard-cache-force-refresh': 'true' }))).toBe('DISABLED');
    expect(fake.requests).toHaveLength(2);
  });

  it('keeps memory entries within max_bytes, least recently used out first', async () => {
    const h = { 'x-switchyard-config': 'tiny' };
    const bodies = Array.from({ length: 12 }, () => fresh());
    for (const b of bodies) expect(status(await post(chatUrl(), b, h))).toBe('MISS');
    // ~1 KB per entry, 6000 bytes: the newest are there, the oldest were evicted.
    expect(status(await post(chatUrl(), bodies[11], h))).toBe('HIT');
    expect(status(await post(chatUrl(), bodies[0], h))).toBe('MISS');
  });
});

describe('other routes', () => {
  it('caches /v1/completions (JSON after stream) and /v1/embeddings', async () => {
    const prompt = `complete ${Math.random()}`;
    const s = await post(`${sc.url}/v1/completions`, {
      model: 'gpt-3.5-turbo-instruct',
      prompt,
      max_tokens: 20,
      stream: true,
    });
    expect(status(s)).toBe('MISS');
    const streamedText = sseData(s.text)
      .filter((d) => d !== '[DONE]')
      .map((d) => JSON.parse(d).choices[0]?.text ?? '')
      .join('');
    const j = await post(`${sc.url}/v1/completions`, { model: 'gpt-3.5-turbo-instruct', prompt, max_tokens: 20 });
    expect(status(j)).toBe('HIT');
    expect(j.json.choices[0].text).toBe(streamedText);
    expect(j.json.object).toBe('text_completion');
    const input = `embed ${Math.random()}`;
    const e1 = await post(`${sc.url}/v1/embeddings`, { model: 'text-embedding-3-small', input });
    const e2 = await post(`${sc.url}/v1/embeddings`, { model: 'text-embedding-3-small', input });
    expect([status(e1), status(e2)]).toEqual(['MISS', 'HIT']);
    expect(e2.json).toEqual(e1.json);
    expect(fake.requests).toHaveLength(2);
  });
});

describe('streams', () => {
  const client = () => new OpenAI({ apiKey: 'unused', baseURL: `${sc.url}/v1`, maxRetries: 0 });

  it('a streamed request after a non-streamed one is a HIT whose chunks reassemble to the original (tool calls, usage)', async () => {
    const body = fresh({ tools: TOOLS, tool_choice: 'required' });
    const j = await post(chatUrl(), body);
    expect(status(j)).toBe('MISS');
    expect(j.json.choices[0].message.tool_calls).toHaveLength(1);
    // The openai SDK reassembles the stream on its own.
    const final = await client()
      .chat.completions.stream({ ...(body as unknown as StreamParams), stream_options: { include_usage: true } })
      .finalChatCompletion();
    const orig = j.json.choices[0];
    expect(final.choices[0].message.content ?? null).toEqual(orig.message.content);
    expect(final.choices[0].message.tool_calls?.map((t) => ({ id: t.id, type: t.type, function: t.function }))).toEqual(
      orig.message.tool_calls,
    );
    expect(final.choices[0].finish_reason).toBe(orig.finish_reason);
    expect(final.usage).toEqual(j.json.usage);
    expect(final.id).toBe(j.json.id);
    const raw = await post(chatUrl(), { ...body, stream: true, stream_options: { include_usage: true } });
    expect(status(raw)).toBe('HIT');
    expect(raw.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(
      sseData(raw.text)
        .filter((d) => d !== '[DONE]')
        .map((d) => JSON.parse(d))
        .filter((c) => c.usage),
    ).toHaveLength(1);
    expect(fake.requests).toHaveLength(1);

    // Without include_usage, no chunk carries usage.
    const plain = await post(chatUrl(), { ...body, stream: true });
    expect(status(plain)).toBe('HIT');
    const chunks = sseData(plain.text)
      .filter((d) => d !== '[DONE]')
      .map((d) => JSON.parse(d));
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(sseData(plain.text).at(-1)).toBe('[DONE]');
  });

  it('a non-streamed request after a streamed one is a HIT with the complete answer, usage kept though the client did not ask', async () => {
    const body = fresh({ max_tokens: 25 });
    const s = await post(chatUrl(), { ...body, stream: true });
    expect(status(s)).toBe('MISS');
    const chunks = sseData(s.text)
      .filter((d) => d !== '[DONE]')
      .map((d) => JSON.parse(d));
    // The client did not ask for usage: the cache asked the provider for it and kept it to itself.
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(fake.requests[0].body).toMatchObject({ stream_options: { include_usage: true } });
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    const finish = chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean);

    const j = await post(chatUrl(), body);
    expect(status(j)).toBe('HIT');
    expect(j.json.object).toBe('chat.completion');
    expect(j.json.id).toBe(chunks[0].id);
    expect(j.json.choices[0].message).toMatchObject({ role: 'assistant', content: text });
    expect([j.json.choices[0].finish_reason]).toEqual(finish);
    // The same usage a non-streamed call reports.
    fake.reset();
    const direct = await post(chatUrl(), body, { 'x-switchyard-config': 'off' });
    expect(j.json.usage).toEqual(direct.json.usage);
    expect(j.json.choices[0].message.content).toBe(direct.json.choices[0].message.content);
  });

  it('a streamed tool call stored from a stream replays to the same tool call, streamed again or as JSON', async () => {
    const body = fresh({
      tools: TOOLS,
      tool_choice: 'required',
      stream: true,
      stream_options: { include_usage: true },
    });
    const first = await client()
      .chat.completions.stream(body as unknown as StreamParams)
      .finalChatCompletion();
    const again = await client()
      .chat.completions.stream(body as unknown as StreamParams)
      .finalChatCompletion();
    expect(again).toEqual(first);
    const { stream: _s, stream_options: _o, ...plain } = body;
    const j = await post(chatUrl(), plain);
    expect(status(j)).toBe('HIT');
    expect(j.json.choices[0].message.tool_calls).toEqual(
      first.choices[0].message.tool_calls!.map((t) => ({ id: t.id, type: t.type, function: t.function })),
    );
    expect(j.json.usage).toEqual(first.usage);
    expect(fake.requests).toHaveLength(1);
  });
});

describe('budgets and telemetry', () => {
  const bearer = { authorization: `Bearer ${VK.budget}` };
  /** Settled spend, once every reservation has settled (settles land just after the answers). */
  const used = async () => {
    for (let i = 0; ; i++) {
      const b = (await fetch(`${sc.url}/v1/keys/self`, { headers: bearer }).then((r) => r.json())).budget;
      if (b.reserved === 0 || i > 100) return b.used as number;
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('a hit costs nothing: the key budget settles 0', async () => {
    const body = fresh({ max_tokens: 30 });
    const u0 = await used();
    expect(status(await post(chatUrl(), body, bearer))).toBe('MISS');
    const u1 = await used();
    expect(u1).toBeGreaterThan(u0);
    for (let i = 0; i < 3; i++) expect(status(await post(chatUrl(), body, bearer))).toBe('HIT');
    expect(await used()).toBe(u1);
  });

  it('a hit has no attempt span, switchyard.attempts = 0, the status and the saved cost on the request span', async () => {
    const body = fresh({ max_tokens: 30 });
    sc.spans!.reset();
    await post(chatUrl(), body);
    await post(chatUrl(), body);
    await post(chatUrl(), body, { 'x-switchyard-config': 'off' });
    await sc.sc.telemetry.flush();
    const spans = sc.spans!.getFinishedSpans();
    const servers = spans.filter((s) => s.kind === 1);
    expect(servers.map((s) => [s.attributes['switchyard.cache_status'], s.attributes['switchyard.attempts']])).toEqual([
      ['MISS', 1],
      ['HIT', 0],
      ['DISABLED', 1],
    ]);
    const [miss, hit] = servers;
    const clientsUnder = (s: (typeof servers)[number]) =>
      spans.filter((c) => c.kind === 2 && c.parentSpanContext?.spanId === s.spanContext().spanId);
    expect(clientsUnder(miss)).toHaveLength(1);
    expect(clientsUnder(hit)).toHaveLength(0);
    expect(hit.attributes['switchyard.cache.saved_cost_usd']).toBeCloseTo(
      miss.attributes['switchyard.cost_usd'] as number,
      12,
    );
    expect(hit.attributes['switchyard.cache.saved_cost_usd']).toBeGreaterThan(0);
    expect(hit.attributes['switchyard.cache.original_ms']).toBeGreaterThan(0);
    expect(hit.attributes['switchyard.cost_usd']).toBeUndefined();
    expect(miss.attributes['switchyard.cache.saved_cost_usd']).toBeUndefined();
  });
});
