// End to end: the official OpenAI SDK → a real Sidecar → the fake Bedrock Runtime, which checks
// SigV4 with the same signer and streams the binary AWS event stream.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { startFakeBedrock } from '../fakes/bedrock.js';
import type { FakeServer } from '../fakes/server.js';
import { countTokens } from '../fakes/text.js';
import type { ConverseBody } from '../fakes/bedrock-converse.js';
import { resetCredentialChains } from '../../src/providers/bedrock/credentials.js';

const AK = 'AKIAFAKEFAKE00000001';
const SK = 'fake/secret/key/0123456789abcdefghijklmn';
const NOVA = 'amazon.nova-pro-v1:0';
let fake: FakeServer;
let sc: TestSidecar;
let client: OpenAI;

const post = (body: unknown, config?: string) =>
  fetch(`${sc.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(config ? { 'x-switchyard-config': config } : {}) },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  fake = await startFakeBedrock({
    region: 'eu-west-1',
    keys: [
      { accessKeyId: AK, secretAccessKey: SK },
      { accessKeyId: 'AKIAENVKEY0000000002', secretAccessKey: 'env-secret' },
      { accessKeyId: 'AKIAFILEKEY000000003', secretAccessKey: 'file-secret' },
    ],
    apiKey: 'bedrock-api-key-1',
  });
  const base = `base_url: ${fake.url}, region: eu-west-1`;
  sc = await startSidecar(`
providers:
  br: {type: bedrock, ${base}, access_key_id: ${AK}, secret_access_key: ${SK}}
  wrongsecret: {type: bedrock, ${base}, access_key_id: ${AK}, secret_access_key: not-the-secret}
  unknownkey: {type: bedrock, ${base}, access_key_id: AKIAUNKNOWN000000009, secret_access_key: x}
  apikey: {type: bedrock, ${base}, api_key: bedrock-api-key-1}
  fromenv: {type: bedrock, ${base}}
  fromfile: {type: bedrock, ${base}, profile: switchyard-test}
configs:
  default: {provider: "@br"}
  wrongsecret: {provider: "@wrongsecret"}
  unknownkey: {provider: "@unknownkey"}
  apikey: {provider: "@apikey"}
  fromenv: {provider: "@fromenv"}
  fromfile: {provider: "@fromfile"}
  retry: {provider: "@br", retry: {attempts: 1, on_status_codes: [429], backoff_base_ms: 1}}
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
    description: 'Weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
const time = {
  type: 'function' as const,
  function: {
    name: 'get_time',
    description: 'Time',
    parameters: { type: 'object', properties: { tz: { type: 'string', enum: ['UTC'] } } },
  },
};

describe('bedrock through the sidecar', () => {
  it('signs with SigV4 and translates a multi-turn chat to Converse', async () => {
    const r = await client.chat.completions.create({
      model: NOVA,
      messages: [
        { role: 'developer', content: 'be brief' },
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'ping pong' },
      ],
      max_tokens: 50,
      temperature: 0.5,
      top_p: 0.8,
      stop: 'pong',
    });
    expect(r.choices[0].message.content).toBe('Hello from fake-bedrock: ping ');
    expect(r.choices[0].finish_reason).toBe('stop');
    expect(r.model).toBe(NOVA);
    const sent = fake.requests[0];
    expect(sent.path).toBe('/model/amazon.nova-pro-v1%3A0/converse');
    expect(sent.headers.authorization).toBe('[redacted]');
    expect(sent.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect((sent.body as ConverseBody).system).toEqual([{ text: 'be brief' }]);
    expect((sent.body as ConverseBody).inferenceConfig).toEqual({
      maxTokens: 50,
      temperature: 0.5,
      topP: 0.8,
      stopSequences: ['pong'],
    });
    expect(r.usage?.prompt_tokens).toBe(
      countTokens('be brief') + countTokens('first') + countTokens('ok') + countTokens('ping pong'),
    );
  });

  it('maps signature and key failures to 401', async () => {
    for (const cfg of ['wrongsecret', 'unknownkey']) {
      const res = await post({ model: NOVA, messages: [{ role: 'user', content: 'x' }] }, cfg);
      expect(res.status).toBe(401);
      const j = await res.json();
      expect(j.error.code).toBe(cfg === 'wrongsecret' ? 'InvalidSignatureException' : 'UnrecognizedClientException');
      expect(JSON.stringify(j)).not.toContain(SK);
    }
  });

  it('authenticates with a Bedrock API key, environment keys and a shared credentials profile', async () => {
    const ok = await post({ model: NOVA, messages: [{ role: 'user', content: 'x' }] }, 'apikey');
    expect(ok.status).toBe(200);
    const saved = { ...process.env };
    try {
      process.env.AWS_ACCESS_KEY_ID = 'AKIAENVKEY0000000002';
      process.env.AWS_SECRET_ACCESS_KEY = 'env-secret';
      resetCredentialChains();
      expect((await post({ model: NOVA, messages: [{ role: 'user', content: 'x' }] }, 'fromenv')).status).toBe(200);
      delete process.env.AWS_ACCESS_KEY_ID;
      delete process.env.AWS_SECRET_ACCESS_KEY;
      const dir = mkdtempSync(join(tmpdir(), 'sy-aws-'));
      writeFileSync(
        join(dir, 'credentials'),
        '[switchyard-test]\naws_access_key_id = AKIAFILEKEY000000003\naws_secret_access_key = file-secret\n',
      );
      writeFileSync(join(dir, 'config'), '[profile switchyard-test]\nregion = eu-west-1\n');
      process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'credentials');
      process.env.AWS_CONFIG_FILE = join(dir, 'config');
      resetCredentialChains();
      expect((await post({ model: NOVA, messages: [{ role: 'user', content: 'x' }] }, 'fromfile')).status).toBe(200);
    } finally {
      process.env = saved;
      resetCredentialChains();
    }
  });

  it('streams text from the binary event stream, with usage when asked', async () => {
    const s = await client.chat.completions.create({
      model: NOVA,
      messages: [{ role: 'user', content: 'stream me please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const c of s) {
      text += c.choices[0]?.delta?.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
      if (c.usage) usage = c.usage;
    }
    expect(text).toBe('Hello from fake-bedrock: stream me please');
    expect(finish).toBe('stop');
    expect(usage!.completion_tokens).toBe(countTokens(text));
    expect(fake.requests[0].path).toBe('/model/amazon.nova-pro-v1%3A0/converse-stream');
    expect(fake.requests[0].headers.accept).toBe('application/vnd.amazon.eventstream');
  });

  it('makes parallel tool calls (stream and not) and sends the results back as toolResult blocks', async () => {
    const r = await client.chat.completions.create({
      model: NOVA,
      messages: [{ role: 'user', content: 'use all tools' }],
      tools: [weather, time],
      tool_choice: 'required',
    });
    const calls = r.choices[0].message.tool_calls!;
    expect(r.choices[0].finish_reason).toBe('tool_calls');
    expect(
      calls.map((c) => [
        (c as OpenAI.ChatCompletionMessageFunctionToolCall).function.name,
        JSON.parse((c as OpenAI.ChatCompletionMessageFunctionToolCall).function.arguments),
      ]),
    ).toEqual([
      ['get_weather', { city: 'fake-city' }],
      ['get_time', { tz: 'UTC' }],
    ]);
    expect((fake.requests[0].body as ConverseBody).toolConfig!.toolChoice).toEqual({ any: {} });

    const s = await client.chat.completions.create({
      model: NOVA,
      messages: [{ role: 'user', content: 'use all tools' }],
      tools: [weather, time],
      stream: true,
    });
    const args = new Map<number, string>();
    const names = new Map<number, string>();
    for await (const c of s) {
      for (const t of c.choices[0]?.delta?.tool_calls ?? []) {
        if (t.function?.name) names.set(t.index, t.function.name);
        args.set(t.index, (args.get(t.index) ?? '') + (t.function?.arguments ?? ''));
      }
    }
    expect([...names.values()]).toEqual(['get_weather', 'get_time']);
    expect(JSON.parse(args.get(1)!)).toEqual({ tz: 'UTC' });

    const r2 = await client.chat.completions.create({
      model: NOVA,
      messages: [
        { role: 'user', content: 'use all tools' },
        r.choices[0].message,
        { role: 'tool', tool_call_id: calls[0].id, content: '{"temp": 20}' },
        { role: 'tool', tool_call_id: calls[1].id, content: '12:00' },
      ],
      tools: [weather, time],
    });
    expect(r2.choices[0].finish_reason).toBe('stop');
    const last = (fake.requests[2].body as ConverseBody).messages[2];
    expect(last.role).toBe('user');
    expect(last.content).toEqual([
      { toolResult: { toolUseId: calls[0].id, content: [{ json: { temp: 20 } }] } },
      { toolResult: { toolUseId: calls[1].id, content: [{ text: '12:00' }] } },
    ]);
  });

  it('sends base64 images and refuses image links with a 400 before calling', async () => {
    await client.chat.completions.create({
      model: NOVA,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'see' },
            { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } },
          ],
        },
      ],
    });
    expect((fake.requests[0].body as ConverseBody).messages[0].content[1]).toEqual({
      image: { format: 'jpeg', source: { bytes: '/9j/4AAQ' } },
    });
    const res = await post({
      model: NOVA,
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }],
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toContain('base64 data URLs');
    expect(fake.requests).toHaveLength(1);
  });

  it('answers JSON mode through a forced tool, stream and not', async () => {
    const rf = {
      type: 'json_schema' as const,
      json_schema: {
        name: 'pet',
        schema: { type: 'object', properties: { name: { type: 'string' }, legs: { type: 'integer' } } },
      },
    };
    const r = await client.chat.completions.create({
      model: NOVA,
      messages: [{ role: 'user', content: 'json please' }],
      response_format: rf,
    });
    expect(JSON.parse(r.choices[0].message.content!)).toEqual({ name: 'fake-name', legs: 42 });
    expect(r.choices[0].finish_reason).toBe('stop');
    expect(r.choices[0].message.tool_calls).toBeUndefined();
    const s = await client.chat.completions.create({
      model: NOVA,
      messages: [{ role: 'user', content: 'json please' }],
      response_format: rf,
      stream: true,
    });
    let text = '';
    for await (const c of s) text += c.choices[0]?.delta?.content ?? '';
    expect(JSON.parse(text)).toEqual({ name: 'fake-name', legs: 42 });
  });

  it('reads prompt-cache writes then reads; prompt_tokens includes them', async () => {
    const body = {
      model: NOVA,
      messages: [
        {
          role: 'system',
          content: [{ type: 'text', text: 'long shared instructions here', cache_control: { type: 'ephemeral' } }],
        },
        { role: 'user', content: 'q' },
      ],
    };
    const a = await (await post(body)).json();
    const b = await (await post(body)).json();
    const prefix = countTokens('long shared instructions here');
    expect((fake.requests[0].body as ConverseBody).system).toEqual([
      { text: 'long shared instructions here' },
      { cachePoint: { type: 'default' } },
    ]);
    expect(a.usage.prompt_tokens).toBe(prefix + countTokens('q'));
    expect(a.usage.prompt_tokens_details.cached_tokens).toBe(0);
    expect(b.usage.prompt_tokens).toBe(prefix + countTokens('q'));
    expect(b.usage.prompt_tokens_details.cached_tokens).toBe(prefix);
  });

  it('retries a ThrottlingException and maps ModelErrorException (424) to 502', async () => {
    fake.enqueue({ status: 429 });
    const ok = await post({ model: NOVA, messages: [{ role: 'user', content: 'x' }] }, 'retry');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-switchyard-retry-count')).toBe('1');
    fake.enqueue({ status: 424 });
    const bad = await post({ model: NOVA, messages: [{ role: 'user', content: 'x' }] });
    expect(bad.status).toBe(502);
    expect((await bad.json()).error.code).toBe('ModelErrorException');
  });

  it('turns an in-stream throttlingException into a 429 error frame, and a corrupt frame into 502', async () => {
    fake.enqueue({ errorAfterEvents: 2, errorType: 'throttlingException' });
    const text = await (
      await post({ model: NOVA, stream: true, messages: [{ role: 'user', content: 'a b c d e' }] })
    ).text();
    expect(text).toContain('"status":429');
    expect(text).toContain('throttlingException'.replace(/^t/, 'T'));
    expect(text).not.toContain('[DONE]');
    fake.enqueue({ malformed: true });
    const res = await post({ model: NOVA, stream: true, messages: [{ role: 'user', content: 'a b c d e' }] });
    expect(res.status).toBe(502);
    expect((await res.json()).error.message).toContain('corrupt AWS event stream');
  });

  it('embeds with Titan (one input) and Cohere (a batch) via InvokeModel', async () => {
    const t = await client.embeddings.create({
      model: 'amazon.titan-embed-text-v2:0',
      input: 'hello world',
      dimensions: 256,
    });
    expect(t.data[0].embedding).toHaveLength(256);
    expect(t.usage.prompt_tokens).toBe(countTokens('hello world'));
    expect(fake.requests[0].path).toBe('/model/amazon.titan-embed-text-v2%3A0/invoke');
    const c = await client.embeddings.create({ model: 'cohere.embed-english-v3', input: ['a', 'b', 'c'] });
    expect(c.data.map((d) => d.index)).toEqual([0, 1, 2]);
    expect(fake.requests[1].body).toEqual({ texts: ['a', 'b', 'c'], input_type: 'search_document' });
    const res = await fetch(`${sc.url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'amazon.titan-embed-text-v2:0', input: ['a', 'b'] }),
    });
    expect(res.status).toBe(400);
  });
});
