// Translation on fixtures of the providers' real shapes (from their API references): answers,
// stream events, errors and the requests they cannot serve.
import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { BedrockAdapter } from '../../src/providers/bedrock/adapter.js';
import { AwsEventStreamDecoder, encodeEvent } from '../../src/providers/bedrock/eventstream.js';
import { toConverseRequest } from '../../src/providers/bedrock/request.js';
import { parseBedrockError, toOpenAIChat as fromConverse } from '../../src/providers/bedrock/response.js';
import { BedrockStreamTranslator } from '../../src/providers/bedrock/stream.js';
import { toGeminiRequest } from '../../src/providers/gemini/request.js';
import { parseGoogleError, toOpenAIChat as fromGemini } from '../../src/providers/gemini/response.js';
import { GeminiStreamTranslator } from '../../src/providers/gemini/stream.js';
import { PresetAdapter, parseCompatError } from '../../src/providers/presets/adapter.js';
import { PRESETS } from '../../src/providers/presets/table.js';
import { StreamEventError, UnsupportedRequestError, type ResolvedProvider } from '../../src/providers/types.js';

const user = (content: unknown) => ({ role: 'user', content });

describe('bedrock converse', () => {
  it('reads a Converse answer: text, tool use, reasoning skipped, usage with cache', () => {
    const fixture = {
      output: {
        message: {
          role: 'assistant',
          content: [
            { reasoningContent: { reasoningText: { text: 'hmm', signature: 'sig' } } },
            { text: 'Let me check.' },
            { toolUse: { toolUseId: 'tooluse_abc', name: 'get_weather', input: { city: 'Paris' } } },
          ],
        },
      },
      stopReason: 'tool_use',
      usage: {
        inputTokens: 20,
        outputTokens: 30,
        totalTokens: 1150,
        cacheReadInputTokens: 1000,
        cacheWriteInputTokens: 100,
      },
      metrics: { latencyMs: 812 },
    };
    const { body, usage, finishReason } = fromConverse(fixture, 'anthropic.claude-sonnet-4-5-20250929-v1:0', undefined);
    expect(finishReason).toBe('tool_calls');
    expect(usage).toEqual({ input_tokens: 1120, output_tokens: 30, cache_read_tokens: 1000, cache_write_tokens: 100 });
    const msg = (body.choices as OpenAI.ChatCompletion.Choice[])[0].message;
    expect(msg.content).toBe('Let me check.');
    expect(msg.tool_calls).toEqual([
      { id: 'tooluse_abc', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
    ]);
    expect((body.usage as OpenAI.CompletionUsage).prompt_tokens).toBe(1120);
  });

  it('maps stop reasons', () => {
    const mk = (stopReason: string) =>
      fromConverse(
        {
          output: { message: { role: 'assistant', content: [{ text: 'x' }] } },
          stopReason,
          usage: { inputTokens: 1, outputTokens: 1 },
        },
        'm',
        undefined,
      ).finishReason;
    expect(
      [
        'end_turn',
        'stop_sequence',
        'max_tokens',
        'guardrail_intervened',
        'content_filtered',
        'model_context_window_exceeded',
      ].map(mk),
    ).toEqual(['stop', 'stop', 'length', 'content_filter', 'content_filter', 'length']);
  });

  it('refuses what Converse cannot do with UnsupportedRequestError', () => {
    const base = { model: 'm', messages: [user('hi')] };
    expect(() => toConverseRequest({ ...base, n: 2 })).toThrow(UnsupportedRequestError);
    expect(() => toConverseRequest({ ...base, messages: [user([{ type: 'input_audio', input_audio: {} }])] })).toThrow(
      /input_audio/,
    );
    expect(() =>
      toConverseRequest({
        ...base,
        messages: [user([{ type: 'image_url', image_url: { url: 'data:image/bmp;base64,AA' } }])],
      }),
    ).toThrow(/image\/bmp/);
    const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }];
    expect(() => toConverseRequest({ ...base, tools, response_format: { type: 'json_object' } })).toThrow(
      /cannot be combined/,
    );
    const history = [
      user('hi'),
      { role: 'assistant', tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 't1', content: 'ok' },
    ];
    expect(() => toConverseRequest({ model: 'm', messages: history, tools, tool_choice: 'none' })).toThrow(
      /tool_choice "none"/,
    );
    expect(() => toConverseRequest({ model: 'm', messages: history })).toThrow(/needs the tools definitions/);
  });

  it('decodes the binary event stream split at every byte, and translates a ConverseStream', () => {
    const events: Array<[string, object]> = [
      ['messageStart', { role: 'assistant' }],
      ['contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hi' } }],
      ['contentBlockStop', { contentBlockIndex: 0 }],
      ['contentBlockStart', { contentBlockIndex: 1, start: { toolUse: { toolUseId: 't1', name: 'f' } } }],
      ['contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '{"a":' } } }],
      ['contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '1}' } } }],
      ['messageStop', { stopReason: 'tool_use' }],
      ['metadata', { usage: { inputTokens: 5, outputTokens: 7, totalTokens: 12 }, metrics: { latencyMs: 3 } }],
    ];
    const bytes = Buffer.concat(events.map(([t, p]) => Buffer.from(encodeEvent('event', t, p))));
    const dec = new AwsEventStreamDecoder();
    const tr = new BedrockStreamTranslator('amazon.nova-pro-v1:0', undefined, true);
    // The translator builds chat.completion.chunk objects as plain records.
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for (let i = 0; i < bytes.length; i++)
      for (const ev of dec.push(bytes.subarray(i, i + 1)))
        chunks.push(...(tr.onEvent(ev) as unknown as OpenAI.ChatCompletionChunk[]));
    expect(tr.done).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Hi');
    const toolDeltas = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
    expect(toolDeltas[0]).toMatchObject({ index: 0, id: 't1', function: { name: 'f' } });
    expect(toolDeltas.map((t) => t.function!.arguments).join('')).toBe('{"a":1}');

    expect(tr.finishReasons).toEqual(['tool_calls']);
    expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 7 });
  });

  it('raises in-stream exceptions with standard statuses', () => {
    const dec = new AwsEventStreamDecoder();
    const tr = new BedrockStreamTranslator('m', undefined, false);
    const cases: Array<[string, number]> = [
      ['throttlingException', 429],
      ['serviceUnavailableException', 503],
      ['validationException', 400],
      ['modelStreamErrorException', 502],
      ['internalServerException', 500],
    ];
    for (const [type, status] of cases) {
      const [ev] = dec.push(encodeEvent('exception', type, { message: 'boom' }));
      try {
        tr.onEvent(ev);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(StreamEventError);
        expect((e as StreamEventError).status).toBe(status);
      }
    }
  });

  it('maps HTTP error shapes (x-amzn-errortype header or __type) to standard statuses', () => {
    const h = (t: string) => ({ 'x-amzn-errortype': `${t}:http://internal.amazon.com/coral/com.amazon.bedrock/` });
    expect(parseBedrockError(429, '{"message":"Too many requests"}', h('ThrottlingException'))).toMatchObject({
      code: 'ThrottlingException',
      type: 'rate_limit_error',
      message: 'Too many requests',
    });
    expect(parseBedrockError(424, '{"message":"x"}', h('ModelErrorException')).status).toBe(502);
    expect(parseBedrockError(403, '{"message":"bad sig"}', h('InvalidSignatureException')).status).toBe(401);
    expect(parseBedrockError(403, '{"Message":"denied"}', h('AccessDeniedException'))).toMatchObject({
      type: 'permission_error',
      message: 'denied',
    });
    expect(
      parseBedrockError(400, '{"__type":"com.amazon.coral.service#ServiceQuotaExceededException","message":"q"}', {})
        .status,
    ).toBe(429);
    expect(parseBedrockError(503, '{"message":"busy"}', h('ServiceUnavailableException')).status).toBeUndefined(); // already standard
  });

  it('names bad or missing config fields', () => {
    const a = new BedrockAdapter();
    const p = (spec: Record<string, unknown>): ResolvedProvider => ({
      slug: 'br',
      type: 'bedrock',
      baseUrl: a.defaultBaseUrl,
      headers: {},
      spec: { type: 'bedrock', ...spec },
    });
    const body = { model: 'm', messages: [user('x')] };
    const saved = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION };
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    try {
      expect(() => a.buildRequest('chat', body, p({}))).toThrow('providers.br.region: is required for type bedrock');
      expect(() => a.buildRequest('chat', body, p({ region: 'Frankfurt' }))).toThrow(
        /providers\.br\.region: must be an AWS region/,
      );
      expect(() =>
        a.buildRequest('chat', body, p({ region: 'eu-central-1', access_key_id: 'AKIAXXXXXXXXXXXXXXXX' })),
      ).toThrow(/providers\.br\.secret_access_key/);
      expect(a.buildRequest('chat', body, p({ region: 'eu-central-1' })).url).toBe(
        'https://bedrock-runtime.eu-central-1.amazonaws.com/model/m/converse',
      );
    } finally {
      Object.assign(process.env, Object.fromEntries(Object.entries(saved).filter(([, v]) => v !== undefined)));
    }
  });
});

describe('gemini', () => {
  it('reads a generateContent answer: thought parts skipped, call ids made, usage with thoughts and cache', () => {
    const fixture = {
      candidates: [
        {
          content: {
            role: 'model',
            parts: [
              { text: 'thinking…', thought: true },
              { text: 'Sure.' },
              { functionCall: { name: 'lookup', args: { q: 'x' } } },
            ],
          },
          finishReason: 'STOP',
          index: 0,
        },
      ],
      usageMetadata: {
        promptTokenCount: 1200,
        candidatesTokenCount: 40,
        thoughtsTokenCount: 300,
        cachedContentTokenCount: 1024,
        totalTokenCount: 1540,
      },
      modelVersion: 'gemini-2.5-flash',
      responseId: 'resp-1',
    };
    const { body, usage, finishReasons } = fromGemini(fixture, 'gemini-2.5-flash');
    expect(usage).toEqual({ input_tokens: 1200, output_tokens: 340, cache_read_tokens: 1024, reasoning_tokens: 300 });
    expect(finishReasons).toEqual(['tool_calls']);
    const msg = (body.choices as OpenAI.ChatCompletion.Choice[])[0].message;
    expect(msg.content).toBe('Sure.');
    expect(msg.tool_calls![0].id).toMatch(/^call_/);
    expect((body.usage as OpenAI.CompletionUsage).completion_tokens_details!.reasoning_tokens).toBe(300);
  });

  it('answers a blocked prompt with content_filter, and maps safety finishes', () => {
    const blocked = fromGemini(
      { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 5 } },
      'g',
    );
    expect(blocked.finishReasons).toEqual(['content_filter']);
    const cut = fromGemini({ candidates: [{ content: { parts: [{ text: 'a' }] }, finishReason: 'MAX_TOKENS' }] }, 'g');
    expect(cut.finishReasons).toEqual(['length']);
  });

  it('maps google.rpc errors to standard statuses', () => {
    const e = (status: string, code: number, details?: unknown[]) =>
      JSON.stringify({ error: { code, message: 'm', status, details } });
    expect(parseGoogleError(429, e('RESOURCE_EXHAUSTED', 429))).toMatchObject({
      type: 'rate_limit_error',
      code: 'RESOURCE_EXHAUSTED',
    });
    expect(parseGoogleError(503, e('UNAVAILABLE', 503)).type).toBe('overloaded_error');
    expect(parseGoogleError(400, e('INVALID_ARGUMENT', 400, [{ reason: 'API_KEY_INVALID' }])).status).toBe(401);
    expect(parseGoogleError(500, e('DEADLINE_EXCEEDED', 500)).status).toBe(504);
    expect(parseGoogleError(502, '<html>bad gateway</html>').message).toContain('502');
  });

  it('streams: ends on the last candidate finish, errors in-stream become StreamEventError', () => {
    const tr = new GeminiStreamTranslator('gemini-2.0-flash', 2, false);
    const ev = (o: unknown) => ({ data: JSON.stringify(o) });
    tr.onEvent(
      ev({
        candidates: [
          { index: 0, content: { parts: [{ text: 'a' }] } },
          { index: 1, content: { parts: [{ text: 'b' }] } },
        ],
      }),
    );
    tr.onEvent(ev({ candidates: [{ index: 0, content: { parts: [{ text: '' }] }, finishReason: 'STOP' }] }));
    expect(tr.done).toBe(false);
    tr.onEvent(
      ev({
        candidates: [{ index: 1, content: { parts: [] }, finishReason: 'MAX_TOKENS' }],
        usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2 },
      }),
    );
    expect(tr.done).toBe(true);
    expect(tr.finishReasons).toEqual(['stop', 'length']);
    const t2 = new GeminiStreamTranslator('g', 1, false);
    expect(() => t2.onEvent(ev({ error: { code: 429, message: 'quota', status: 'RESOURCE_EXHAUSTED' } }))).toThrow(
      StreamEventError,
    );
  });

  it('builds the request: roles, tool results by name, tool_choice, JSON schema, thinking budget', () => {
    const req = toGeminiRequest(
      {
        model: 'g',
        messages: [
          { role: 'system', content: 'sys' },
          user('q'),
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"x":1}' } }],
          },
          { role: 'tool', tool_call_id: 'c1', content: '[1,2]' },
        ],
        tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
        tool_choice: 'none',
        response_format: { type: 'json_object' },
        reasoning_effort: 'low',
        n: 2,
      },
      'gemini',
    );
    expect(req.contents).toEqual([
      { role: 'user', parts: [{ text: 'q' }] },
      { role: 'model', parts: [{ functionCall: { name: 'f', args: { x: 1 } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'f', response: { content: '[1,2]' } } }] },
    ]);
    expect(req.toolConfig).toEqual({ functionCallingConfig: { mode: 'NONE' } });
    expect(req.generationConfig).toEqual({
      candidateCount: 2,
      responseMimeType: 'application/json',
      thinkingConfig: { thinkingBudget: 1024 },
    });
    expect(() =>
      toGeminiRequest(
        { model: 'g', messages: [user('x'), { role: 'tool', tool_call_id: 'nope', content: 'x' }] },
        'gemini',
      ),
    ).toThrow(/answers no earlier tool call/);
  });
});

describe('presets', () => {
  it('each preset has a base URL and provider name', () => {
    for (const [type, p] of Object.entries(PRESETS)) {
      expect(p.baseUrl, type).toMatch(/^https?:\/\//);
      expect(p.name, type).toMatch(/^[a-z_]+$/);
    }
  });

  it('reshapes requests per quirks: stream_options only where accepted', () => {
    const body = {
      model: 'm',
      messages: [{ role: 'developer', content: 'd' }, user('u')],
      stream: true,
      max_tokens: 9,
    };
    const groq = new PresetAdapter('groq', PRESETS.groq).translate('chat', body);
    expect(groq).toMatchObject({ max_completion_tokens: 9, stream_options: { include_usage: true } });
    expect((groq.messages as OpenAI.ChatCompletionMessageParam[])[0].role).toBe('system');
    const tog = new PresetAdapter('together', PRESETS.together).translate('chat', body);
    expect(tog.stream_options).toBeUndefined();
    expect(tog.max_tokens).toBe(9);
    const xai = new PresetAdapter('xai', PRESETS.xai).translate('chat', body);
    expect((xai.messages as OpenAI.ChatCompletionMessageParam[])[0].role).toBe('developer');
  });

  it('parses the family error shapes', () => {
    expect(parseCompatError(400, '{"error":"model \\"x\\" not found"}')).toMatchObject({
      message: 'model "x" not found',
      type: 'invalid_request_error',
    });
    expect(parseCompatError(429, '{"message":"Requests rate limit exceeded","request_id":"r"}')).toMatchObject({
      message: 'Requests rate limit exceeded',
      type: 'rate_limit_error',
    });
    expect(parseCompatError(402, '{"error":{"code":402,"message":"Insufficient credits"}}')).toMatchObject({
      message: 'Insufficient credits',
      code: '402',
    });
  });
});
