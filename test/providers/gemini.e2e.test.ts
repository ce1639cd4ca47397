// End to end: the official OpenAI SDK → a real Sidecar → the fake Gemini API, stream and non-stream.
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { GEMINI_THOUGHTS_TOKENS, startFakeGemini, type FakeServer } from '../fakes/gemini.js';
import { countTokens } from '../fakes/text.js';
import type { GenerateBody } from '../fakes/gemini-generate.js';

const KEY = 'AIza-test-key-0123456789';
let fake: FakeServer;
let sc: TestSidecar;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeGemini({ apiKey: KEY });
  sc = await startSidecar(`
providers:
  gem: {type: gemini, api_key: ${KEY}, base_url: ${fake.url}/v1beta}
  badkey: {type: gemini, api_key: wrong, base_url: ${fake.url}/v1beta}
configs:
  default: {provider: "@gem"}
  bad: {provider: "@badkey"}
  retry: {provider: "@gem", retry: {attempts: 1, on_status_codes: [429, 503], backoff_base_ms: 1}}
default_config: default
`);
  client = new OpenAI({ baseURL: `${sc.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(async () => {
  await sc?.close();
  await fake?.close();
});
beforeEach(() => fake.reset());

const weather = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
      required: ['city'],
      additionalProperties: false,
    },
  },
};
const time = {
  type: 'function' as const,
  function: { name: 'get_time', parameters: { type: 'object', properties: { tz: { type: 'string' } } } },
};

describe('gemini through the sidecar', () => {
  it('answers a chat with system prompt, stop and limits, with the key in x-goog-api-key', async () => {
    const r = await client.chat.completions.create({
      model: 'gemini-2.0-flash',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'ping pong' },
      ],
      temperature: 0.3,
      top_p: 0.9,
      max_completion_tokens: 100,
      stop: ['pong'],
    });
    expect(r.choices[0].message.content).toBe('Hello from fake-gemini: ping ');
    expect(r.choices[0].finish_reason).toBe('stop');
    const sent = fake.requests[0];
    expect(sent.path).toBe('/v1beta/models/gemini-2.0-flash:generateContent');
    expect((sent.body as GenerateBody).systemInstruction).toEqual({ parts: [{ text: 'be brief' }] });
    expect((sent.body as GenerateBody).contents.map((c) => c.role)).toEqual(['user', 'model', 'user']);
    expect((sent.body as GenerateBody).generationConfig).toEqual({
      stopSequences: ['pong'],
      maxOutputTokens: 100,
      temperature: 0.3,
      topP: 0.9,
    });
    // Usage: prompt counts system + all turns joined by newlines, as the fake documents.
    expect(r.usage?.prompt_tokens).toBe(countTokens('be brief\nfirst\nok\nping pong'));
    expect(r.usage?.completion_tokens).toBe(countTokens('Hello from fake-gemini: ping '));
  });

  it('reports thinking tokens inside completion tokens and as reasoning tokens', async () => {
    const r = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'think' }],
    });
    const visible = countTokens('Hello from fake-gemini: think');
    expect(r.usage?.completion_tokens).toBe(visible + GEMINI_THOUGHTS_TOKENS);
    expect(r.usage?.completion_tokens_details?.reasoning_tokens).toBe(GEMINI_THOUGHTS_TOKENS);
  });

  it('makes parallel tool calls and takes their results back', async () => {
    const r = await client.chat.completions.create({
      model: 'gemini-2.0-flash',
      messages: [{ role: 'user', content: 'use all tools please' }],
      tools: [weather, time],
      tool_choice: 'required',
    });
    const calls = r.choices[0].message.tool_calls!;
    expect(r.choices[0].finish_reason).toBe('tool_calls');
    expect(calls.map((c) => (c as OpenAI.ChatCompletionMessageFunctionToolCall).function.name)).toEqual([
      'get_weather',
      'get_time',
    ]);
    expect(JSON.parse((calls[0] as OpenAI.ChatCompletionMessageFunctionToolCall).function.arguments)).toEqual({
      city: 'fake-city',
      unit: 'c',
    });
    expect(new Set(calls.map((c) => c.id)).size).toBe(2);
    expect((fake.requests[0].body as GenerateBody).toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY' } });
    expect(
      (fake.requests[0].body as GenerateBody).tools![0].functionDeclarations![0].parametersJsonSchema!
        .additionalProperties,
    ).toBe(false);

    const r2 = await client.chat.completions.create({
      model: 'gemini-2.0-flash',
      messages: [
        { role: 'user', content: 'use all tools please' },
        r.choices[0].message,
        { role: 'tool', tool_call_id: calls[0].id, content: '{"temp": 21}' },
        { role: 'tool', tool_call_id: calls[1].id, content: 'noon' },
      ],
      tools: [weather, time],
    });
    expect(r2.choices[0].finish_reason).toBe('stop');
    const turns = (fake.requests[1].body as GenerateBody).contents;
    expect(turns[2].parts).toEqual([
      { functionResponse: { name: 'get_weather', response: { temp: 21 } } },
      { functionResponse: { name: 'get_time', response: { content: 'noon' } } },
    ]);
  });

  it('names one function with tool_choice', async () => {
    const r = await client.chat.completions.create({
      model: 'gemini-2.0-flash',
      messages: [{ role: 'user', content: 'hi' }],
      tools: [weather, time],
      tool_choice: { type: 'function', function: { name: 'get_time' } },
    });
    expect((r.choices[0].message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall).function.name).toBe(
      'get_time',
    );
    expect((fake.requests[0].body as GenerateBody).toolConfig!.functionCallingConfig).toEqual({
      mode: 'ANY',
      allowedFunctionNames: ['get_time'],
    });
  });

  it('sends images as inlineData (base64) and fileData (URL)', async () => {
    await client.chat.completions.create({
      model: 'gemini-2.0-flash',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is this' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.webp' } },
          ],
        },
      ],
    });
    expect((fake.requests[0].body as GenerateBody).contents[0].parts.slice(1)).toEqual([
      { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
      { fileData: { mimeType: 'image/webp', fileUri: 'https://example.com/cat.webp' } },
    ]);
  });

  it('follows response_format json_schema', async () => {
    const r = await client.chat.completions.create({
      model: 'gemini-2.0-flash',
      messages: [{ role: 'user', content: 'give json' }],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'pet',
          schema: { type: 'object', properties: { name: { type: 'string' }, legs: { type: 'integer' } } },
        },
      },
    });
    expect(JSON.parse(r.choices[0].message.content!)).toEqual({ name: 'fake-name', legs: 42 });
    expect((fake.requests[0].body as GenerateBody).generationConfig!.responseMimeType).toBe('application/json');
  });

  it('streams text with a usage chunk when asked', async () => {
    const s = await client.chat.completions.create({
      model: 'gemini-2.0-flash',
      messages: [{ role: 'user', content: 'stream me please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const c of s) {
      if (c.choices[0]?.delta?.content) text += c.choices[0].delta.content;
      if (c.choices[0]?.finish_reason) finish = c.choices[0].finish_reason;
      if (c.usage) usage = c.usage;
    }
    expect(text).toBe('Hello from fake-gemini: stream me please');
    expect(finish).toBe('stop');
    expect(usage!.completion_tokens).toBe(countTokens(text));
    expect(fake.requests[0].path).toBe('/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse');
  });

  it('streams tool calls', async () => {
    const s = await client.chat.completions.create({
      model: 'gemini-2.0-flash',
      messages: [{ role: 'user', content: 'use a tool' }],
      tools: [weather],
      stream: true,
    });
    const calls: OpenAI.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    let finish: string | null = null;
    for await (const c of s) {
      for (const t of c.choices[0]?.delta?.tool_calls ?? []) calls.push(t);
      if (c.choices[0]?.finish_reason) finish = c.choices[0].finish_reason;
    }
    expect(calls).toHaveLength(1);
    expect(calls[0].function!.name).toBe('get_weather');
    expect(JSON.parse(calls[0].function!.arguments!)).toEqual({ city: 'fake-city', unit: 'c' });
    expect(finish).toBe('tool_calls');
  });

  it('embeds through batchEmbedContents, float and base64', async () => {
    const r = await client.embeddings.create({ model: 'gemini-embedding-001', input: ['a', 'b'], dimensions: 8 });
    expect(r.data).toHaveLength(2);
    expect(r.data[0].embedding).toHaveLength(8);
    const b = await client.embeddings.create({
      model: 'gemini-embedding-001',
      input: 'a',
      dimensions: 8,
      encoding_format: 'base64',
    });
    expect(b.data[0].embedding).toBe(Buffer.from(Float32Array.from(r.data[0].embedding).buffer).toString('base64'));
  });

  it('maps an invalid key to 401 and RESOURCE_EXHAUSTED to 429 with a retry', async () => {
    const bad = await fetch(`${sc.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-switchyard-config': 'bad' },
      body: JSON.stringify({ model: 'gemini-2.0-flash', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(bad.status).toBe(401);
    expect((await bad.json()).error.message).toContain('API key not valid');
    fake.enqueue({ status: 429 });
    const res = await fetch(`${sc.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-switchyard-config': 'retry' },
      body: JSON.stringify({ model: 'gemini-2.0-flash', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-switchyard-retry-count')).toBe('1');
  });

  it('turns an in-stream UNAVAILABLE into an error frame, and rejects logit_bias with 400 before calling', async () => {
    fake.enqueue({ errorAfterEvents: 1 });
    const res = await fetch(`${sc.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gemini-2.0-flash',
        stream: true,
        messages: [{ role: 'user', content: 'one two three four' }],
      }),
    });
    const text = await res.text();
    expect(text).toContain('"status":503');
    expect(text).not.toContain('[DONE]');
    const n = fake.requests.length;
    const lb = await fetch(`${sc.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gemini-2.0-flash',
        logit_bias: { '1': 2 },
        messages: [{ role: 'user', content: 'x' }],
      }),
    });
    expect(lb.status).toBe(400);
    expect((await lb.json()).error.message).toContain('logit_bias');
    expect(fake.requests.length).toBe(n);
  });

  it('keeps a model name inside its path segment: encoded, never a new path or query', async () => {
    const chat = (model: string) =>
      fetch(`${sc.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }] }),
      });
    const n = fake.requests.length;
    const odd = await chat('gemini-2.0-flash:streamGenerateContent?alt=sse&x=/../../models');
    expect(odd.status).toBe(404);
    expect((await odd.json()).error.message).toContain(
      'gemini-2.0-flash:streamGenerateContent?alt=sse&x=/../../models',
    );
    expect(fake.requests.at(-1)?.path).toBe(
      '/v1beta/models/gemini-2.0-flash%3AstreamGenerateContent%3Falt%3Dsse%26x%3D%2F..%2F..%2Fmodels:generateContent',
    );
    const dots = await chat('..');
    expect(dots.status).toBe(400);
    expect((await dots.json()).error.message).toContain('not a valid model name');
    expect(fake.requests.length).toBe(n + 1);
  });
});
