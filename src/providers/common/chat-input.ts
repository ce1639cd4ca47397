// Reading an OpenAI chat request: messages, content parts, tools, response_format, limits.
// Shared by the adapters that translate it into another provider's format.
import { UnsupportedRequestError } from '../types.js';

type Json = Record<string, unknown>;

export interface OpenAIToolCall {
  id: string;
  type?: string;
  function: { name: string; arguments?: string };
}

export interface OpenAIMessage {
  role: string;
  content?: unknown;
  tool_calls?: OpenAIToolCall[];
  tool_call_id?: string;
  name?: string;
}

export type Part =
  | { kind: 'text'; text: string; cache: boolean }
  | { kind: 'image'; url?: string; mime?: string; data?: string; cache: boolean };

/** Message content (string or parts) → our parts; unknown part types are a 400 naming the provider. */
export function contentParts(content: unknown, provider: string): Part[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ kind: 'text', text: content, cache: false }];
  if (!Array.isArray(content))
    throw new UnsupportedRequestError('message content must be a string or an array of parts');
  return content.map((raw: unknown): Part => {
    const part = (raw ?? {}) as Json;
    const cache = part.cache_control !== undefined && part.cache_control !== null;
    switch (part.type) {
      case 'text':
        return { kind: 'text', text: String(part.text ?? ''), cache };
      case 'image_url': {
        const iu = part.image_url as { url?: string } | string | undefined;
        const url = typeof iu === 'string' ? iu : iu?.url;
        if (!url) throw new UnsupportedRequestError('image_url part without a url');
        const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
        return m ? { kind: 'image', mime: m[1], data: m[2], cache } : { kind: 'image', url, cache };
      }
      default:
        throw new UnsupportedRequestError(`content part type "${String(part.type)}" is not supported by ${provider}`);
    }
  });
}

export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p) => (p && typeof p === 'object' && (p as Json).type === 'text' ? String((p as Json).text ?? '') : ''))
      .join('');
  }
  return '';
}

export function parseArgs(args: string | undefined): Json {
  if (!args) return {};
  let v: unknown;
  try {
    v = JSON.parse(args);
  } catch {
    throw new UnsupportedRequestError('tool_calls[].function.arguments must be a JSON string');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new UnsupportedRequestError('tool_calls[].function.arguments must encode a JSON object');
  return v as Json;
}

export interface FunctionTool {
  name: string;
  description?: string;
  parameters: Json;
  strict?: boolean;
}

export function functionTools(body: Json, provider: string): FunctionTool[] {
  const tools = body.tools as
    | Array<{ type?: string; function?: { name?: string; description?: string; parameters?: Json; strict?: boolean } }>
    | undefined;
  if (tools === undefined || tools === null) return [];
  if (!Array.isArray(tools)) throw new UnsupportedRequestError('tools must be an array');
  return tools.map((t, i) => {
    if (t?.type !== 'function' || !t.function?.name)
      throw new UnsupportedRequestError(`tools[${i}]: tool type "${String(t?.type)}" is not supported by ${provider}`);
    return {
      name: t.function.name,
      description: t.function.description,
      parameters: t.function.parameters ?? { type: 'object', properties: {} },
      strict: t.function.strict,
    };
  });
}

export type ToolChoice =
  | { mode: 'auto' }
  | { mode: 'none' }
  | { mode: 'required' }
  | { mode: 'function'; name: string };

export function toolChoice(tc: unknown): ToolChoice | undefined {
  if (tc === undefined || tc === null) return undefined;
  if (tc === 'auto' || tc === 'none' || tc === 'required') return { mode: tc };
  const name = (tc as { function?: { name?: string } })?.function?.name;
  if (typeof tc === 'object' && name) return { mode: 'function', name };
  throw new UnsupportedRequestError(
    'tool_choice must be "auto", "none", "required" or {"type":"function","function":{"name":…}}',
  );
}

export type ResponseFormat =
  | { kind: 'text' }
  | { kind: 'json_object' }
  | { kind: 'json_schema'; name: string; schema: Json; strict?: boolean };

export function responseFormat(rf: unknown): ResponseFormat {
  if (rf === undefined || rf === null) return { kind: 'text' };
  const r = rf as { type?: string; json_schema?: { name?: string; schema?: Json; strict?: boolean } };
  if (r.type === 'text') return { kind: 'text' };
  if (r.type === 'json_object') return { kind: 'json_object' };
  if (r.type === 'json_schema') {
    if (!r.json_schema?.schema || typeof r.json_schema.schema !== 'object')
      throw new UnsupportedRequestError('response_format.json_schema.schema is required');
    return {
      kind: 'json_schema',
      name: r.json_schema.name ?? 'response',
      schema: r.json_schema.schema,
      strict: r.json_schema.strict,
    };
  }
  throw new UnsupportedRequestError(`response_format type "${String(r.type)}" is not supported`);
}

export function stopList(stop: unknown): string[] | undefined {
  if (stop === undefined || stop === null) return undefined;
  if (typeof stop === 'string') return [stop];
  if (Array.isArray(stop) && stop.every((s) => typeof s === 'string')) return stop as string[];
  throw new UnsupportedRequestError('stop must be a string or an array of strings');
}

export function maxTokens(body: Json): number | undefined {
  const v = body.max_completion_tokens ?? body.max_tokens;
  return typeof v === 'number' ? v : undefined;
}

export function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

/** Tool call id → function name, from the assistant turns (tool results must name their function for Gemini). */
export function toolNamesById(messages: OpenAIMessage[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of messages) for (const tc of m.tool_calls ?? []) out.set(tc.id, tc.function.name);
  return out;
}

/** Embeddings `input` as a list of strings; token-id inputs are OpenAI-only. */
export function embeddingInputs(input: unknown, provider: string): string[] {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.every((s) => typeof s === 'string')) return input as string[];
  throw new UnsupportedRequestError(
    `${provider} embeddings take text input (a string or an array of strings), not token ids`,
  );
}
