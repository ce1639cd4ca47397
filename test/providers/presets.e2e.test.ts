// End to end through the presets: each fake enforces its provider's documented quirks, so a
// request the OpenAI SDK builds for OpenAI must be reshaped by the adapter to pass.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { startFakeCompatible, XAI_REASONING_TOKENS } from '../fakes/compatible.js';
import type { FakeServer } from '../fakes/server.js';
import { OPENAI_CACHE_MARKER } from '../fakes/openai.js';
import { countTokens } from '../fakes/text.js';
import type { ChatBody } from '../fakes/openai-chat.js';

const fakes: Record<string, FakeServer> = {};
let sc: TestSidecar;
let client: OpenAI;

beforeAll(async () => {
  for (const f of ['mistral', 'deepseek', 'groq', 'xai'] as const)
    fakes[f] = await startFakeCompatible(f, { apiKey: `${f}-key` });
  sc = await startSidecar(`
providers:
  mistral: {type: mistral, api_key: mistral-key, base_url: ${fakes.mistral.url}/v1}
  deepseek: {type: deepseek, api_key: deepseek-key, base_url: ${fakes.deepseek.url}/v1}
  groq: {type: groq, api_key: groq-key, base_url: ${fakes.groq.url}/openai/v1}
  xai: {type: xai, api_key: xai-key, base_url: ${fakes.xai.url}/v1}
  perplexity: {type: perplexity, api_key: k, base_url: ${fakes.mistral.url}}
configs:
  mistral: {provider: "@mistral"}
  deepseek: {provider: "@deepseek"}
  groq: {provider: "@groq"}
  xai: {provider: "@xai"}
  perplexity: {provider: "@perplexity"}
default_config: mistral
`);
  client = new OpenAI({ baseURL: `${sc.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(async () => {
  await sc?.close();
  for (const f of Object.values(fakes)) await f.close();
});

const via = (config: string) => ({ headers: { 'x-switchyard-config': config } });

async function drain(s: AsyncIterable<OpenAI.ChatCompletionChunk>) {
  let text = '';
  let usage: OpenAI.CompletionUsage | undefined;

  for await (const c of s) {
    text += c.choices[0]?.delta?.content ?? '';
    if (c.usage) usage = c.usage;
  }
  return { text, usage };
}

describe('OpenAI-compatible presets', () => {
  it('mistral: developer role, max_completion_tokens, seed and stream_options are reshaped so no 422', async () => {
    const r = await client.chat.completions.create(
      {
        model: 'mistral-small-latest',
        messages: [
          { role: 'developer', content: 'terse' },
          { role: 'user', content: 'hi' },
        ],
        max_completion_tokens: 50,
        seed: 7,
        user: 'u1',
      },
      via('mistral'),
    );
    expect(r.choices[0].message.content).toBe('Hello from fake-openai: hi');
    const sent = fakes.mistral.requests.at(-1)!.body as ChatBody;
    expect(sent).toMatchObject({
      max_tokens: 50,
      random_seed: 7,
      messages: [
        { role: 'system', content: 'terse' },
        { role: 'user', content: 'hi' },
      ],
    });
    expect(sent.max_completion_tokens).toBeUndefined();
    const s = await client.chat.completions.create(
      {
        model: 'mistral-small-latest',
        messages: [{ role: 'user', content: 'go' }],
        stream: true,
        stream_options: { include_usage: true },
      },
      via('mistral'),
    );
    const { text, usage } = await drain(s);
    expect(text).toBe('Hello from fake-openai: go');
    expect(usage!.completion_tokens).toBe(countTokens(text));
    expect((fakes.mistral.requests.at(-1)!.body as ChatBody).stream_options).toBeUndefined();
  });

  it('mistral: a 422 validation error keeps its detail', async () => {
    const res = await fetch(`${sc.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }], top_logprobs_typo: 1 }),
    });
    expect(res.status).toBe(422);
    expect((await res.json()).error.message).toContain('Extra inputs are not permitted');
  });

  it('deepseek: cache hit tokens become cached_tokens; max_completion_tokens becomes max_tokens', async () => {
    const r = await client.chat.completions.create(
      {
        model: 'deepseek-chat',
        messages: [{ role: 'user', content: `${OPENAI_CACHE_MARKER} long context` }],
        max_completion_tokens: 64,
      },
      via('deepseek'),
    );
    expect(r.usage?.prompt_tokens_details?.cached_tokens).toBe(Math.floor(r.usage!.prompt_tokens / 2));
    expect((fakes.deepseek.requests.at(-1)!.body as ChatBody).max_tokens).toBe(64);
  });

  it('groq: stream usage from x_groq reaches the client and the span', async () => {
    const s = await client.chat.completions.create(
      {
        model: 'llama-3.3-70b-versatile',
        messages: [{ role: 'user', content: 'fast' }],
        stream: true,
        stream_options: { include_usage: true },
      },
      via('groq'),
    );
    const { usage } = await drain(s);
    expect(usage!.completion_tokens).toBe(countTokens('Hello from fake-openai: fast'));
  });

  it('xai: reasoning tokens counted apart are folded into completion_tokens', async () => {
    const r = await client.chat.completions.create(
      { model: 'grok-3-mini', messages: [{ role: 'user', content: 'think' }] },
      via('xai'),
    );
    const visible = countTokens('Hello from fake-openai: think');
    expect(r.usage?.completion_tokens).toBe(visible + XAI_REASONING_TOKENS);
    expect(r.usage?.completion_tokens_details?.reasoning_tokens).toBe(XAI_REASONING_TOKENS);
    const res = await fetch(`${sc.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-switchyard-config': 'xai' },
      body: JSON.stringify({ model: 'grok-4', stop: ['x'], messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toContain('reasoning models do not support stop');
  });

  it('perplexity: tools are refused with a 400 before any call', async () => {
    const n = fakes.mistral.requests.length;
    const res = await fetch(`${sc.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-switchyard-config': 'perplexity' },
      body: JSON.stringify({
        model: 'sonar',
        tools: [{ type: 'function', function: { name: 'f' } }],
        messages: [{ role: 'user', content: 'x' }],
      }),
    });
    expect(res.status).toBe(400);
    expect(fakes.mistral.requests.length).toBe(n);
  });
});
