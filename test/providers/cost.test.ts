// Cost from each provider's own usage fields, checked against hand-computed figures
// (prices per 1M tokens from src/telemetry/pricing.ts), and the span attributes of one real call.
import { SpanKind } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageFromBedrock } from '../../src/providers/bedrock/response.js';
import { usageFromGemini } from '../../src/providers/gemini/response.js';
import { usageFromOpenAI } from '../../src/providers/openai/usage.js';
import { normalizeUsage } from '../../src/providers/presets/usage.js';
import { costUsd } from '../../src/telemetry/cost.js';
import { builtinPrices, findPrice } from '../../src/telemetry/pricing.js';
import { startSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { startFakeBedrock } from '../fakes/bedrock.js';
import type { FakeServer } from '../fakes/server.js';
import { countTokens } from '../fakes/text.js';

const cost = (provider: string, model: string, usage: Parameters<typeof costUsd>[0]) => {
  const price = findPrice(builtinPrices, provider, model);
  expect(price, `${provider}/${model} has a price`).toBeDefined();
  return costUsd(usage, price!);
};

describe('cost per provider', () => {
  it('bedrock claude through an inference profile: uncached, cache read, cache write and output each at their price', () => {
    const u = usageFromBedrock({
      inputTokens: 100,
      cacheReadInputTokens: 1000,
      cacheWriteInputTokens: 200,
      outputTokens: 50,
    });
    expect(u.input_tokens).toBe(1300);
    // 100×3 + 1000×0.30 + 200×3.75 + 50×15 = 2100 per 1M
    expect(cost('aws.bedrock', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', u)).toBeCloseTo(0.0021, 10);
  });

  it('bedrock nova and titan by their dated ids', () => {
    // 1000×0.8 + 500×3.2 = 2400 per 1M
    expect(cost('aws.bedrock', 'amazon.nova-pro-v1:0', { input_tokens: 1000, output_tokens: 500 })).toBeCloseTo(
      0.0024,
      10,
    );
    expect(cost('aws.bedrock', 'amazon.titan-embed-text-v2:0', { input_tokens: 1_000_000 })).toBeCloseTo(0.02, 10);
  });

  it('gemini 2.5 flash: cached prompt tokens at the cache price, thinking tokens at the output price', () => {
    const u = usageFromGemini({
      promptTokenCount: 1000,
      cachedContentTokenCount: 400,
      candidatesTokenCount: 100,
      thoughtsTokenCount: 50,
    });
    // 600×0.30 + 400×0.03 + (100+50)×2.50 = 180 + 12 + 375 = 567 per 1M
    expect(cost('gcp.gemini', 'gemini-2.5-flash', u)).toBeCloseTo(0.000567, 10);
    expect(cost('gcp.vertex_ai', 'gemini-2.5-flash-lite-preview-09-2025', { input_tokens: 1_000_000 })).toBeCloseTo(
      0.1,
      10,
    );
  });

  it('deepseek: cache hits from prompt_cache_hit_tokens', () => {
    const body: Record<string, unknown> = {
      usage: {
        prompt_tokens: 1000,
        completion_tokens: 100,
        total_tokens: 1100,
        prompt_cache_hit_tokens: 800,
        prompt_cache_miss_tokens: 200,
      },
    };
    normalizeUsage(body);
    // 200×0.28 + 800×0.028 + 100×0.42 = 56 + 22.4 + 42 = 120.4 per 1M
    expect(cost('deepseek', 'deepseek-chat', usageFromOpenAI(body.usage))).toBeCloseTo(0.0001204, 12);
  });

  it('xai: reasoning tokens reported outside completion_tokens are billed as output', () => {
    const body: Record<string, unknown> = {
      usage: {
        prompt_tokens: 100,
        completion_tokens: 9,
        total_tokens: 203,
        completion_tokens_details: { reasoning_tokens: 94 },
      },
    };
    normalizeUsage(body);
    const u = usageFromOpenAI(body.usage);
    expect(u).toMatchObject({ output_tokens: 103, reasoning_tokens: 94 });
    // 100×0.30 + 103×0.50 = 30 + 51.5 = 81.5 per 1M
    expect(cost('x_ai', 'grok-3-mini', u)).toBeCloseTo(0.0000815, 12);
  });

  it('azure: a dated response model finds its base model price', () => {
    const u = { input_tokens: 1500, cache_read_tokens: 500, output_tokens: 100 };
    // 1000×2.50 + 500×1.25 + 100×10 = 2500 + 625 + 1000 = 4125 per 1M
    expect(cost('azure.ai.openai', 'gpt-4o-2024-11-20', u)).toBeCloseTo(0.004125, 10);
  });
});

describe('span attributes of a bedrock call', () => {
  let fake: FakeServer;
  let sc: TestSidecar;
  beforeAll(async () => {
    fake = await startFakeBedrock({ apiKey: 'k' });
    sc = await startSidecar(
      `
providers:
  br: {type: bedrock, base_url: ${fake.url}, region: us-east-1, api_key: k}
configs:
  default: {provider: "@br", override_params: {model: "us.anthropic.claude-sonnet-4-5-20250929-v1:0"}}
default_config: default
`,
      { telemetry: true },
    );
  });
  afterAll(async () => {
    await sc?.close();
    await fake?.close();
  });

  it('records provider name, cache tokens and the cost computed from them', async () => {
    const body = {
      model: 'x',
      messages: [
        {
          role: 'system',
          content: [{ type: 'text', text: 'shared prefix text', cache_control: { type: 'ephemeral' } }],
        },
        { role: 'user', content: 'question' },
      ],
    };
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${sc.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
    }
    const attempts = sc
      .spans!.getFinishedSpans()
      .filter((s) => s.kind === SpanKind.CLIENT && s.attributes['gen_ai.provider.name'] === 'aws.bedrock');
    expect(attempts).toHaveLength(2);
    const prefix = countTokens('shared prefix text');
    const rest = countTokens('question');
    const out = countTokens('Hello from fake-bedrock: question');
    const [first, second] = attempts.map((s) => s.attributes);
    expect(first['gen_ai.usage.cache_creation.input_tokens']).toBe(prefix);
    expect(second['gen_ai.usage.cache_read.input_tokens']).toBe(prefix);
    expect(second['gen_ai.usage.input_tokens']).toBe(prefix + rest);
    expect(first['switchyard.cost_usd']).toBeCloseTo((rest * 3 + prefix * 3.75 + out * 15) / 1e6, 12);
    expect(second['switchyard.cost_usd']).toBeCloseTo((rest * 3 + prefix * 0.3 + out * 15) / 1e6, 12);
  });
});
