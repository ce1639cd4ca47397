// Usage objects of OpenAI-compatible providers → OpenAI's own fields, in place, so clients and
// our span attributes read one shape.
type Json = Record<string, unknown>;

export function normalizeUsage(body: Json): void {
  const u = body.usage as Json | undefined;
  if (!u || typeof u !== 'object') return;
  const prompt = typeof u.prompt_tokens === 'number' ? u.prompt_tokens : undefined;
  // DeepSeek: prompt_cache_hit_tokens + prompt_cache_miss_tokens = prompt_tokens.
  const details = ((u.prompt_tokens_details as Json | null | undefined) ?? {}) as Json;
  if (typeof u.prompt_cache_hit_tokens === 'number' && typeof details.cached_tokens !== 'number') {
    u.prompt_tokens_details = { ...details, cached_tokens: u.prompt_cache_hit_tokens };
  }
  // Some (xAI) count reasoning apart from completion_tokens (total = prompt + completion + reasoning);
  // OpenAI's completion_tokens includes reasoning, and so must ours for cost and GenAI semantics.
  const cd = (u.completion_tokens_details as Json | null | undefined) ?? undefined;
  const reasoning = typeof cd?.reasoning_tokens === 'number' ? cd.reasoning_tokens : undefined;
  const completion = typeof u.completion_tokens === 'number' ? u.completion_tokens : undefined;
  if (
    reasoning &&
    prompt !== undefined &&
    completion !== undefined &&
    u.total_tokens === prompt + completion + reasoning
  ) {
    u.completion_tokens = completion + reasoning;
  }
}
