import type {
  Operation,
  ParsedResponse,
  ProviderAdapter,
  ProviderError,
  ResolvedProvider,
  SseEvent,
  StreamTranslator,
  Usage,
  UpstreamRequest,
} from '../types.js';
import { StreamEventError } from '../types.js';
import { usageFromOpenAI } from './usage.js';

const paths: Record<Operation, string> = {
  chat: '/chat/completions',
  text_completion: '/completions',
  embeddings: '/embeddings',
};

export function joinUrl(base: string, path: string): string {
  return base.endsWith('/') ? base.slice(0, -1) + path : base + path;
}

export function openAIHeaders(p: ResolvedProvider): Record<string, string> {
  const h: Record<string, string> = { 'content-type': 'application/json', ...p.headers };
  if (p.apiKey) h.authorization = `Bearer ${p.apiKey}`;
  return h;
}

export class OpenAIAdapter implements ProviderAdapter {
  constructor(
    readonly name = 'openai',
    readonly defaultBaseUrl = 'https://api.openai.com/v1',
  ) {}

  supports(): boolean {
    return true;
  }

  buildRequest(op: Operation, body: Record<string, unknown>, p: ResolvedProvider): UpstreamRequest {
    let out = body;
    if (body.stream === true && op !== 'embeddings') {
      // Ask for the usage chunk so spans get token counts; the translator hides it from clients
      // that did not ask for it themselves.
      const so = (body.stream_options as Record<string, unknown> | undefined) ?? {};
      if (so.include_usage !== true) out = { ...body, stream_options: { ...so, include_usage: true } };
    }
    return { url: joinUrl(p.baseUrl, paths[op]), method: 'POST', headers: openAIHeaders(p), body: JSON.stringify(out) };
  }

  parseResponse(op: Operation, json: unknown): ParsedResponse {
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw new TypeError('response is not a JSON object');
    const body = json as Record<string, unknown>;
    if (op === 'embeddings' ? !Array.isArray(body.data) : !Array.isArray(body.choices)) {
      throw new TypeError(`response has no "${op === 'embeddings' ? 'data' : 'choices'}" array`);
    }
    const finishReasons =
      op === 'embeddings'
        ? undefined
        : (body.choices as Array<{ finish_reason?: string | null }>).map((c) => c.finish_reason ?? '').filter(Boolean);
    return {
      body,
      usage: usageFromOpenAI(body.usage),
      responseModel: typeof body.model === 'string' ? body.model : undefined,
      responseId: typeof body.id === 'string' ? body.id : undefined,
      finishReasons,
    };
  }

  parseError(status: number, text: string): ProviderError {
    return parseOpenAIError(status, text);
  }

  streamTranslator(_op: Operation, _body: Record<string, unknown>, includeUsage: boolean): StreamTranslator {
    return new OpenAIStreamTranslator(includeUsage);
  }

  modelsRequest(p: ResolvedProvider): UpstreamRequest {
    return { url: joinUrl(p.baseUrl, '/models'), method: 'GET', headers: openAIHeaders(p) };
  }
}

export function parseOpenAIError(status: number, text: string): ProviderError {
  try {
    const j = JSON.parse(text) as { error?: { message?: string; type?: string; code?: string | null } | string };
    if (j && typeof j.error === 'object' && j.error) {
      return {
        message: j.error.message ?? `upstream returned ${status}`,
        type: j.error.type ?? 'api_error',
        code: j.error.code ?? null,
      };
    }
    if (typeof j.error === 'string') return { message: j.error, type: 'api_error', code: null };
  } catch {
    /* not JSON: fall through */
  }
  return {
    message: `upstream returned ${status}${text ? `: ${text.slice(0, 200)}` : ''}`,
    type: 'api_error',
    code: null,
  };
}

class OpenAIStreamTranslator implements StreamTranslator {
  usage: Usage = {};
  finishReasons: string[] = [];
  responseModel?: string;
  responseId?: string;

  constructor(private readonly includeUsage: boolean) {}

  done = false;

  onEvent(ev: SseEvent): Array<Record<string, unknown>> {
    if (ev.data === '[DONE]') {
      this.done = true;
      return [];
    }
    const chunk = JSON.parse(ev.data) as Record<string, unknown>;
    if (chunk.error) {
      // Some OpenAI-compatible servers report failures as an in-stream error object.
      const e = chunk.error as { message?: string; type?: string; code?: string };
      throw new StreamEventError(500, {
        message: e.message ?? 'stream error',
        type: e.type ?? 'api_error',
        code: e.code ?? null,
      });
    }
    if (typeof chunk.model === 'string') this.responseModel = chunk.model;
    if (typeof chunk.id === 'string') this.responseId = chunk.id;
    const choices = chunk.choices as Array<{ finish_reason?: string | null }> | undefined;
    if (choices) for (const c of choices) if (c.finish_reason) this.finishReasons.push(c.finish_reason);
    if (chunk.usage) {
      this.usage = usageFromOpenAI(chunk.usage);
      if (!this.includeUsage) {
        if (!choices || choices.length === 0) return [];
        const { usage: _drop, ...rest } = chunk;
        return [rest];
      }
    }
    return [chunk];
  }
}
