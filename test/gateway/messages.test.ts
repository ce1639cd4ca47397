// POST /v1/messages with the official Anthropic SDK as the client: passed through as is to an
// Anthropic target, translated both ways to OpenAI and Bedrock targets, errors and events in
// Anthropic's shapes, fallback while streaming, cut streams, telemetry.
import Anthropic from '@anthropic-ai/sdk';
import { SpanKind } from '@opentelemetry/api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeAnthropic } from '../fakes/anthropic.js';
import { startFakeBedrock } from '../fakes/bedrock.js';
import { startFakeGemini } from '../fakes/gemini.js';
import { startFakeOpenAI, type FakeServer } from '../fakes/openai.js';
import type { MessagesBody } from '../fakes/anthropic-messages.js';
import type { GenerateBody } from '../fakes/gemini-generate.js';
import type { ChatBody } from '../fakes/openai-chat.js';
import { startSidecar, type TestSidecar } from '../helpers/sidecar.js';
import type { ErrorBody } from '../helpers/bodies.js';

let oai: FakeServer;
let ant: FakeServer;
let br: FakeServer;
let gem: FakeServer;
let sc: TestSidecar;
let client: Anthropic;

const NOVA = 'amazon.nova-pro-v1:0';
const weather = {
  name: 'get_weather',
  description: 'Weather for a city',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
};

beforeAll(async () => {
  oai = await startFakeOpenAI({ apiKey: 'sk-openai-test' });
  ant = await startFakeAnthropic({ apiKey: 'sk-ant-test' });
  br = await startFakeBedrock({ region: 'eu-west-1', apiKey: 'bedrock-api-key-1' });
  gem = await startFakeGemini({ apiKey: 'gem-key' });
  sc = await startSidecar(
    `
providers:
  oai: {type: openai, api_key: sk-openai-test, base_url: "${oai.url}/v1"}
  ant: {type: anthropic, api_key: sk-ant-test, base_url: "${ant.url}/v1"}
  br: {type: bedrock, base_url: "${br.url}", region: eu-west-1, api_key: bedrock-api-key-1}
  gem: {type: gemini, api_key: gem-key, base_url: "${gem.url}/v1beta"}
configs:
  anthropic: {provider: "@ant"}
  openai: {provider: "@oai", override_params: {model: gpt-4o}}
  bedrock: {provider: "@br", override_params: {model: "${NOVA}"}}
  gemini: {provider: "@gem", override_params: {model: gemini-2.5-flash}}
  fallback:
    strategy: {mode: fallback}
    targets: [{provider: "@ant"}, {provider: "@oai", override_params: {model: gpt-4o}}]
default_config: anthropic
server: {max_body_bytes: 100000}
`,
    { telemetry: true, captureContent: true },
  );
  client = new Anthropic({ baseURL: sc.url, apiKey: 'unused-by-sidecar', maxRetries: 0 });
});
afterAll(async () => {
  await sc.close();
  await Promise.all([oai.close(), ant.close(), br.close(), gem.close()]);
});
beforeEach(() => {
  oai.reset();
  ant.reset();
  br.reset();
  gem.reset();
  sc.spans!.reset();
});

const via = (config: string, headers: Record<string, string> = {}) => ({
  headers: { 'x-switchyard-config': config, ...headers },
});

/** Event data lines of an SSE body, with generated ids made comparable. */
function eventData(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('event: ') || l.startsWith('data: '))
    .map((l) => l.replace(/(msg|toolu|req)_[0-9a-z]+/g, '$1_ID'));
}

function rawPost(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      'x-api-key': 'sk-ant-test',
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

describe('to an Anthropic target: passed through as is', () => {
  it('non-stream: the upstream gets the request as the client sent it, the client gets the message as Anthropic answered', async () => {
    const params = {
      model: 'claude-sonnet-4-6',
      max_tokens: 300,
      system: [
        {
          type: 'text' as const,
          text: 'long shared prefix '.repeat(10),
          cache_control: { type: 'ephemeral' as const },
        },
      ],
      messages: [
        { role: 'user' as const, content: 'first' },
        { role: 'assistant' as const, content: 'ok' },
        {
          role: 'user' as const,
          content: [
            { type: 'text' as const, text: 'second' },
            {
              type: 'image' as const,
              source: { type: 'base64' as const, media_type: 'image/png' as const, data: 'iVBORw0KGgo=' },
            },
          ],
        },
      ],
      stop_sequences: ['NEVER'],
      temperature: 0.5,
      top_k: 5,
      metadata: { user_id: 'u-1' },
    };
    const { data: r, response } = await client.messages
      .create(params, { headers: { 'anthropic-beta': 'prompt-caching-2024-07-31' } })
      .withResponse();
    expect(ant.requests[0].body).toEqual(params);
    expect(ant.requests[0].path).toBe('/v1/messages');
    expect(ant.requests[0].headers['anthropic-beta']).toBe('prompt-caching-2024-07-31');
    // The client's anthropic-version goes on as it came (this SDK release sends its own date).
    expect(ant.requests[0].headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(r.content).toEqual([{ type: 'text', text: 'Hello from fake-anthropic: second' }]);
    expect(r.stop_reason).toBe('end_turn');
    expect(r.usage.cache_creation_input_tokens).toBeGreaterThan(0);
    // The fake's own fields reach the client untouched (cache_creation detail, service_tier).
    expect(r.usage.service_tier).toBe('standard');
    expect(response.headers.get('x-switchyard-provider')).toBe('ant');
    const again = await client.messages.create(params);
    expect(again.usage.cache_read_input_tokens).toBe(r.usage.cache_creation_input_tokens);
    // The same call straight to the fake answers the same message (ids aside).
    const direct = await (await rawPost(`${ant.url}/v1/messages`, params)).json();
    const strip = (m: object) => ({ ...m, id: undefined });

    expect(strip(again)).toEqual(strip(direct));
  });

  it('stream: the event data is what Anthropic sent, byte for byte', async () => {
    const params = {
      model: 'claude-sonnet-4-6',
      max_tokens: 200,
      messages: [{ role: 'user', content: 'stream me please' }],
      stream: true,
    };
    const through = await (
      await rawPost(`${sc.url}/v1/messages`, params, { 'x-api-key': 'unused', 'anthropic-version': '2023-01-01' })
    ).text();
    expect(ant.requests[0].headers['anthropic-version']).toBe('2023-01-01');
    const direct = await (await rawPost(`${ant.url}/v1/messages`, params)).text();
    expect(eventData(through)).toEqual(eventData(direct));
    expect(through).toContain('event: ping');
  });

  it('messages.stream with text and with tool use', async () => {
    const s = client.messages.stream({
      model: 'claude-sonnet-4-6',
      max_tokens: 200,
      messages: [{ role: 'user', content: 'say something' }],
    });
    let text = '';
    s.on('text', (t) => (text += t));
    const m = await s.finalMessage();
    expect(text).toBe('Hello from fake-anthropic: say something');
    expect(m.usage.output_tokens).toBeGreaterThan(0);

    const t = await client.messages
      .stream({
        model: 'claude-sonnet-4-6',
        max_tokens: 200,
        messages: [{ role: 'user', content: 'weather?' }],
        tools: [weather],
        tool_choice: { type: 'tool', name: 'get_weather' },
      })
      .finalMessage();
    expect(t.stop_reason).toBe('tool_use');
    const call = t.content.find((b) => b.type === 'tool_use')!;
    expect(call).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'fake-city' } });
  });

  it('the model field may name the provider; the target override sets the model', async () => {
    const r = await client.messages.create(
      { model: '@ant/claude-haiku-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] },
      via('openai'),
    );
    expect(r.model).toBe('claude-haiku-4-5');
    expect((ant.requests[0].body as MessagesBody).model).toBe('claude-haiku-4-5');
  });
});

describe('to an OpenAI target: translated both ways', () => {
  it('text, system, stop sequences, sampling, user and usage', async () => {
    // (This SDK release's types no longer list temperature/top_p; the API still takes them.)
    const params = {
      model: 'claude-sonnet-4-6',
      max_tokens: 300,
      system: 'Be brief. [cache]',
      messages: [
        { role: 'user' as const, content: 'first' },
        { role: 'assistant' as const, content: 'ok' },
        { role: 'user' as const, content: 'second' },
      ],
      stop_sequences: ['NEVER'],
      temperature: 0.2,
      top_p: 0.9,
      metadata: { user_id: 'u-1' },
    };
    const r = await client.messages.create(params, via('openai'));
    const sent = oai.requests[0].body as ChatBody;
    expect(sent.model).toBe('gpt-4o');
    expect(sent.messages).toEqual([
      { role: 'system', content: 'Be brief. [cache]' },
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'ok' },
      { role: 'user', content: 'second' },
    ]);
    expect(sent).toMatchObject({ max_tokens: 300, stop: ['NEVER'], temperature: 0.2, top_p: 0.9, user: 'u-1' });
    expect(r.type).toBe('message');
    expect(r.role).toBe('assistant');
    expect(r.id).toMatch(/^msg_/);
    expect(r.content).toEqual([{ type: 'text', text: expect.stringContaining('second') }]);
    expect(r.stop_reason).toBe('end_turn');
    expect(r.stop_sequence).toBeNull();
    // The fake caches half the prompt when it sees [cache]: Anthropic counts input apart from cache reads.
    expect(r.usage.cache_read_input_tokens).toBeGreaterThan(0);
    expect(r.usage.input_tokens).toBeGreaterThan(0);
    expect(r.usage.output_tokens).toBeGreaterThan(0);
  });

  it('max_tokens → stop_reason max_tokens', async () => {
    const r = await client.messages.create(
      { model: 'x', max_tokens: 2, messages: [{ role: 'user', content: 'a long question here please' }] },
      via('openai'),
    );
    expect(r.stop_reason).toBe('max_tokens');
  });

  it('tools, tool_use and tool_result round-trip', async () => {
    const r = await client.messages.create(
      {
        model: 'x',
        max_tokens: 200,
        messages: [{ role: 'user', content: 'weather?' }],
        tools: [weather],
        tool_choice: { type: 'any' },
      },
      via('openai'),
    );
    expect((oai.requests[0].body as ChatBody).tools).toEqual([
      {
        type: 'function',
        function: { name: 'get_weather', description: 'Weather for a city', parameters: weather.input_schema },
      },
    ]);
    expect((oai.requests[0].body as ChatBody).tool_choice).toBe('required');
    expect(r.stop_reason).toBe('tool_use');
    const call = r.content.find((b) => b.type === 'tool_use') as Anthropic.ToolUseBlock;
    expect(call).toMatchObject({ name: 'get_weather', input: { city: expect.any(String) } });

    const r2 = await client.messages.create(
      {
        model: 'x',
        max_tokens: 200,
        tools: [weather],
        messages: [
          { role: 'user', content: 'weather?' },
          { role: 'assistant', content: r.content },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: call.id, content: '{"temp": 21}' },
              { type: 'text', text: 'thanks' },
            ],
          },
        ],
      },
      via('openai'),
    );
    expect(r2.content[0].type).toBe('text');
    const msgs = (oai.requests[1].body as ChatBody).messages;
    expect(msgs[1]).toMatchObject({
      role: 'assistant',
      tool_calls: [
        { id: call.id, type: 'function', function: { name: 'get_weather', arguments: JSON.stringify(call.input) } },
      ],
    });
    expect(msgs[2]).toEqual({ role: 'tool', tool_call_id: call.id, content: '{"temp": 21}' });
    expect(msgs[3]).toEqual({ role: 'user', content: 'thanks' });
  });

  it('stream: Anthropic event sequence synthesized from chunks, usage in message_delta', async () => {
    const s = client.messages.stream(
      { model: 'x', max_tokens: 200, messages: [{ role: 'user', content: 'stream me please' }] },
      via('openai'),
    );
    const types: string[] = [];
    s.on('streamEvent', (e) => types.push(e.type));
    let text = '';
    s.on('text', (t) => (text += t));
    const m = await s.finalMessage();
    expect(text).toContain('stream me please');
    const raw = await (
      await rawPost(
        `${sc.url}/v1/messages`,
        { model: 'x', max_tokens: 200, stream: true, messages: [{ role: 'user', content: 'hi' }] },
        { 'x-switchyard-config': 'openai' },
      )
    ).text();
    expect(
      raw
        .split('\n')
        .filter((l) => l.startsWith('event: '))
        .slice(0, 3),
    ).toEqual(['event: message_start', 'event: ping', 'event: content_block_start']);
    expect(m.content).toEqual([{ type: 'text', text, citations: undefined }].map(({ citations: _c, ...b }) => b));
    expect(m.stop_reason).toBe('end_turn');
    expect(m.usage.output_tokens).toBeGreaterThan(0);
    expect(m.usage.input_tokens).toBeGreaterThan(0);
    expect(types[0]).toBe('message_start');
    expect(types[1]).toBe('content_block_start'); // the SDK does not surface pings
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(types.filter((t) => t === 'content_block_delta').length).toBeGreaterThan(1);
  });

  it('stream with tool use: input_json_delta assembles the input', async () => {
    const m = await client.messages
      .stream(
        {
          model: 'x',
          max_tokens: 200,
          messages: [{ role: 'user', content: 'weather?' }],
          tools: [weather],
          tool_choice: { type: 'tool', name: 'get_weather' },
        },
        via('openai'),
      )
      .finalMessage();
    expect((oai.requests[0].body as ChatBody).tool_choice).toEqual({
      type: 'function',
      function: { name: 'get_weather' },
    });
    expect(m.stop_reason).toBe('tool_use');
    expect(m.content.find((b) => b.type === 'tool_use')).toMatchObject({
      name: 'get_weather',
      input: { city: expect.any(String) },
    });
  });
});

describe('to Bedrock: translated through the existing adapter', () => {
  it('non-stream and stream', async () => {
    const r = await client.messages.create(
      { model: 'x', max_tokens: 200, system: 'Be brief.', messages: [{ role: 'user', content: 'ping' }] },
      via('bedrock'),
    );
    expect(r.content[0]).toMatchObject({ type: 'text', text: expect.stringContaining('fake-bedrock') });
    expect(r.usage.output_tokens).toBeGreaterThan(0);
    const m = await client.messages
      .stream(
        { model: 'x', max_tokens: 200, messages: [{ role: 'user', content: 'stream me please' }] },
        via('bedrock'),
      )
      .finalMessage();
    expect((m.content[0] as Anthropic.TextBlock).text).toContain('fake-bedrock');
    expect(m.stop_reason).toBe('end_turn');
  });
});

describe('to Gemini: translated through the existing adapter', () => {
  it('non-stream with a tool call, and stream', async () => {
    const r = await client.messages.create(
      {
        model: 'x',
        max_tokens: 200,
        system: 'Be brief.',
        messages: [{ role: 'user', content: 'weather?' }],
        tools: [weather],
        tool_choice: { type: 'any' },
      },
      via('gemini'),
    );
    expect(r.stop_reason).toBe('tool_use');
    expect(r.content.find((b) => b.type === 'tool_use')).toMatchObject({
      name: 'get_weather',
      input: { city: expect.any(String) },
    });
    expect((gem.requests[0].body as GenerateBody).systemInstruction).toBeDefined();
    const m = await client.messages
      .stream({ model: 'x', max_tokens: 200, messages: [{ role: 'user', content: 'stream me please' }] }, via('gemini'))
      .finalMessage();
    expect((m.content[0] as Anthropic.TextBlock).text.length).toBeGreaterThan(0);
    expect(m.usage.output_tokens).toBeGreaterThan(0);
  });
});

describe('content blocks to an OpenAI target', () => {
  it('images (base64 and URL), text and PDF documents, thinking dropped', async () => {
    await client.messages.create(
      {
        model: 'x',
        max_tokens: 50,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'what are these?' },
              { type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
              { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'plain words' } },
              {
                type: 'document',
                source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' },
                title: 'a.pdf',
              },
            ],
          },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'hmm', signature: 'sig' },
              { type: 'text', text: 'ok' },
            ],
          },
          { role: 'user', content: 'and?' },
        ],
      },
      via('openai'),
    );
    const [user, assistant] = (oai.requests[0].body as ChatBody).messages;
    expect(user.content).toEqual([
      { type: 'text', text: 'what are these?' },
      { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
      { type: 'text', text: 'plain words' },
      { type: 'file', file: { filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBERi0=' } },
    ]);
    expect(assistant).toEqual({ role: 'assistant', content: 'ok' });
  });
});

describe('errors in Anthropic shape', () => {
  it.each([
    ['missing max_tokens', { model: 'x', messages: [{ role: 'user', content: 'hi' }] }, /max_tokens: Field required/],
    ['empty messages', { model: 'x', max_tokens: 10, messages: [] }, /messages/],
    [
      'a system role message',
      { model: 'x', max_tokens: 10, messages: [{ role: 'system', content: 'hi' }] },
      /messages\.0\.role: Unexpected role "system"/,
    ],
    [
      'an unknown block type',
      { model: 'x', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'video', url: 'x' }] }] },
      /messages\.0\.content\.0\.type: Input tag 'video'/,
    ],
    [
      'empty content',
      {
        model: 'x',
        max_tokens: 10,
        messages: [
          { role: 'user', content: '' },
          { role: 'assistant', content: 'x' },
        ],
      },
      /non-empty content/,
    ],
  ])('%s → 400 invalid_request_error', async (_name, body, message) => {
    const e = await client.messages
      .create(body as unknown as Anthropic.MessageCreateParamsNonStreaming)
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Anthropic.BadRequestError);
    const err = e as InstanceType<typeof Anthropic.BadRequestError>;
    expect(err.status).toBe(400);
    expect((err.error as ErrorBody).type).toBe('error');
    expect((err.error as ErrorBody).error.type).toBe('invalid_request_error');
    expect((err.error as ErrorBody).error.message).toMatch(message);
    expect(ant.requests).toHaveLength(0);
  });

  it('a body over the limit → 413 request_too_large', async () => {
    const r = await rawPost(`${sc.url}/v1/messages`, {
      model: 'x',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'x'.repeat(200_000) }],
    });
    expect(r.status).toBe(413);
    expect(await r.json()).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
  });

  it('an upstream 429 keeps its status and type, with our attempts list', async () => {
    ant.enqueue({ status: 429 });
    const e = (await client.messages
      .create({ model: 'x', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .catch((x: unknown) => x)) as InstanceType<typeof Anthropic.RateLimitError>;
    expect(e).toBeInstanceOf(Anthropic.RateLimitError);
    const body = e.error as ErrorBody;
    expect(body.type).toBe('error');
    expect(body.error.type).toBe('rate_limit_error');
    expect(body.error.attempts).toEqual([
      expect.objectContaining({ provider: 'ant', status: 429, error_type: 'http_error' }),
    ]);
  });

  it('an OpenAI target error is answered in Anthropic shape too', async () => {
    oai.enqueue({ status: 500 });
    const e = (await client.messages
      .create({ model: 'x', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }, via('openai'))
      .catch((x: unknown) => x)) as InstanceType<typeof Anthropic.APIError>;
    expect(e.status).toBe(500);
    expect((e.error as ErrorBody).error.type).toBe('api_error');
  });

  it('a server tool cannot go to an OpenAI target: 400 naming it', async () => {
    const e = (await client.messages
      .create(
        {
          model: 'x',
          max_tokens: 10,
          messages: [{ role: 'user', content: 'hi' }],
          tools: [{ type: 'web_search_20250305', name: 'web_search' }],
        },
        via('openai'),
      )
      .catch((x: unknown) => x)) as InstanceType<typeof Anthropic.APIError>;
    expect(e.status).toBe(400);
    expect((e.error as ErrorBody).error.message).toMatch(/web_search_20250305/);
    expect(oai.requests).toHaveLength(0);
  });

  it('wrong method → 405', async () => {
    const r = await fetch(`${sc.url}/v1/messages`);
    expect(r.status).toBe(405);
  });
});

describe('routing and broken streams', () => {
  it('fallback from a failing Anthropic target to OpenAI, streamed', async () => {
    ant.enqueue({ status: 529 });
    const s = client.messages.stream(
      { model: 'claude-sonnet-4-6', max_tokens: 200, messages: [{ role: 'user', content: 'rescue me' }] },
      via('fallback'),
    );
    const m = await s.finalMessage();
    expect((m.content[0] as Anthropic.TextBlock).text).toContain('fake-openai');
    expect(m.model).toContain('gpt-4o');
    expect(ant.requests).toHaveLength(1);
    expect(oai.requests).toHaveLength(1);
    const { response } = await s.withResponse();
    expect(response.headers.get('x-switchyard-target')).toBe('1');
    expect(response.headers.get('x-switchyard-provider')).toBe('oai');
  });

  it.each([
    ['anthropic', () => ant],
    ['openai', () => oai],
  ])(
    'a stream cut mid-way from %s: the SDK raises, the body ends with an error event, never message_stop',
    async (config, fake) => {
      fake().enqueue({ cutAfterEvents: 3 });
      const s = client.messages.stream(
        {
          model: 'claude-sonnet-4-6',
          max_tokens: 200,
          messages: [{ role: 'user', content: 'a fairly long answer please, with many words in it' }],
        },
        via(config),
      );
      await expect(s.finalMessage()).rejects.toThrow();
      fake().enqueue({ cutAfterEvents: 3 });
      const raw = await (
        await rawPost(
          `${sc.url}/v1/messages`,
          {
            model: 'claude-sonnet-4-6',
            max_tokens: 200,
            stream: true,
            messages: [{ role: 'user', content: 'a fairly long answer please, with many words in it' }],
          },
          { 'x-switchyard-config': config },
        )
      ).text();
      expect(raw).toContain('event: message_start');
      expect(raw).not.toContain('message_stop');
      const last = raw.trim().split('\n\n').pop()!;
      expect(last.startsWith('event: error\n')).toBe(true);
      expect(JSON.parse(last.split('\ndata: ')[1])).toMatchObject({
        type: 'error',
        error: { type: 'api_error', message: expect.any(String) },
      });
    },
  );

  it('an in-stream Anthropic error event reaches the SDK as an error', async () => {
    ant.enqueue({ errorAfterEvents: 3 });
    await expect(
      client.messages
        .stream({
          model: 'claude-sonnet-4-6',
          max_tokens: 200,
          messages: [{ role: 'user', content: 'hello there friend' }],
        })
        .finalMessage(),
    ).rejects.toThrow();
  });
});

describe('telemetry', () => {
  const waitSpans = async (n: number) => {
    for (let i = 0; i < 100 && sc.spans!.getFinishedSpans().length < n; i++)
      await new Promise((r) => setTimeout(r, 20));
    return sc.spans!.getFinishedSpans();
  };

  it('the same spans as the OpenAI routes, http.route /v1/messages, the caller span id', async () => {
    await client.messages.create(
      { model: 'claude-sonnet-4-6', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] },
      { headers: { 'x-switchyard-span-id': 'turn-7', 'x-switchyard-trace-id': 'conv-1' } },
    );
    const spans = await waitSpans(2);
    const server = spans.find((s) => s.kind === SpanKind.SERVER)!;
    const attempt = spans.find((s) => s.kind === SpanKind.CLIENT)!;
    expect(server.attributes['http.route']).toBe('/v1/messages');
    expect(server.attributes['switchyard.span_id']).toBe('turn-7');
    expect(server.attributes['switchyard.trace_id']).toBe('conv-1');
    expect(attempt.name).toBe('chat claude-sonnet-4-6');
    expect(attempt.attributes['gen_ai.operation.name']).toBe('chat');
    expect(attempt.attributes['gen_ai.provider.name']).toBe('anthropic');
    expect(attempt.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(String(attempt.attributes['gen_ai.input.messages'])).toContain('hi');
    expect(String(attempt.attributes['gen_ai.output.messages'])).toContain('Hello from fake-anthropic');
  });

  it('x-portkey-span-id is read too, on the OpenAI routes as well', async () => {
    await fetch(`${sc.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-portkey-span-id': 'turn-8', 'x-switchyard-config': 'openai' },
      body: JSON.stringify({ model: 'x', messages: [{ role: 'user', content: 'hi' }] }),
    });
    const spans = await waitSpans(2);
    expect(spans.find((s) => s.kind === SpanKind.SERVER)!.attributes['switchyard.span_id']).toBe('turn-8');
  });

  it('x-switchyard-disable-logging: no content captured; spans still recorded', async () => {
    for (const h of ['x-switchyard-disable-logging', 'x-portkey-disable-logging']) {
      sc.spans!.reset();
      await client.messages.create(
        { model: 'claude-sonnet-4-6', max_tokens: 50, messages: [{ role: 'user', content: 'secret words' }] },
        { headers: { [h]: 'true' } },
      );
      const spans = await waitSpans(2);
      const attempt = spans.find((s) => s.kind === SpanKind.CLIENT)!;
      expect(attempt.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
      expect(attempt.attributes['gen_ai.input.messages']).toBeUndefined();
      expect(attempt.attributes['gen_ai.output.messages']).toBeUndefined();
    }
  });
});

describe('count_tokens', () => {
  it('goes to the Anthropic target as it came and answers as Anthropic did', async () => {
    const params = {
      model: 'claude-sonnet-4-6',
      system: 'Be brief.',
      messages: [{ role: 'user' as const, content: 'how many tokens is this?' }],
    };
    const r = await client.messages.countTokens(params);
    expect(r.input_tokens).toBeGreaterThan(0);
    expect(ant.requests[0].path).toBe('/v1/messages/count_tokens');
    expect(ant.requests[0].body).toEqual(params);
    const direct = await (await rawPost(`${ant.url}/v1/messages/count_tokens`, params)).json();
    expect(r).toEqual(direct);
  });

  it('falls back past a non-Anthropic target; with none, a 400 in Anthropic shape', async () => {
    const r = await client.messages.countTokens(
      { model: 'x', messages: [{ role: 'user', content: 'hi' }] },
      {
        headers: {
          'x-switchyard-config': JSON.stringify({
            strategy: { mode: 'fallback' },
            targets: [{ provider: '@oai' }, { provider: '@ant' }],
          }),
        },
      },
    );
    expect(r.input_tokens).toBeGreaterThan(0);
    expect(oai.requests).toHaveLength(0);
    const e = (await client.messages
      .countTokens({ model: 'x', messages: [{ role: 'user', content: 'hi' }] }, via('openai'))
      .catch((x: unknown) => x)) as InstanceType<typeof Anthropic.APIError>;
    expect(e.status).toBe(400);
    expect((e.error as ErrorBody).error).toMatchObject({
      type: 'invalid_request_error',
      message: expect.stringMatching(/count_tokens/),
    });
  });

  it('validates like the API (messages required)', async () => {
    const e = (await client.messages
      .countTokens({ model: 'x' } as unknown as Anthropic.MessageCountTokensParams)
      .catch((x: unknown) => x)) as InstanceType<typeof Anthropic.APIError>;
    expect(e.status).toBe(400);
    expect((e.error as ErrorBody).error.message).toMatch(/messages: Field required/);
  });
});
