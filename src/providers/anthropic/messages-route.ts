// Adapters for one POST /v1/messages request. To an Anthropic target the client's request goes as
// it came (model and the target's overrides set) and the answer and events come back untouched;
// to any other provider the adapter translates the OpenAI-shaped internal request as usual and
// its answers are turned into Anthropic's message and event sequence here, where the attempt's
// full usage (cache writes included) is at hand.
import {
  UnsupportedRequestError,
  type Operation,
  type ParsedResponse,
  type ProviderAdapter,
  type ResolvedProvider,
  type SseEvent,
  type StreamTranslator,
  type UpstreamRequest,
} from '../types.js';
import { joinUrl } from '../openai/adapter.js';
import { AnthropicAdapter } from './adapter.js';
import { chatToMessage, MessageEventWriter } from './inbound.js';
import { finishReason, usageFromAnthropic, type AnthropicUsage } from './response.js';
import { AnthropicStreamTranslator } from './stream.js';
import { ForwardingTranslator } from '../common/forwarding-translator.js';

type Json = Record<string, unknown>;

/**
 * What a stream chunk carries on this route: the Anthropic SSE frames to write as they are, and
 * the OpenAI-shaped `choices` of the same content for whoever watches chunks (guardrails, capture).
 */
export const SSE_FRAMES = 'anthropic_sse';

export interface MessagesRequest {
  /** The client's Anthropic request body, as validated. */
  native: Json;
  /** The OpenAI-shaped translation the pipeline and non-Anthropic adapters see. */
  internal: Json;
  /** anthropic-version / anthropic-beta from the client, passed on to Anthropic targets. */
  version?: string;
  beta?: string;
  /** Set when the request uses what only Anthropic serves: other providers answer 400 with it. */
  problem?: string;
}

// The client's body of a POST /v1/messages request by the internal body the pipeline sees: the
// cache stage keys and stores on it and on the route (src/policy/cache), not on the translation.
const nativeBodies = new WeakMap<Json, Json>();

/** Marks `m.internal` as the body of a Messages request (count_tokens is not: it is not cached). */
export function markMessagesRequest(m: MessagesRequest): void {
  nativeBodies.set(m.internal, m.native);
}

/** The client's Anthropic body when `internal` is a Messages request's internal body. */
export function messagesNativeBody(internal: Json): Json | undefined {
  return nativeBodies.get(internal);
}

/** Override params a routing target may set that map one-to-one onto Anthropic's fields. */
const SAME_NAME = ['temperature', 'top_p', 'top_k', 'max_tokens'] as const;

function passthrough(inner: AnthropicAdapter, m: MessagesRequest): ProviderAdapter {
  return Object.create(inner, {
    buildRequest: {
      value(_op: Operation, body: Json, p: ResolvedProvider): UpstreamRequest {
        const out: Json = { ...m.native, model: body.model };
        if (body.stream === true) out.stream = true;
        else delete out.stream;
        for (const k of SAME_NAME) if (body[k] !== undefined && body[k] !== m.internal[k]) out[k] = body[k];
        if (body.stop !== m.internal.stop && body.stop !== undefined)
          out.stop_sequences = Array.isArray(body.stop) ? body.stop : [body.stop];
        const headers = inner.requestHeaders(p);
        if (m.version) headers['anthropic-version'] = m.version;
        if (m.beta) headers['anthropic-beta'] = m.beta;
        return { url: joinUrl(p.baseUrl, '/messages'), method: 'POST', headers, body: JSON.stringify(out) };
      },
    },
    parseResponse: {
      value(_op: Operation, json: unknown): ParsedResponse {
        // The answer goes back as it is: only what spans and budgets need is read from it.
        const j = json as Json;
        if (!j || typeof j !== 'object' || j.type !== 'message' || !Array.isArray(j.content))
          throw new TypeError('response is not an Anthropic message');
        return {
          body: j,
          usage: usageFromAnthropic(j.usage as AnthropicUsage),
          responseModel: j.model as string,
          responseId: j.id as string,
          finishReasons: [finishReason(j.stop_reason)],
        };
      },
    },
    streamTranslator: {
      value(_op: Operation, body: Json): StreamTranslator {
        return new PassthroughStream(new AnthropicStreamTranslator(String(body.model ?? ''), false));
      },
    },
  }) as ProviderAdapter;
}

/** Anthropic's events as they came; the inner translator keeps usage and turns `error` into a failure. */
class PassthroughStream extends ForwardingTranslator {
  private started = false;
  constructor(protected override readonly inner: AnthropicStreamTranslator) {
    super(inner);
  }

  onEvent(ev: SseEvent): Json[] {
    const chunks = this.inner.onEvent(ev);
    if ((ev.event ?? '') === 'message_start') this.started = true;
    // A ping before message_start is not a first byte worth committing the stream for.
    if (!this.started) return [];
    const frame = ev.event === undefined ? `data: ${ev.data}\n\n` : `event: ${ev.event}\ndata: ${ev.data}\n\n`;
    return [{ choices: (chunks[0]?.choices as unknown[] | undefined) ?? [], [SSE_FRAMES]: frame }];
  }
}

function overChat(inner: ProviderAdapter, m: MessagesRequest): ProviderAdapter {
  return Object.create(inner, {
    buildRequest: {
      value(op: Operation, body: Json, p: ResolvedProvider): UpstreamRequest {
        if (m.problem) throw new UnsupportedRequestError(`${m.problem} (this target is ${inner.name})`);
        return inner.buildRequest(op, body, p);
      },
    },
    parseResponse: {
      value(op: Operation, json: unknown, p: ResolvedProvider): ParsedResponse {
        const parsed = inner.parseResponse(op, json, p);
        return { ...parsed, body: chatToMessage(parsed.body, parsed.usage, String(m.internal.model ?? '')) };
      },
    },
    streamTranslator: {
      value(op: Operation, body: Json): StreamTranslator {
        return new SynthesizedStream(inner.streamTranslator(op, body, true), String(body.model ?? ''));
      },
    },
  }) as ProviderAdapter;
}

/** OpenAI-shaped chunks from any adapter → Anthropic events, closed once the provider's stream ends cleanly. */
class SynthesizedStream extends ForwardingTranslator {
  private readonly writer: MessageEventWriter;
  constructor(inner: StreamTranslator, model: string) {
    super(inner);
    this.writer = new MessageEventWriter(model);
  }

  onEvent(ev: SseEvent): Json[] {
    const out: Json[] = [];
    for (const c of this.inner.onEvent(ev)) {
      const frames = this.writer.chunk(c);
      if (frames !== '') out.push({ choices: (c.choices as unknown[] | undefined) ?? [], [SSE_FRAMES]: frames });
    }
    if (this.inner.done) out.push({ choices: [], [SSE_FRAMES]: this.writer.end(this.inner.usage) });
    return out;
  }
}

/** The adapter a target uses for this Messages request. */
export function messagesAdapter(adapter: ProviderAdapter, m: MessagesRequest): ProviderAdapter {
  return adapter instanceof AnthropicAdapter ? passthrough(adapter, m) : overChat(adapter, m);
}

/**
 * POST /v1/messages/count_tokens: the client's body as it came to an Anthropic target's
 * count_tokens endpoint, its answer ({input_tokens}) back as it is. Other providers have no such
 * endpoint: their attempt is a 400 and the routing goes on to the next target.
 */
export function countTokensAdapter(adapter: ProviderAdapter, m: MessagesRequest): ProviderAdapter {
  if (!(adapter instanceof AnthropicAdapter)) {
    return Object.create(adapter, {
      buildRequest: {
        value(): UpstreamRequest {
          throw new UnsupportedRequestError(
            `count_tokens is served by Anthropic targets only (this target is ${adapter.name})`,
          );
        },
      },
    }) as ProviderAdapter;
  }
  return Object.create(adapter, {
    buildRequest: {
      value(_op: Operation, body: Json, p: ResolvedProvider): UpstreamRequest {
        const headers = adapter.requestHeaders(p);
        if (m.version) headers['anthropic-version'] = m.version;
        if (m.beta) headers['anthropic-beta'] = m.beta;
        return {
          url: joinUrl(p.baseUrl, '/messages/count_tokens'),
          method: 'POST',
          headers,
          body: JSON.stringify({ ...m.native, model: body.model }),
        };
      },
    },
    parseResponse: {
      value(_op: Operation, json: unknown): ParsedResponse {
        if (!json || typeof json !== 'object' || typeof (json as Json).input_tokens !== 'number')
          throw new TypeError('count_tokens answer has no input_tokens');
        return { body: json as Json, usage: {} };
      },
    },
  }) as ProviderAdapter;
}
