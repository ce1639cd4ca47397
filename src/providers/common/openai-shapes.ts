// OpenAI wire shapes built from other providers' answers: completion bodies, stream chunks,
// usage objects, and error types by status.
import type { Usage } from '../types.js';

type Json = Record<string, unknown>;

/** OpenAI's usage object from ours; input_tokens already includes cached tokens. */
export function openAIUsage(u: Usage): Json {
  const prompt = u.input_tokens ?? 0;
  const completion = u.output_tokens ?? 0;
  const out: Json = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: u.cache_read_tokens ?? 0 },
  };
  if (u.reasoning_tokens !== undefined) out.completion_tokens_details = { reasoning_tokens: u.reasoning_tokens };
  return out;
}

export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

export interface Choice {
  text: string;
  toolCalls: ToolCall[];
  finishReason: string;
}

export function chatCompletion(id: string, model: string, choices: Choice[], usage: Usage): Json {
  return {
    id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: choices.map((c, index) => {
      const message: Json = {
        role: 'assistant',
        content: c.text === '' && c.toolCalls.length ? null : c.text,
        refusal: null,
      };
      if (c.toolCalls.length)
        message.tool_calls = c.toolCalls.map((t) => ({
          id: t.id,
          type: 'function',
          function: { name: t.name, arguments: t.arguments },
        }));
      return { index, message, logprobs: null, finish_reason: c.finishReason };
    }),
    usage: openAIUsage(usage),
  };
}

/** Builds chat.completion.chunk objects for one stream. */
export class ChunkWriter {
  private readonly created = Math.floor(Date.now() / 1000);
  constructor(
    public id: string,
    public model: string,
  ) {}

  chunk(delta: Json, finish: string | null = null, index = 0): Json {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index, delta, logprobs: null, finish_reason: finish }],
    };
  }

  /** The usage-only chunk OpenAI sends last when the client asked for it. */
  usageChunk(u: Usage): Json {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [],
      usage: openAIUsage(u),
    };
  }
}

/** OpenAI-style error type for a standard status, so clients branch the same way for every provider. */
export function errorTypeForStatus(status: number): string {
  if (status === 400 || status === 413 || status === 422) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 408 || status === 504) return 'timeout_error';
  if (status === 429) return 'rate_limit_error';
  if (status === 503 || status === 529) return 'overloaded_error';
  return 'api_error';
}

let counter = 0;
/** A response id for providers whose answers carry none (Bedrock). */
export function syntheticId(prefix: string): string {
  counter = (counter + 1) % 1e9;
  return `${prefix}-${Date.now().toString(36)}${counter.toString(36)}`;
}

/** OpenAI embeddings list; `base64` encodes little-endian float32 like OpenAI. */
export function embeddingList(vectors: number[][], model: string, format: unknown, usage: Usage): Json {
  return {
    object: 'list',
    data: vectors.map((v, index) => ({ object: 'embedding', index, embedding: format === 'base64' ? toBase64(v) : v })),
    model,
    usage: { prompt_tokens: usage.input_tokens ?? 0, total_tokens: usage.input_tokens ?? 0 },
  };
}

function toBase64(v: number[]): string {
  const f = Float32Array.from(v);
  return Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('base64');
}
