// The official openai SDK as the client, with an OpenAI target and an Anthropic target behind it.
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeServer } from '../fakes/openai.js';
import { startFakeAnthropic } from '../fakes/anthropic.js';
import type { MessagesBody } from '../fakes/anthropic-messages.js';
import { startSidecar, type TestSidecar } from '../helpers/sidecar.js';

let oai: FakeServer;
let ant: FakeServer;
let sc: TestSidecar;
let client: OpenAI;

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

beforeAll(async () => {
  oai = await startFakeOpenAI({ apiKey: 'sk-openai-test' });
  ant = await startFakeAnthropic({ apiKey: 'sk-ant-test' });
  sc = await startSidecar(`
providers:
  oai: {type: openai, api_key: sk-openai-test, base_url: "${oai.url}/v1"}
  ant: {type: anthropic, api_key: sk-ant-test, base_url: "${ant.url}/v1"}
configs:
  openai: {provider: "@oai"}
  anthropic: {provider: "@ant", override_params: {model: claude-sonnet-4-6}}
default_config: openai
`);
  client = new OpenAI({ baseURL: `${sc.url}/v1`, apiKey: 'unused-by-sidecar', maxRetries: 0 });
});
afterAll(async () => {
  await sc.close();
  await Promise.all([oai.close(), ant.close()]);
});
beforeEach(() => {
  oai.reset();
  ant.reset();
});

const viaAnthropic = { headers: { 'x-switchyard-config': 'anthropic' } };

describe('openai SDK → sidecar → OpenAI', () => {
  it('non-stream completion', async () => {
    const r = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'ping' }] });
    expect(r.choices[0].message.content).toBe('Hello from fake-openai: ping');
    expect(r.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('stream with usage', async () => {
    const s = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'ping' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage;
    for await (const c of s) {
      text += c.choices[0]?.delta?.content ?? '';
      if (c.usage) usage = c.usage;
    }
    expect(text).toBe('Hello from fake-openai: ping');
    expect(usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('embeddings, completions and models', async () => {
    const e = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    expect(e.data).toHaveLength(2);
    expect(e.data[0].embedding.length).toBe(1536);
    const c = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'say hi' });
    expect(c.choices[0].text.length).toBeGreaterThan(0);
    const m = await client.models.list();
    expect(Array.isArray(m.data)).toBe(true);
  });

  it('SDK sees the gateway error shape as an APIError with status', async () => {
    oai.enqueue({ status: 429 });
    await expect(
      client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 429 });
  });
});

describe('openai SDK → sidecar → Anthropic', () => {
  it('translates system prompt, multi-turn and stop reasons', async () => {
    const r = await client.chat.completions.create(
      {
        model: 'ignored',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'first' },
          { role: 'assistant', content: 'ok' },
          { role: 'user', content: 'second' },
        ],
        max_tokens: 300,
        stop: ['NEVER'],
      },
      viaAnthropic,
    );
    expect(r.choices[0].message.content).toBe('Hello from fake-anthropic: second');
    expect(r.choices[0].finish_reason).toBe('stop');
    expect(r.model).toBe('claude-sonnet-4-6');
    const sent = ant.requests[0].body as MessagesBody;
    expect(sent.system).toBe('Be brief.');
    expect(sent.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(sent.max_tokens).toBe(300);
    expect(sent.stop_sequences).toEqual(['NEVER']);
    expect(ant.requests[0].headers['anthropic-version']).toBe('2023-06-01');
  });

  it('max_tokens → finish_reason length', async () => {
    const r = await client.chat.completions.create(
      { model: 'x', messages: [{ role: 'user', content: 'a long question here' }], max_tokens: 2 },
      viaAnthropic,
    );
    expect(r.choices[0].finish_reason).toBe('length');
  });

  it('tool calls both ways, non-stream', async () => {
    const r = await client.chat.completions.create(
      { model: 'x', messages: [{ role: 'user', content: 'weather?' }], tools: [weatherTool], tool_choice: 'required' },
      viaAnthropic,
    );
    const call = r.choices[0].message.tool_calls![0];
    expect(r.choices[0].finish_reason).toBe('tool_calls');
    expect(call.type).toBe('function');
    expect((call as OpenAI.ChatCompletionMessageFunctionToolCall).function.name).toBe('get_weather');
    expect(JSON.parse((call as OpenAI.ChatCompletionMessageFunctionToolCall).function.arguments)).toEqual({
      city: 'fake-city',
    });
    expect((ant.requests[0].body as MessagesBody).tool_choice).toEqual({ type: 'any' });
    expect((ant.requests[0].body as MessagesBody).tools![0]).toMatchObject({
      name: 'get_weather',
      input_schema: weatherTool.function.parameters,
    });

    // the tool result goes back as a tool_result block
    const r2 = await client.chat.completions.create(
      {
        model: 'x',
        messages: [
          { role: 'user', content: 'weather?' },
          r.choices[0].message as OpenAI.ChatCompletionAssistantMessageParam,
          { role: 'tool', tool_call_id: call.id, content: '{"temp": 21}' },
        ],
        tools: [weatherTool],
      },
      viaAnthropic,
    );
    expect(r2.choices[0].message.content).toContain('Hello from fake-anthropic');
    const sent = (ant.requests[1].body as MessagesBody).messages;
    expect(sent[1].content[0]).toMatchObject({
      type: 'tool_use',
      id: call.id,
      name: 'get_weather',
      input: { city: 'fake-city' },
    });
    expect(sent[2].content[0]).toEqual({ type: 'tool_result', tool_use_id: call.id, content: '{"temp": 21}' });
  });

  it('tool calls streamed as OpenAI tool_call deltas', async () => {
    const s = await client.chat.completions.create(
      {
        model: 'x',
        messages: [{ role: 'user', content: 'weather?' }],
        tools: [weatherTool],
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
        stream: true,
      },
      viaAnthropic,
    );
    let args = '';
    let name = '';
    let finish = '';
    for await (const c of s) {
      const tc = c.choices[0]?.delta?.tool_calls?.[0];
      if (tc?.function?.name) name = tc.function.name;
      if (tc?.function?.arguments) args += tc.function.arguments;
      if (c.choices[0]?.finish_reason) finish = c.choices[0].finish_reason;
    }
    expect(name).toBe('get_weather');
    expect(JSON.parse(args)).toEqual({ city: 'fake-city' });
    expect(finish).toBe('tool_calls');
    expect((ant.requests[0].body as MessagesBody).tool_choice).toEqual({ type: 'tool', name: 'get_weather' });
  });

  it('images by URL and base64', async () => {
    await client.chat.completions.create(
      {
        model: 'x',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'what is this?' },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            ],
          },
        ],
      },
      viaAnthropic,
    );
    const blocks = (ant.requests[0].body as MessagesBody).messages[0].content;
    expect(blocks[1]).toEqual({ type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } });
    expect(blocks[2]).toEqual({
      type: 'image',
      source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' },
    });
  });

  it('reports cache read/creation usage as OpenAI cached_tokens', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'system', content: [{ type: 'text', text: 'long shared prefix '.repeat(20) }] },
      { role: 'user', content: 'q' },
    ];
    const r = await client.chat.completions.create({ model: 'x', messages }, viaAnthropic);
    expect(r.usage?.prompt_tokens).toBeGreaterThan(0);
  });

  it('an Anthropic 529 overloaded error becomes a 503 with the provider message', async () => {
    ant.enqueue({ status: 529 });
    await expect(
      client.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'x' }] }, viaAnthropic),
    ).rejects.toMatchObject({ status: 503 });
  });

  it('embeddings on an Anthropic target are a clear 400', async () => {
    await expect(client.embeddings.create({ model: 'x', input: 'a' }, viaAnthropic)).rejects.toMatchObject({
      status: 400,
    });
  });
});
