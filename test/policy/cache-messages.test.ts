// The response cache on POST /v1/messages (Anthropic's wire format), with the official Anthropic
// SDK as the client and the fake Anthropic (and OpenAI) servers behind: its own route in the key
// (a Messages answer never answers a chat request, nor the reverse), streamed and JSON answers
// sharing one entry (replayed as Anthropic's events, reassembled by the SDK to the original),
// count_tokens not cached.
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { assembleMessage, replayMessage } from '../../src/policy/cache/messages-stream.js';
import { SSE_FRAMES } from '../../src/providers/anthropic/messages-route.js';
import { startFakeAnthropic } from '../fakes/anthropic.js';
import { startFakeOpenAI, type FakeServer } from '../fakes/openai.js';
import { post, startSidecar, type TestSidecar } from '../helpers/sidecar.js';

let ant: FakeServer;
let oai: FakeServer;
let sc: TestSidecar;
let client: Anthropic;

beforeAll(async () => {
  ant = await startFakeAnthropic({ apiKey: 'sk-ant-test' });
  oai = await startFakeOpenAI({ apiKey: 'sk-openai-test' });
  sc = await startSidecar(`
providers:
  ant: {type: anthropic, api_key: sk-ant-test, base_url: "${ant.url}/v1"}
  oai: {type: openai, api_key: sk-openai-test, base_url: "${oai.url}/v1"}
  emb: {type: simulated, simulated: {latency_ms: {p50: 1, p95: 2}}}
configs:
  semantic: {provider: "@ant", cache: {mode: semantic, similarity_threshold: 0.95, embedding: "@emb/sim-embed"}}
  anthropic: {provider: "@ant", cache: {mode: simple}}
  openai: {provider: "@oai", override_params: {model: gpt-4o}, cache: {mode: simple}}
  plain: {provider: "@ant"}
default_config: anthropic
telemetry: {enabled: false}
server: {require_virtual_key: false}
`);
  client = new Anthropic({ baseURL: sc.url, apiKey: 'unused-by-sidecar', maxRetries: 0 });
});
afterAll(async () => {
  await sc?.close();
  await ant?.close();
  await oai?.close();
});
beforeEach(() => {
  ant.reset();
  oai.reset();
});

const weather = {
  name: 'get_weather',
  description: 'Weather for a city',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
};
const params = (text = `cache me ${Math.random()}`) => ({
  model: 'claude-sonnet-4-6',
  max_tokens: 200,
  messages: [{ role: 'user' as const, content: `${text}, use a tool` }],
  tools: [weather],
});
const via = (config: string) => ({ headers: { 'x-switchyard-config': config } });
/** The SDK's stream helper adds parsed_output (its own, not on the wire): compare the wire's message. */
const wire = (m: object) => ({ ...m, parsed_output: undefined });
const status = (r: Response | { headers: Headers }) => r.headers.get('x-switchyard-cache-status');

describe('POST /v1/messages cache', () => {
  it('JSON then JSON: HIT with the same message, no provider call, attempts 0', async () => {
    const p = params();
    const a = await client.messages.create(p).withResponse();
    const b = await client.messages.create(p).withResponse();
    expect([status(a.response), status(b.response)]).toEqual(['MISS', 'HIT']);
    expect(ant.requests).toHaveLength(1);
    expect(b.response.headers.get('x-switchyard-attempts')).toBe('0');
    expect(b.data).toEqual(a.data);
    // The fake answered text then a tool call: both come back from the cache.
    expect(b.data.content.map((c) => c.type)).toEqual(['text', 'tool_use']);
    expect(b.data.stop_reason).toBe('tool_use');
  });

  it('a stream after a JSON answer is a HIT whose events the SDK reassembles to the same message', async () => {
    const p = params();
    const json = await client.messages.create(p);
    const s = client.messages.stream(p);
    let text = '';
    s.on('text', (t) => {
      text += t;
    });
    const { response } = await s.withResponse();
    const streamed = await s.finalMessage();
    expect(status(response)).toBe('HIT');
    expect(ant.requests).toHaveLength(1);
    expect(wire(streamed)).toEqual(wire(json));
    expect(text).toBe((json.content[0] as { text: string }).text);
  });

  it('a JSON request after a stream is a HIT with the message the stream made (tool input and usage included)', async () => {
    const p = params();
    const s = client.messages.stream(p);
    const { response } = await s.withResponse();
    const streamed = await s.finalMessage();
    expect(status(response)).toBe('MISS');
    const b = await client.messages.create(p).withResponse();
    expect(status(b.response)).toBe('HIT');
    expect(ant.requests).toHaveLength(1);
    expect(wire(b.data)).toEqual(wire(streamed));
    expect(b.data.content.find((c) => c.type === 'tool_use')).toMatchObject({ input: { city: 'fake-city' } });
    expect(b.data.usage.output_tokens).toBeGreaterThan(0);
  });

  it('through a non-Anthropic target too: the synthesized events are stored and replayed', async () => {
    const p = params();
    const s = client.messages.stream(p, via('openai'));
    const streamed = await s.finalMessage();
    const b = await client.messages.create(p, via('openai')).withResponse();
    expect(status(b.response)).toBe('HIT');
    expect(oai.requests).toHaveLength(1);
    expect(wire(b.data)).toEqual(wire(streamed));
  });

  it('never serves a Messages answer to a chat request, nor a chat answer to a Messages request', async () => {
    const text = `route ${Math.random()}`;
    const chatBody = { model: 'claude-sonnet-4-6', max_tokens: 200, messages: [{ role: 'user', content: text }] };
    const m1 = await client.messages
      .create({ ...chatBody, messages: [{ role: 'user', content: text }] })
      .withResponse();
    const c1 = await post(`${sc.url}/v1/chat/completions`, chatBody);
    expect([status(m1.response), status(c1)]).toEqual(['MISS', 'MISS']);
    expect(c1.json.object).toBe('chat.completion');
    const m2 = await client.messages
      .create({ ...chatBody, messages: [{ role: 'user', content: text }] })
      .withResponse();
    const c2 = await post(`${sc.url}/v1/chat/completions`, chatBody);
    expect([status(m2.response), status(c2)]).toEqual(['HIT', 'HIT']);
    expect(m2.data.type).toBe('message');
    expect(c2.json.object).toBe('chat.completion');
    expect(ant.requests).toHaveLength(2);
  });

  it('semantic mode: the same words in other spelling are a SEMANTIC HIT on this route only', async () => {
    const n = Math.random();
    const ask = (content: string) =>
      client.messages
        .create({ model: 'claude-sonnet-4-6', max_tokens: 100, messages: [{ role: 'user', content }] }, via('semantic'))
        .withResponse();
    const first = await ask(`What is the capital of France ${n}?`);
    expect(status(first.response)).toBe('SEMANTIC MISS');
    const other = await ask(`what is the capital of france ${n}`);
    expect(status(other.response)).toBe('SEMANTIC HIT');
    expect(other.data.content).toEqual(first.data.content);
    const chatRoute = await post(
      `${sc.url}/v1/chat/completions`,
      {
        model: 'claude-sonnet-4-6',
        max_tokens: 100,
        messages: [{ role: 'user', content: `what is the capital of france ${n}` }],
      },
      { 'x-switchyard-config': 'semantic' },
    );
    expect(status(chatRoute)).toBe('SEMANTIC MISS');
    expect(chatRoute.json.object).toBe('chat.completion');
  });

  it('count_tokens is not cached (DISABLED); a config without cache is DISABLED', async () => {
    const p = params();
    const r = await post(`${sc.url}/v1/messages/count_tokens`, { model: p.model, messages: p.messages });
    expect(r.status).toBe(200);
    expect(status(r)).toBe('DISABLED');
    const d = await client.messages.create(p, via('plain')).withResponse();
    expect(status(d.response)).toBe('DISABLED');
  });
});

describe('Anthropic message replay', () => {
  it('replays thinking, redacted thinking, citations and tool use, and assembles them back', () => {
    const message = {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-6',
      content: [
        { type: 'thinking', thinking: 'let me think', signature: 'sig==' },
        { type: 'redacted_thinking', data: 'opaque' },
        { type: 'text', text: 'Paris.', citations: [{ type: 'char_location', cited_text: 'Paris' }] },
        { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris', days: [1, 2] } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 12, output_tokens: 34, cache_read_input_tokens: 5 },
    };
    const chunks = replayMessage(message);
    expect(chunks.every((c) => typeof c[SSE_FRAMES] === 'string')).toBe(true);
    expect(assembleMessage(chunks)).toEqual(message);
    // A stream that did not end (no message_stop) is not an answer to store.
    expect(assembleMessage(chunks.slice(0, -1))).toBeUndefined();
    expect(
      assembleMessage([
        ...chunks.slice(0, 1),
        { choices: [], [SSE_FRAMES]: 'event: error\ndata: {"type":"error"}\n\n' },
      ]),
    ).toBeUndefined();
  });
});
