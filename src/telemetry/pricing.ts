// Built-in token prices, USD per 1M tokens, by gen_ai.provider.name and model. The config's
// `pricing:` section overrides or extends these. Sources: the providers' public price pages.
import type { PriceSpec } from '../config/schema.js';

export type PriceTable = Record<string, Record<string, PriceSpec>>;

const anthropicTier = (input: number, output: number): PriceSpec => ({ input, output, cached_input: input * 0.1, cache_write: input * 1.25 });

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
    if (model.startsWith(name + '-') && (!best || name.length > best.length)) best = name;
  }
  return best ? models[best] : undefined;
}
