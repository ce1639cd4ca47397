// Anthropic Messages API answers (JSON, errors, usage) → OpenAI shapes.
import type { ProviderError, Usage } from '../types.js';

type Json = Record<string, unknown>;

const stopReasons: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  pause_turn: 'stop',
  refusal: 'content_filter',
};

export function finishReason(stop: unknown): string {
  return typeof stop === 'string' ? (stopReasons[stop] ?? 'stop') : 'stop';
}

export interface AnthropicUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/** Anthropic reports uncached input apart from cache reads/writes; GenAI input_tokens is their sum. */
export function usageFromAnthropic(u: AnthropicUsage | undefined): Usage {
  if (!u) return {};
  const read = u.cache_read_input_tokens ?? 0;
  const write = u.cache_creation_input_tokens ?? 0;
  const out: Usage = {};
  if (typeof u.input_tokens === 'number') out.input_tokens = u.input_tokens + read + write;
  if (typeof u.output_tokens === 'number') out.output_tokens = u.output_tokens;
  if (u.cache_read_input_tokens !== undefined && u.cache_read_input_tokens !== null) out.cache_read_tokens = read;
  if (u.cache_creation_input_tokens !== undefined && u.cache_creation_input_tokens !== null)
    out.cache_write_tokens = write;
  return out;
}

export function openAIUsage(u: Usage): Json {
  const prompt = u.input_tokens ?? 0;
  const completion = u.output_tokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: u.cache_read_tokens ?? 0 },
  };
}

export function toOpenAIChat(json: Json): { body: Json; usage: Usage } {
  if (json.type !== 'message' || !Array.isArray(json.content))
    throw new TypeError('response is not an Anthropic message');
  let text = '';
  const toolCalls: Json[] = [];
  for (const block of json.content as Json[]) {
    if (block.type === 'text') text += String(block.text ?? '');
    else if (block.type === 'tool_use') {
      toolCalls.push({
        id: block.id,
        type: 'function',
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      });
    }
  }
  const usage = usageFromAnthropic(json.usage as AnthropicUsage);
  const message: Json = { role: 'assistant', content: text === '' && toolCalls.length ? null : text, refusal: null };
  if (toolCalls.length) message.tool_calls = toolCalls;
  return {
    usage,
    body: {
      id: json.id,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: json.model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(json.stop_reason) }],
      usage: openAIUsage(usage),
    },
  };
}

export function parseAnthropicError(status: number, text: string): ProviderError {
  try {
    const j = JSON.parse(text) as { error?: { type?: string; message?: string } };
    if (j.error && typeof j.error === 'object') {
      return {
        message: j.error.message ?? `upstream returned ${status}`,
        type: j.error.type ?? 'api_error',
        code: j.error.type ?? null,
      };
    }
  } catch {
    /* not JSON */
  }
  return {
    message: `upstream returned ${status}${text ? `: ${text.slice(0, 200)}` : ''}`,
    type: 'api_error',
    code: null,
  };
}

/** Anthropic's error types → HTTP statuses (used for in-stream `event: error`). */
export function statusForErrorType(type: string | undefined): number {
  switch (type) {
    case 'invalid_request_error':
      return 400;
    case 'authentication_error':
      return 401;
    case 'permission_error':
      return 403;
    case 'not_found_error':
      return 404;
    case 'request_too_large':
      return 413;
    case 'rate_limit_error':
      return 429;
    case 'overloaded_error':
      return 529;
    default:
      return 500;
  }
}
