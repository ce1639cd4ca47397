// Built-in token prices, USD per 1M tokens, by gen_ai.provider.name and model. The config's
// `pricing:` section overrides or extends these. Sources: the providers' public price pages.
import type { PriceSpec } from '../config/schema.js';

export type PriceTable = Record<string, Record<string, PriceSpec>>;

const anthropicTier = (input: number, output: number): PriceSpec => ({
  input,
  output,
  cached_input: input * 0.1,
  cache_write: input * 1.25,
});

/** Adds the us./eu./apac./global. inference-profile spellings of each Bedrock model id. */
function withProfiles(models: Record<string, PriceSpec>): Record<string, PriceSpec> {
  const out: Record<string, PriceSpec> = { ...models };
  for (const [id, price] of Object.entries(models))
    for (const geo of ['us', 'eu', 'apac', 'global']) out[`${geo}.${id}`] = price;
  return out;
}

const gemini: Record<string, PriceSpec> = {
  'gemini-3-pro-preview': { input: 2, cached_input: 0.2, output: 12 },
  'gemini-2.5-pro': { input: 1.25, cached_input: 0.125, output: 10 },
  'gemini-2.5-flash': { input: 0.3, cached_input: 0.03, output: 2.5 },
  'gemini-2.5-flash-lite': { input: 0.1, cached_input: 0.01, output: 0.4 },
  'gemini-2.0-flash': { input: 0.1, cached_input: 0.025, output: 0.4 },
  'gemini-2.0-flash-lite': { input: 0.075, output: 0.3 },
  'gemini-embedding-001': { input: 0.15, output: 0 },
  'text-embedding-005': { input: 0.025, output: 0 },
};

export const builtinPrices: PriceTable = {
  openai: {
    'gpt-5': { input: 1.25, cached_input: 0.125, output: 10 },
    'gpt-5-mini': { input: 0.25, cached_input: 0.025, output: 2 },
    'gpt-5-nano': { input: 0.05, cached_input: 0.005, output: 0.4 },
    'gpt-4.1': { input: 2, cached_input: 0.5, output: 8 },
    'gpt-4.1-mini': { input: 0.4, cached_input: 0.1, output: 1.6 },
    'gpt-4.1-nano': { input: 0.1, cached_input: 0.025, output: 0.4 },
    'gpt-4o': { input: 2.5, cached_input: 1.25, output: 10 },
    'gpt-4o-mini': { input: 0.15, cached_input: 0.075, output: 0.6 },
    o1: { input: 15, cached_input: 7.5, output: 60 },
    o3: { input: 2, cached_input: 0.5, output: 8 },
    'o3-mini': { input: 1.1, cached_input: 0.55, output: 4.4 },
    'o4-mini': { input: 1.1, cached_input: 0.275, output: 4.4 },
    'text-embedding-3-small': { input: 0.02, output: 0 },
    'text-embedding-3-large': { input: 0.13, output: 0 },
    'text-embedding-ada-002': { input: 0.1, output: 0 },
  },
  anthropic: {
    'claude-opus-4-5': anthropicTier(5, 25),
    'claude-opus-4-1': anthropicTier(15, 75),
    'claude-opus-4': anthropicTier(15, 75),
    'claude-sonnet-4-6': anthropicTier(3, 15),
    'claude-sonnet-4-5': anthropicTier(3, 15),
    'claude-sonnet-4': anthropicTier(3, 15),
    'claude-3-7-sonnet': anthropicTier(3, 15),
    'claude-haiku-4-5': anthropicTier(1, 5),
    'claude-3-5-haiku': anthropicTier(0.8, 4),
  },
  // Bedrock: on-demand prices (us-east-1); model ids as Bedrock names them, with and without
  // the geography prefix of cross-region inference profiles ("us.anthropic.claude-…").
  'aws.bedrock': withProfiles({
    'anthropic.claude-opus-4-5': anthropicTier(5, 25),
    'anthropic.claude-opus-4-1': anthropicTier(15, 75),
    'anthropic.claude-opus-4': anthropicTier(15, 75),
    'anthropic.claude-sonnet-4-5': anthropicTier(3, 15),
    'anthropic.claude-sonnet-4': anthropicTier(3, 15),
    'anthropic.claude-3-7-sonnet': anthropicTier(3, 15),
    'anthropic.claude-haiku-4-5': anthropicTier(1, 5),
    'anthropic.claude-3-5-haiku': anthropicTier(0.8, 4),
    'amazon.nova-premier': { input: 2.5, cached_input: 0.625, output: 12.5 },
    'amazon.nova-pro': { input: 0.8, cached_input: 0.2, output: 3.2 },
    'amazon.nova-lite': { input: 0.06, cached_input: 0.015, output: 0.24 },
    'amazon.nova-micro': { input: 0.035, cached_input: 0.00875, output: 0.14 },
    'meta.llama3-3-70b-instruct': { input: 0.72, output: 0.72 },
    'meta.llama3-1-8b-instruct': { input: 0.22, output: 0.22 },
    'mistral.mistral-large-2407': { input: 2, output: 6 },
    'deepseek.r1': { input: 1.35, output: 5.4 },
    'amazon.titan-embed-text-v2:0': { input: 0.02, output: 0 },
    'amazon.titan-embed-text-v1': { input: 0.1, output: 0 },
    'cohere.embed-english-v3': { input: 0.1, output: 0 },
    'cohere.embed-multilingual-v3': { input: 0.1, output: 0 },
  }),
  // Gemini API paid tier, prompts up to 200k tokens; output prices include thinking tokens.
  'gcp.gemini': gemini,
  'gcp.vertex_ai': gemini,
  // Azure OpenAI global deployments are priced as OpenAI's own models.
  'azure.ai.openai': {
    'gpt-5': { input: 1.25, cached_input: 0.125, output: 10 },
    'gpt-5-mini': { input: 0.25, cached_input: 0.025, output: 2 },
    'gpt-5-nano': { input: 0.05, cached_input: 0.005, output: 0.4 },
    'gpt-4.1': { input: 2, cached_input: 0.5, output: 8 },
    'gpt-4.1-mini': { input: 0.4, cached_input: 0.1, output: 1.6 },
    'gpt-4.1-nano': { input: 0.1, cached_input: 0.025, output: 0.4 },
    'gpt-4o': { input: 2.5, cached_input: 1.25, output: 10 },
    'gpt-4o-mini': { input: 0.15, cached_input: 0.075, output: 0.6 },
    o3: { input: 2, cached_input: 0.5, output: 8 },
    'o4-mini': { input: 1.1, cached_input: 0.275, output: 4.4 },
    'text-embedding-3-small': { input: 0.02, output: 0 },
    'text-embedding-3-large': { input: 0.13, output: 0 },
  },
  groq: {
    'llama-3.3-70b-versatile': { input: 0.59, output: 0.79 },
    'llama-3.1-8b-instant': { input: 0.05, output: 0.08 },
    'openai/gpt-oss-120b': { input: 0.15, cached_input: 0.075, output: 0.6 },
    'openai/gpt-oss-20b': { input: 0.075, cached_input: 0.0375, output: 0.3 },
    'moonshotai/kimi-k2-instruct': { input: 1, cached_input: 0.5, output: 3 },
    'qwen/qwen3-32b': { input: 0.29, output: 0.59 },
  },
  mistral_ai: {
    'mistral-large-latest': { input: 2, output: 6 },
    'mistral-medium-latest': { input: 0.4, output: 2 },
    'mistral-small-latest': { input: 0.1, output: 0.3 },
    'magistral-medium-latest': { input: 2, output: 5 },
    'codestral-latest': { input: 0.3, output: 0.9 },
    'ministral-8b-latest': { input: 0.1, output: 0.1 },
    'mistral-embed': { input: 0.1, output: 0 },
  },
  // DeepSeek V3.2: one price for both models; cache hits at a tenth of a miss.
  deepseek: {
    'deepseek-chat': { input: 0.28, cached_input: 0.028, output: 0.42 },
    'deepseek-reasoner': { input: 0.28, cached_input: 0.028, output: 0.42 },
  },
  // Token prices only; Perplexity's per-request search fees are not token-based.
  perplexity: {
    sonar: { input: 1, output: 1 },
    'sonar-pro': { input: 3, output: 15 },
    'sonar-reasoning': { input: 1, output: 5 },
    'sonar-reasoning-pro': { input: 2, output: 8 },
    'sonar-deep-research': { input: 2, output: 8 },
  },
  x_ai: {
    'grok-4': { input: 3, cached_input: 0.75, output: 15 },
    'grok-4-fast': { input: 0.2, cached_input: 0.05, output: 0.5 },
    'grok-code-fast-1': { input: 0.2, cached_input: 0.02, output: 1.5 },
    'grok-3': { input: 3, cached_input: 0.75, output: 15 },
    'grok-3-mini': { input: 0.3, cached_input: 0.075, output: 0.5 },
  },
  together_ai: {
    'meta-llama/Llama-3.3-70B-Instruct-Turbo': { input: 0.88, output: 0.88 },
    'deepseek-ai/DeepSeek-V3': { input: 1.25, output: 1.25 },
    'Qwen/Qwen2.5-72B-Instruct-Turbo': { input: 1.2, output: 1.2 },
  },
  fireworks_ai: {
    'accounts/fireworks/models/llama-v3p3-70b-instruct': { input: 0.9, output: 0.9 },
    'accounts/fireworks/models/deepseek-v3': { input: 0.9, output: 0.9 },
  },
  // Simulated upstreams cost nothing, but the demo shows the cost panel working.
  simulated: {
    'sim-fast': { input: 1, output: 2 },
    'sim-steady': { input: 0.5, output: 1 },
  },
};

export function mergePrices(base: PriceTable, overrides: PriceTable | undefined): PriceTable {
  if (!overrides) return base;
  const out: PriceTable = { ...base };
  for (const [provider, models] of Object.entries(overrides)) out[provider] = { ...(base[provider] ?? {}), ...models };
  return out;
}

/** Exact model first, then the longest known prefix (dated snapshots such as gpt-4o-2024-08-06). */
export function findPrice(table: PriceTable, provider: string, model: string | undefined): PriceSpec | undefined {
  if (!model) return undefined;
  const models = table[provider];
  if (!models) return undefined;
  if (models[model]) return models[model];
  let best: string | undefined;
  for (const name of Object.keys(models)) {
    if (model.startsWith(`${name}-`) && (!best || name.length > best.length)) best = name;
  }
  return best ? models[best] : undefined;
}

/** findPrice memoised per provider and model: the prefix scan runs once per pair, not per span. */
export function priceLookup(table: PriceTable): (provider: string, model: string | undefined) => PriceSpec | undefined {
  const cache = new Map<string, PriceSpec | null>();
  return (provider, model) => {
    if (!model) return undefined;
    const key = `${provider}\u0000${model}`;
    let hit = cache.get(key);
    if (hit === undefined) {
      hit = findPrice(table, provider, model) ?? null;
      // Model names come from upstream responses: bound the cache so odd ones cannot grow it.
      if (cache.size >= 4096) cache.clear();
      cache.set(key, hit);
    }
    return hit ?? undefined;
  };
}
