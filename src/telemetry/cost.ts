// Cost of one attempt from its usage: uncached input, cache reads, cache writes, output and
// reasoning tokens each at their own price.
import type { PriceSpec } from '../config/schema.js';
import type { Usage } from '../providers/types.js';

export function costUsd(usage: Usage, price: PriceSpec): number {
  const input = usage.input_tokens ?? 0;
  const read = usage.cache_read_tokens ?? 0;
  const write = usage.cache_write_tokens ?? 0;
  const output = usage.output_tokens ?? 0;
  const reasoning = usage.reasoning_tokens ?? 0;
  const uncached = Math.max(0, input - read - write);
  let micro =
    uncached * price.input + read * (price.cached_input ?? price.input) + write * (price.cache_write ?? price.input);
  // Reasoning tokens are part of output tokens; a separate reasoning price applies only to them.
  if (price.reasoning !== undefined)
    micro += reasoning * price.reasoning + Math.max(0, output - reasoning) * price.output;
  else micro += output * price.output;
  return micro / 1e6;
}

/**
 * Cost of one finished attempt as its span records it: priced when it answered or the provider
 * reported input usage (a failed attempt the provider billed), at the response model's price
 * when known. undefined = unknown price. The budget stage settles with this same function, so
 * budgets and ClickHouse's CostUSD agree.
 */
export function attemptCostUsd(
  end: { outcome: string; usage?: Usage; responseModel?: string },
  providerName: string,
  model: string,
  price: (provider: string, model: string | undefined) => PriceSpec | undefined,
): { priced: false } | { priced: true; usd: number | undefined } {
  const u = end.usage;
  if (end.outcome !== 'ok' && u?.input_tokens === undefined) return { priced: false };
  const p = price(providerName, end.responseModel ?? model) ?? price(providerName, model);
  return { priced: true, usd: p && u ? costUsd(u, p) : undefined };
}
