// Anthropic Messages API behind the provider interface (chat only).
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
import { toAnthropicRequest } from './request.js';
import { parseAnthropicError, toOpenAIChat } from './response.js';
import { AnthropicStreamTranslator } from './stream.js';

export const ANTHROPIC_VERSION = '2023-06-01';

export class AnthropicAdapter implements ProviderAdapter {
  readonly name = 'anthropic';
  readonly defaultBaseUrl = 'https://api.anthropic.com/v1';

  supports(op: Operation): boolean {
    return op === 'chat';
  }

  /** The headers every request to Anthropic carries (version, key, the entry's own). */
  requestHeaders(p: ResolvedProvider): Record<string, string> {
    const h: Record<string, string> = {
      'content-type': 'application/json',
      'anthropic-version': (p.spec.api_version as string | undefined) ?? ANTHROPIC_VERSION,
      ...p.headers,
    };
    if (p.apiKey) h['x-api-key'] = p.apiKey;
    return h;
  }

  buildRequest(op: Operation, body: Record<string, unknown>, p: ResolvedProvider): UpstreamRequest {
    if (op !== 'chat') throw new UnsupportedRequestError(`anthropic does not support ${op}`);
    return {
      url: joinUrl(p.baseUrl, '/messages'),
      method: 'POST',
      headers: this.requestHeaders(p),
      body: JSON.stringify(toAnthropicRequest(body)),
    };
  }

  parseResponse(_op: Operation, json: unknown): ParsedResponse {
    if (!json || typeof json !== 'object') throw new TypeError('response is not a JSON object');
    const { body, usage } = toOpenAIChat(json as Record<string, unknown>);
    const choices = body.choices as Array<{ finish_reason: string }>;
    return {
      body,
      usage,
      responseModel: body.model as string,
      responseId: body.id as string,
      finishReasons: choices.map((c) => c.finish_reason),
    };
  }

  parseError(status: number, text: string, _headers: IncomingHttpHeaders): ProviderError {
    return parseAnthropicError(status, text);
  }

  streamTranslator(_op: Operation, body: Record<string, unknown>, includeUsage: boolean): StreamTranslator {
    return new AnthropicStreamTranslator(String(body.model ?? ''), includeUsage);
  }

  modelsRequest(p: ResolvedProvider): UpstreamRequest {
    return { url: joinUrl(p.baseUrl, '/models'), method: 'GET', headers: this.requestHeaders(p) };
  }
}
