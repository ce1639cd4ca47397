// Tests of the fake providers themselves: OpenAI through the official SDK, Anthropic and every
// fault kind through raw undici, so the gateway tests can trust what the fakes do on the wire.
import type Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody } from '../helpers/bodies.js';
import { startFakeAnthropic } from './anthropic.js';
import { startFakeOpenAI } from './openai.js';
import type { FakeServer } from './server.js';
import { countTokens, embed } from './text.js';

let oa: FakeServer;
let an: FakeServer;
let client: OpenAI;
const agent = new Agent({ keepAliveTimeout: 1000 });

beforeAll(async () => {
  oa = await startFakeOpenAI({ apiKey: 'sk-test-key' });
  an = await startFakeAnthropic({ apiKey: 'ant-test-key' });
  client = new OpenAI({ apiKey: 'sk-test-key', baseURL: `${oa.url}/v1`, maxRetries: 0 });
});
afterEach(() => {
  oa.reset();
  an.reset();
});
afterAll(async () => {
  await Promise.all([oa.close(), an.close()]);
  await agent.close();
});

const ANT_HEADERS = {
  'x-api-key': 'ant-test-key',
  'anthropic-version': '2023-06-01',
  'content-type': 'application/json',
};
const OA_HEADERS = { authorization: 'Bearer sk-test-key', 'content-type': 'application/json' };

function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  opts: { headersTimeout?: number; bodyTimeout?: number } = {},
) {
  return request(url, { method: 'POST', body, headers, dispatcher: agent, ...opts });
}

/** Parses an SSE body into {event, data} records (data kept as text). */
function sse(text: string): { event?: string; data: string }[] {
  return text
    .split('\n\n')
    .filter((f) => f.trim() !== '')
    .map((f) => {
      const ev = /^event: (.*)$/m.exec(f);
      const data = /^data: (.*)$/m.exec(f);
      return { event: ev?.[1], data: data?.[1] ?? '' };
    });
}

describe('fake OpenAI through the official SDK', () => {
  it('answers a chat completion with the real object shape and deterministic usage', async () => {
    const r = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'be nice' },
        { role: 'user', content: 'hi there' },
      ],
    });
    expect(r.object).toBe('chat.completion');
    expect(r.id).toMatch(/^chatcmpl-/);
    expect(r.model).toBe('gpt-4o-mini');
    expect(r.system_fingerprint).toBeTruthy();
    expect(r.choices[0].message).toMatchObject({
      role: 'assistant',
      content: 'Hello from fake-openai: hi there',
      refusal: null,
    });
    expect(r.choices[0].finish_reason).toBe('stop');
    const completion = countTokens('Hello from fake-openai: hi there');
    expect(r.usage).toMatchObject({
      completion_tokens: completion,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
    expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + completion);
    expect(oa.requests).toHaveLength(1);
    expect(oa.requests[0]).toMatchObject({
      method: 'POST',
      path: '/v1/chat/completions',
      body: { model: 'gpt-4o-mini' },
    });
    expect(oa.requests[0].headers.authorization).toBe('[redacted]');
  });

  it('streams chunks ending with finish_reason, a usage chunk and [DONE]', async () => {
    const s = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'stream me please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const c of s) chunks.push(c);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('Hello from fake-openai: stream me please');
    expect(chunks.at(-2)!.choices[0].finish_reason).toBe('stop');
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage!.completion_tokens).toBe(countTokens(text));
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  });

  it('answers tool calls (forced by tool_choice) in full and as streamed fragments', async () => {
    const tools = [
      {
        type: 'function' as const,
        function: {
          name: 'get_weather',
          parameters: {
            type: 'object',
            properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
            required: ['city'],
          },
        },
      },
    ];
    const r = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'weather?' }],
      tools,
      tool_choice: 'required',
    });
    expect(r.choices[0].finish_reason).toBe('tool_calls');
    const call = r.choices[0].message.tool_calls![0];
    expect(call.id).toMatch(/^call_/);
    expect(call.type === 'function' && call.function.name).toBe('get_weather');
    expect(call.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ city: 'fake-city', unit: 'c' });

    const s = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'please use a tool' }],
      tools,
      stream: true,
    });
    let args = '';
    let name = '';
    let finish: string | null = null;
    for await (const c of s) {
      const tc = c.choices[0]?.delta.tool_calls?.[0];
      if (tc?.function?.name) name = tc.function.name;
      args += tc?.function?.arguments ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect(name).toBe('get_weather');
    expect(JSON.parse(args)).toEqual({ city: 'fake-city', unit: 'c' });
    expect(finish).toBe('tool_calls');
  });

  it('stops at max_tokens with finish_reason length, and reports cached tokens for the marker', async () => {
    const r = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'a long question [cache]' }],
      max_tokens: 2,
    });
    expect(r.choices[0].finish_reason).toBe('length');
    expect(r.choices[0].message.content).toBe('Hello fr');
    expect(r.usage!.prompt_tokens_details!.cached_tokens).toBe(Math.floor(r.usage!.prompt_tokens / 2));
  });

  it('returns embeddings as floats and as base64 of the same vectors', async () => {
    const raw = await post(
      `${oa.url}/v1/embeddings`,
      JSON.stringify({ model: 'text-embedding-3-small', input: ['alpha', 'beta'], dimensions: 8 }),
      OA_HEADERS,
    );
    const floats = (await raw.body.json()) as OpenAI.CreateEmbeddingResponse;
    expect(floats.object).toBe('list');
    expect(floats.data.map((d) => d.index)).toEqual([0, 1]);
    expect(floats.data[0].embedding).toHaveLength(8);
    expect(floats.usage).toEqual({ prompt_tokens: countTokens('alpha') + countTokens('beta'), total_tokens: 3 });
    // The SDK asks for base64 and decodes it: it must get the same vector back.
    const viaSdk = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['alpha', 'beta'],
      dimensions: 8,
    });
    expect(viaSdk.data[1].embedding).toEqual(floats.data[1].embedding);
    expect((oa.requests[1].body as OpenAI.EmbeddingCreateParams).encoding_format).toBe('base64');
    expect(Array.from(embed('alpha', 8))).toEqual(floats.data[0].embedding);
  });

  it('lists models', async () => {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toContain('gpt-4o');
  });

  it('surfaces an injected 429 with retry-after to the SDK as a RateLimitError', async () => {
    oa.enqueue({ status: 429, retryAfter: '2', retryAfterMs: 2000 });
    const err = await client.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.status).toBe(429);
    expect(err.code).toBe('rate_limit_exceeded');
    expect(err.type).toBe('requests');
    expect(err.headers.get('retry-after')).toBe('2');
    expect(err.headers.get('retry-after-ms')).toBe('2000');
    expect(err.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    // The queue is consumed: the next call is healthy again.
    const ok = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
    expect(ok.choices[0].message.content).toBe('Hello from fake-openai: x');
  });

  it('rejects bad keys and bad bodies with the real error bodies', async () => {
    const bad = new OpenAI({ apiKey: 'sk-wrong-key-1234', baseURL: `${oa.url}/v1`, maxRetries: 0 });
    const e401 = await bad.models.list().catch((e) => e);
    expect(e401).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(e401.code).toBe('invalid_api_key');
    expect(e401.message).not.toContain('sk-wrong-key-1234');

    const missing = await post(`${oa.url}/v1/chat/completions`, JSON.stringify({ model: 'gpt-4o' }), OA_HEADERS);
    expect(missing.statusCode).toBe(400);
    expect(await missing.body.json()).toEqual({
      error: {
        message: "Missing required parameter: 'messages'.",
        type: 'invalid_request_error',
        param: 'messages',
        code: 'missing_required_parameter',
      },
    });
    const noModel = await post(`${oa.url}/v1/chat/completions`, JSON.stringify({ messages: [] }), OA_HEADERS);
    expect(((await noModel.body.json()) as ErrorBody).error.message).toBe('you must provide a model parameter');
    const role = await post(
      `${oa.url}/v1/chat/completions`,
      JSON.stringify({ model: 'm', messages: [{ role: 'robot', content: 'x' }] }),
      OA_HEADERS,
    );
    expect(((await role.body.json()) as ErrorBody).error).toMatchObject({
      param: 'messages[0].role',
      code: 'invalid_value',
    });
    const notJson = await post(`${oa.url}/v1/chat/completions`, '{nope', OA_HEADERS);
    expect(notJson.statusCode).toBe(400);
    expect(((await notJson.body.json()) as ErrorBody).error.message).toMatch(/could not parse the JSON body/);
  });
});

describe('fake Anthropic over raw HTTP', () => {
  const msgUrl = () => `${an.url}/v1/messages`;
  const msg = (extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      model: 'claude-sonnet-4-6',
      max_tokens: 256,
      messages: [{ role: 'user', content: 'hello claude' }],
      ...extra,
    });

  it('answers a message with the real shape', async () => {
    const r = await post(msgUrl(), msg({ system: 'be brief' }), ANT_HEADERS);
    expect(r.statusCode).toBe(200);
    expect(r.headers['request-id']).toMatch(/^req_/);
    expect(r.headers['anthropic-ratelimit-requests-remaining']).toBeDefined();
    const b = (await r.body.json()) as Anthropic.Message;
    expect(b).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-6',
      stop_reason: 'end_turn',
      stop_sequence: null,
    });
    expect(b.id).toMatch(/^msg_/);
    expect(b.content).toEqual([{ type: 'text', text: 'Hello from fake-anthropic: hello claude' }]);
    expect(b.usage).toMatchObject({
      input_tokens: countTokens('be brief') + countTokens('hello claude'),
      output_tokens: countTokens('Hello from fake-anthropic: hello claude'),
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
    });
  });

  it('streams the real event sequence', async () => {
    const r = await post(msgUrl(), msg({ stream: true }), ANT_HEADERS);
    expect(r.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = sse(await r.body.text());
    const names = events.map((e) => e.event);
    expect(names.slice(0, 3)).toEqual(['message_start', 'content_block_start', 'ping']);
    expect(names.slice(-4)).toEqual(['content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    const datas = events.map((e) => JSON.parse(e.data));
    // event: line and data.type agree
    datas.forEach((d, i) => {
      expect(d.type).toBe(names[i]);
    });
    expect(datas[0].message).toMatchObject({
      content: [],
      stop_reason: null,
      usage: { input_tokens: countTokens('hello claude') },
    });
    const text = datas
      .filter((d) => d.type === 'content_block_delta')
      .map((d) => d.delta.text)
      .join('');
    expect(text).toBe('Hello from fake-anthropic: hello claude');
    expect(datas.at(-2)).toMatchObject({
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: countTokens(text) },
    });
  });

  it('streams a forced tool call as input_json_delta fragments', async () => {
    const tools = [
      {
        name: 'lookup',
        description: 'd',
        input_schema: { type: 'object', properties: { q: { type: 'string' }, n: { type: 'integer' } } },
      },
    ];
    const r = await post(
      msgUrl(),
      msg({ stream: true, tools, tool_choice: { type: 'tool', name: 'lookup' } }),
      ANT_HEADERS,
    );
    const datas = sse(await r.body.text()).map((e) => JSON.parse(e.data));
    const start = datas.find((d) => d.type === 'content_block_start');
    expect(start.content_block).toMatchObject({ type: 'tool_use', name: 'lookup', input: {} });
    expect(start.content_block.id).toMatch(/^toolu_/);
    const parts = datas.filter((d) => d.delta?.type === 'input_json_delta');
    expect(parts.length).toBeGreaterThan(2);
    expect(JSON.parse(parts.map((d) => d.delta.partial_json).join(''))).toEqual({ q: 'fake-q', n: 42 });
    expect(datas.find((d) => d.type === 'message_delta').delta.stop_reason).toBe('tool_use');
  });

  it('honours stop_sequences and max_tokens', async () => {
    const s = (await (
      await post(msgUrl(), msg({ stop_sequences: ['claude'] }), ANT_HEADERS)
    ).body.json()) as Anthropic.Message;
    expect(s).toMatchObject({
      stop_reason: 'stop_sequence',
      stop_sequence: 'claude',
      content: [{ text: 'Hello from fake-anthropic: hello ' }],
    });
    const m = (await (await post(msgUrl(), msg({ max_tokens: 1 }), ANT_HEADERS)).body.json()) as Anthropic.Message;
    expect(m).toMatchObject({ stop_reason: 'max_tokens', content: [{ text: 'Hell' }], usage: { output_tokens: 1 } });
  });

  it('reports cache creation on first sight of a cache_control prefix and cache reads after', async () => {
    const system = [
      { type: 'text', text: 'A long shared system prompt. '.repeat(20), cache_control: { type: 'ephemeral' } },
    ];
    const prefix = countTokens(system[0].text);
    const first = (await (await post(msgUrl(), msg({ system }), ANT_HEADERS)).body.json()) as Anthropic.Message;
    expect(first.usage).toMatchObject({
      cache_creation_input_tokens: prefix,
      cache_read_input_tokens: 0,
      input_tokens: countTokens('hello claude'),
    });
    const second = (await (await post(msgUrl(), msg({ system }), ANT_HEADERS)).body.json()) as Anthropic.Message;
    expect(second.usage).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: prefix });
  });

  it('answers auth, version and validation errors with the real bodies', async () => {
    const noKey = await post(msgUrl(), msg(), {
      'anthropic-version': '2023-06-01',
      'content-type': 'application/json',
    });
    expect(noKey.statusCode).toBe(401);
    expect(await noKey.body.json()).toMatchObject({
      type: 'error',
      error: { type: 'authentication_error', message: 'x-api-key header is required' },
    });
    const badKey = await post(msgUrl(), msg(), { ...ANT_HEADERS, 'x-api-key': 'nope' });
    expect(((await badKey.body.json()) as ErrorBody).error).toEqual({
      type: 'authentication_error',
      message: 'invalid x-api-key',
    });
    const noVersion = await post(msgUrl(), msg(), { 'x-api-key': 'ant-test-key', 'content-type': 'application/json' });
    expect(noVersion.statusCode).toBe(400);
    expect(((await noVersion.body.json()) as ErrorBody).error.message).toBe('anthropic-version: header is required');
    const sys = await post(
      msgUrl(),
      msg({
        messages: [
          { role: 'system', content: 'x' },
          { role: 'user', content: 'y' },
        ],
      }),
      ANT_HEADERS,
    );
    expect(sys.statusCode).toBe(400);
    expect(((await sys.body.json()) as ErrorBody).error).toMatchObject({
      type: 'invalid_request_error',
      message: expect.stringMatching(/Unexpected role "system"/),
    });
    const noMax = await post(
      msgUrl(),
      JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
      ANT_HEADERS,
    );
    expect(((await noMax.body.json()) as ErrorBody).error.message).toBe('max_tokens: Field required');
    const empty = await post(msgUrl(), msg({ messages: [] }), ANT_HEADERS);
    expect(((await empty.body.json()) as ErrorBody).error.message).toBe('messages: at least one message is required');
  });

  it('answers injected 529 overloaded and in-stream error events', async () => {
    an.enqueue({ status: 529, retryAfter: '3' }, { errorAfterEvents: 3 });
    const r = await post(msgUrl(), msg(), ANT_HEADERS);
    expect(r.statusCode).toBe(529);
    expect(r.headers['retry-after']).toBe('3');
    expect(await r.body.json()).toMatchObject({
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
      request_id: expect.stringMatching(/^req_/),
    });
    const s = await post(msgUrl(), msg({ stream: true }), ANT_HEADERS);
    expect(s.statusCode).toBe(200);
    const events = sse(await s.body.text());
    expect(events.map((e) => e.event)).toEqual(['message_start', 'content_block_start', 'ping', 'error']);
    expect(JSON.parse(events[3].data)).toEqual({
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    });
  });
});
