// Google Gemini API (generativelanguage.googleapis.com) behind the provider interface: chat via
// generateContent / streamGenerateContent?alt=sse, embeddings via batchEmbedContents, API key auth.
import type { IncomingHttpHeaders } from 'node:http';
import type {
  Operation,
  ParsedResponse,
  ProviderAdapter,
  ProviderError,
  ResolvedProvider,
  StreamTranslator,
  UpstreamRequest,
} from '../types.js';
import { UnsupportedRequestError } from '../types.js';
import { joinUrl } from '../openai/adapter.js';
import { recall, remember } from '../common/request-context.js';
import { modelSegment } from '../common/model-path.js';
import { toGeminiRequest } from './request.js';
import { parseGoogleError, toOpenAIChat } from './response.js';
import { GeminiStreamTranslator } from './stream.js';
import { fromGeminiEmbeddings, toGeminiEmbedRequest } from './embeddings.js';

type Json = Record<string, unknown>;

/** "models/gemini-2.5-flash" and "gemini-2.5-flash" name the same model. */
export function bareModel(model: unknown): string {
  const m = String(model ?? '');
  if (!m) throw new UnsupportedRequestError('model is required');
  return m.startsWith('models/') ? m.slice('models/'.length) : m;
}

export function chatFromGemini(json: unknown, model: string): ParsedResponse {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new TypeError('response is not a JSON object');
  const { body, usage, finishReasons } = toOpenAIChat(json as Json, model);
  return { body, usage, finishReasons, responseModel: body.model as string, responseId: body.id as string };
}

export class GeminiAdapter implements ProviderAdapter {
  readonly name: string = 'gcp.gemini';
  readonly defaultBaseUrl: string = 'https://generativelanguage.googleapis.com/v1beta';

  supports(op: Operation): boolean {
    return op === 'chat' || op === 'embeddings';
  }

  protected headers(p: ResolvedProvider): Record<string, string> {
    const h: Record<string, string> = { 'content-type': 'application/json', ...p.headers };
    if (p.apiKey) h['x-goog-api-key'] = p.apiKey;
    return h;
  }

  buildRequest(op: Operation, body: Json, p: ResolvedProvider): UpstreamRequest {
    const model = bareModel(body.model);
    remember(p, { model, encodingFormat: body.encoding_format });
    if (op === 'embeddings') {
      return {
        url: joinUrl(p.baseUrl, `/models/${modelSegment(model)}:batchEmbedContents`),
        method: 'POST',
        headers: this.headers(p),
        body: JSON.stringify(toGeminiEmbedRequest(body, model)),
      };
    }
    if (op !== 'chat') throw new UnsupportedRequestError(`${this.name} does not support ${op}`);
    const m = modelSegment(model);
    const path = body.stream === true ? `/models/${m}:streamGenerateContent?alt=sse` : `/models/${m}:generateContent`;
    return {
      url: joinUrl(p.baseUrl, path),
      method: 'POST',
      headers: this.headers(p),
      body: JSON.stringify(toGeminiRequest(body, 'gemini')),
    };
  }

  parseResponse(op: Operation, json: unknown, p: ResolvedProvider): ParsedResponse {
    const ctx = recall(p);
    if (op === 'embeddings') {
      if (!json || typeof json !== 'object') throw new TypeError('response is not a JSON object');
      return fromGeminiEmbeddings(json as Json, ctx.model, ctx.encodingFormat);
    }
    return chatFromGemini(json, ctx.model);
  }

  parseError(status: number, text: string, _headers: IncomingHttpHeaders): ProviderError {
    return parseGoogleError(status, text);
  }

  streamTranslator(_op: Operation, body: Json, includeUsage: boolean): StreamTranslator {
    const n = typeof body.n === 'number' && body.n > 1 ? body.n : 1;
    return new GeminiStreamTranslator(String(body.model ?? ''), n, includeUsage);
  }

  modelsRequest(p: ResolvedProvider): UpstreamRequest {
    return { url: joinUrl(p.baseUrl, '/models'), method: 'GET', headers: this.headers(p) };
  }
}
