// The one interface every provider adapter implements: translate an OpenAI-shaped request into the
// provider's wire format, and its answers (JSON, SSE events, errors) back into OpenAI's.
import type { IncomingHttpHeaders } from 'node:http';
import type { ProviderSpec } from '../config/schema.js';

export type Operation = 'chat' | 'text_completion' | 'embeddings';

/** Token counts as the provider reported them; absent fields were not reported. */
export interface Usage {
  /** All input tokens, cached ones included (GenAI semconv). */
  input_tokens?: number;
  output_tokens?: number;
  cache_read_tokens?: number;
  cache_write_tokens?: number;
  reasoning_tokens?: number;
}

/** A provider resolved for one attempt: endpoint, credentials and the raw spec. */
export interface ResolvedProvider {
  slug: string;
  type: string;
  baseUrl: string;
  apiKey?: string;
  headers: Record<string, string>;
  spec: ProviderSpec;
}

export interface UpstreamRequest {
  url: string;
  method: 'POST' | 'GET';
  headers: Record<string, string>;
  body?: string;
}

export interface ParsedResponse {
  /** The OpenAI-shaped body sent to the client. */
  body: Record<string, unknown>;
  usage: Usage;
  responseModel?: string;
  responseId?: string;
  finishReasons?: string[];
}

export interface ProviderError {
  message: string;
  type: string;
  code?: string | null;
}

export interface SseEvent {
  event?: string;
  data: string;
}

/** Turns one upstream SSE stream into OpenAI chat.completion.chunk objects. */
export interface StreamTranslator {
  /** Chunks to emit for this event. Throws StreamEventError for an in-stream error. */
  onEvent(ev: SseEvent): Array<Record<string, unknown>>;
  /** True once the provider signalled a clean end of the stream. */
  readonly done: boolean;
  readonly usage: Usage;
  readonly finishReasons: string[];
  readonly responseModel?: string;
  readonly responseId?: string;
}

/** An error the provider reported inside a stream (e.g. Anthropic's `event: error`). */
export class StreamEventError extends Error {
  constructor(
    readonly status: number,
    readonly providerError: ProviderError,
  ) {
    super(providerError.message);
  }
}

/** A request the provider cannot serve (bad parameter for it): 400 without trying upstream. */
export class UnsupportedRequestError extends Error {
  readonly status = 400;
}

export interface ProviderAdapter {
  /** gen_ai.provider.name value. */
  readonly name: string;
  readonly defaultBaseUrl: string;
  supports(op: Operation): boolean;
  buildRequest(op: Operation, body: Record<string, unknown>, p: ResolvedProvider): UpstreamRequest;
  parseResponse(op: Operation, json: unknown, p: ResolvedProvider): ParsedResponse;
  parseError(status: number, text: string, headers: IncomingHttpHeaders): ProviderError;
  /** For stream requests; `includeUsage`: whether the client asked for the usage chunk. */
  streamTranslator(op: Operation, body: Record<string, unknown>, includeUsage: boolean): StreamTranslator;
  /** GET models for /v1/models; undefined when the provider has no such listing. */
  modelsRequest?(p: ResolvedProvider): UpstreamRequest;
}
