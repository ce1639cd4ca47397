import type { Usage } from '../types.js';

interface OpenAIUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  input_tokens?: number;
  output_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}

/** OpenAI's usage object → ours (prompt_tokens already includes cached tokens). */
export function usageFromOpenAI(u: unknown): Usage {
  if (!u || typeof u !== 'object') return {};
  const x = u as OpenAIUsage;
  const out: Usage = {};
  const input = x.prompt_tokens ?? x.input_tokens;
  const output = x.completion_tokens ?? x.output_tokens;
  if (typeof input === 'number') out.input_tokens = input;
  if (typeof output === 'number') out.output_tokens = output;
  const cached = x.prompt_tokens_details?.cached_tokens;
  if (typeof cached === 'number') out.cache_read_tokens = cached;
  const reasoning = x.completion_tokens_details?.reasoning_tokens;
  if (typeof reasoning === 'number') out.reasoning_tokens = reasoning;
  return out;
}
