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
  /** The standard status to use instead of the upstream's own when that one is non-standard (Bedrock's 424). */
  status?: number;
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

/** Splits a stream that is not SSE (e.g. AWS's binary application/vnd.amazon.eventstream) into events. */
export interface StreamDecoder {
  /** The events completed by these bytes. Throws a SyntaxError on corrupt framing. */
  push(bytes: Uint8Array): SseEvent[];
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
  /**
   * Async auth applied to the built request just before it is sent (SigV4 signing, OAuth tokens).
   * Throws an Error carrying `status` (401, 502…) when credentials cannot be had.
   */
  authorize?(req: UpstreamRequest, p: ResolvedProvider, signal: AbortSignal): Promise<UpstreamRequest>;
  /** Validates the provider's own config fields at load time; throws naming the field. */
  checkConfig?(p: ResolvedProvider): void;
  /** For providers whose stream is not SSE: a fresh decoder per stream. Absent: SSE. */
  streamDecoder?(): StreamDecoder;
}
