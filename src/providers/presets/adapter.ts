// One adapter for every OpenAI-compatible preset: request quirks out, usage and error shapes in.
import type { IncomingHttpHeaders } from 'node:http';
import type {
  Operation,
  ParsedResponse,
  ProviderError,
  ResolvedProvider,
  SseEvent,
  StreamTranslator,
  UpstreamRequest,
} from '../types.js';
import { StreamEventError, UnsupportedRequestError } from '../types.js';
import { joinUrl, OpenAIAdapter, openAIHeaders, parseOpenAIError } from '../openai/adapter.js';
import { errorTypeForStatus } from '../common/openai-shapes.js';
import type { Preset } from './table.js';
import { normalizeUsage } from './usage.js';
import { ForwardingTranslator } from '../common/forwarding-translator.js';

type Json = Record<string, unknown>;

const PATHS: Record<Operation, string> = {
  chat: '/chat/completions',
  text_completion: '/completions',
  embeddings: '/embeddings',
};

export class PresetAdapter extends OpenAIAdapter {
  constructor(
    readonly type: string,
    readonly preset: Preset,
  ) {
    super(preset.name, preset.baseUrl);
  }

  /** The request body as this provider wants it. */
  translate(op: Operation, body: Json): Json {
    const q = this.preset;
    for (const r of q.reject ?? []) if (r.when(body)) throw new UnsupportedRequestError(r.message);
    const out: Json = { ...body };
    for (const k of q.drop ?? []) delete out[k];
    for (const [from, to] of Object.entries(q.rename ?? {})) {
      if (out[from] !== undefined) {
        out[to] = out[from];
        delete out[from];
      }
    }
    const other = q.maxTokensField === 'max_tokens' ? 'max_completion_tokens' : 'max_tokens';
    if (out[other] !== undefined) {
      out[q.maxTokensField] ??= out[other];
      delete out[other];
    }
    if (op === 'chat' && !q.developerRole && Array.isArray(out.messages)) {
      out.messages = (out.messages as Json[]).map((m) => (m.role === 'developer' ? { ...m, role: 'system' } : m));
    }
    if (out.stream === true && op !== 'embeddings') {
      if (q.streamOptions)
        out.stream_options = { ...((out.stream_options as Json | undefined) ?? {}), include_usage: true };
      else delete out.stream_options;
    } else delete out.stream_options;
    return out;
  }

  override buildRequest(op: Operation, body: Json, p: ResolvedProvider): UpstreamRequest {
    return {
      url: joinUrl(p.baseUrl, PATHS[op]),
      method: 'POST',
      headers: openAIHeaders(p),
      body: JSON.stringify(this.translate(op, body)),
    };
  }

  override parseResponse(op: Operation, json: unknown): ParsedResponse {
    if (json && typeof json === 'object' && !Array.isArray(json)) normalizeUsage(json as Json);
    return super.parseResponse(op, json);
  }

  override parseError(status: number, text: string, _headers?: IncomingHttpHeaders): ProviderError {
    return parseCompatError(status, text);
  }

  override streamTranslator(op: Operation, body: Json, includeUsage: boolean): StreamTranslator {
    return new NormalizingTranslator(super.streamTranslator(op, body, includeUsage));
  }
}

/**
 * Error bodies across the family: OpenAI's `{"error": {…}}`, Ollama's `{"error": "text"}`,
 * Mistral's `{"object": "error", "message": …}` (message may be a validation object),
 * OpenRouter's numeric `error.code`.
 */
export function parseCompatError(status: number, text: string): ProviderError {
  const base = parseOpenAIError(status, text);
  let j: Json | undefined;
  try {
    j = JSON.parse(text) as Json;
  } catch {
    return { ...base, type: errorTypeForStatus(status) };
  }
  if (j && typeof j === 'object' && !j.error && j.message !== undefined) {
    const msg = typeof j.message === 'string' ? j.message : JSON.stringify(j.message).slice(0, 500);
    return {
      message: msg,
      type: typeof j.type === 'string' ? j.type : errorTypeForStatus(status),
      code: typeof j.code === 'string' ? j.code : null,
    };
  }
  const e = j?.error as Json | undefined;
  const hasType = !!e && typeof e === 'object' && typeof e.type === 'string';
  return {
    ...base,
    type: hasType ? base.type : errorTypeForStatus(status),
    code: base.code === null || base.code === undefined ? null : String(base.code),
  };
}

/** Normalizes each chunk's usage (Groq's x_groq.usage, DeepSeek's cache fields…) before the OpenAI translator reads it. */
class NormalizingTranslator extends ForwardingTranslator {
  onEvent(ev: SseEvent): Json[] {
    if (ev.data === '[DONE]' || ev.data === '') return ev.data === '' ? [] : this.inner.onEvent(ev);
    const chunk = JSON.parse(ev.data) as Json;
    const err = chunk.error as { code?: unknown; message?: string; type?: string } | undefined;
    if (err && typeof err === 'object' && typeof err.code === 'number' && err.code >= 400) {
      // OpenRouter puts the upstream HTTP status in error.code of a mid-stream error.
      throw new StreamEventError(err.code, {
        message: err.message ?? 'stream error',
        type: err.type ?? errorTypeForStatus(err.code),
        code: String(err.code),
      });
    }
    const xg = chunk.x_groq as { usage?: unknown } | undefined;
    if (xg?.usage && !chunk.usage) chunk.usage = xg.usage;
    if (chunk.usage) normalizeUsage(chunk);
    return this.inner.onEvent({ event: ev.event, data: JSON.stringify(chunk) });
  }
}
