// POST /v1/messages: Anthropic's Messages API in and out, through the same pipeline and executor
// as the OpenAI routes. The request is validated as Anthropic's API does, translated once to the
// OpenAI-shaped internal body (what policy stages and non-Anthropic adapters see) and kept as it
// came for Anthropic targets (providers/anthropic/messages-route.ts).
import { z } from 'zod';
import { messagesToChat } from '../providers/anthropic/inbound.js';
import {
  countTokensAdapter,
  markMessagesRequest,
  messagesAdapter,
  SSE_FRAMES,
  type MessagesRequest,
} from '../providers/anthropic/messages-route.js';
import { HttpError } from './errors.js';
import { serveRequest, type RouteWire } from './handlers.js';
import type { Sidecar } from './sidecar.js';
import { SseSink } from './sse-sink.js';

type Json = Record<string, unknown>;

const CacheControl = z
  .object({ type: z.literal('ephemeral') })
  .passthrough()
  .nullish();
const Text = z.object({ type: z.literal('text'), text: z.string(), cache_control: CacheControl }).passthrough();
const Source = z.object({ type: z.string() }).passthrough();
const Block = z.discriminatedUnion('type', [
  Text,
  z.object({ type: z.literal('image'), source: Source }).passthrough(),
  z.object({ type: z.literal('document'), source: Source }).passthrough(),
  z
    .object({ type: z.literal('tool_use'), id: z.string(), name: z.string(), input: z.record(z.string(), z.unknown()) })
    .passthrough(),
  z.object({ type: z.literal('tool_result'), tool_use_id: z.string() }).passthrough(),
  z.object({ type: z.literal('thinking'), thinking: z.string() }).passthrough(),
  z.object({ type: z.literal('redacted_thinking'), data: z.string() }).passthrough(),
  z.object({ type: z.literal('search_result') }).passthrough(),
  z.object({ type: z.literal('server_tool_use') }).passthrough(),
  z.object({ type: z.literal('web_search_tool_result') }).passthrough(),
]);
const BLOCK_TYPES = [
  'text',
  'image',
  'document',
  'tool_use',
  'tool_result',
  'thinking',
  'redacted_thinking',
  'search_result',
  'server_tool_use',
  'web_search_tool_result',
];
const Message = z
  .object({ role: z.enum(['user', 'assistant']), content: z.union([z.string(), z.array(Block)]) })
  .passthrough();
const ToolChoice = z.discriminatedUnion('type', [
  z.object({ type: z.literal('auto') }).passthrough(),
  z.object({ type: z.literal('any') }).passthrough(),
  z.object({ type: z.literal('tool'), name: z.string() }).passthrough(),
  z.object({ type: z.literal('none') }).passthrough(),
]);
const MessagesBody = z
  .object({
    model: z.string().min(1),
    max_tokens: z.number().int().min(1),
    messages: z.array(Message).min(1, 'at least one message is required'),
    system: z.union([z.string(), z.array(Text)]).optional(),
    tools: z.array(z.object({ name: z.string() }).passthrough()).optional(),
    tool_choice: ToolChoice.optional(),
    stop_sequences: z.array(z.string()).optional(),
    temperature: z.number().min(0).max(1).optional(),
    top_p: z.number().min(0).max(1).optional(),
    top_k: z.number().int().min(0).optional(),
    stream: z.boolean().optional(),
    metadata: z.object({ user_id: z.string().nullish() }).passthrough().optional(),
  })
  .passthrough();

const CountTokensBody = MessagesBody.omit({ max_tokens: true, stream: true });

/** Validates a Messages request as Anthropic's API does: 400 invalid_request_error naming the field. */
export function parseMessagesBody(raw: unknown, schema: z.ZodTypeAny = MessagesBody): Json {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new HttpError(400, 'request body must be a JSON object', 'invalid_body');
  const msgs = (raw as Json).messages;
  if (Array.isArray(msgs)) {
    msgs.forEach((m: { role?: unknown; content?: unknown } | null, i) => {
      if (m?.role === 'system')
        throw new HttpError(
          400,
          `messages.${i}.role: Unexpected role "system". The Messages API accepts a top-level \`system\` parameter, not "system" as an input message role.`,
          'invalid_body',
        );
      if (!Array.isArray(m?.content)) return;
      m.content.forEach((b: { type?: unknown } | null, j) => {
        if (!BLOCK_TYPES.includes(b?.type as string)) {
          throw new HttpError(
            400,
            `messages.${i}.content.${j}.type: Input tag '${String(b?.type).slice(0, 64)}' found using 'type' does not match any of the expected tags: ${BLOCK_TYPES.map((t) => `'${t}'`).join(', ')}`,
            'invalid_body',
          );
        }
      });
    });
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    // Anthropic's spelling of a path: messages.0.content, not messages[0].content.
    const path = i.path.map(String).join('.') || 'body';
    const msg = i.code === 'invalid_type' && i.input === undefined ? 'Field required' : i.message;
    throw new HttpError(400, `${path}: ${msg}`, 'invalid_body');
  }
  const body = r.data as Json;
  (body.messages as Array<{ content: unknown }>).forEach((m, i, all) => {
    if (m.content === '' || (Array.isArray(m.content) && m.content.length === 0 && i < all.length - 1)) {
      throw new HttpError(
        400,
        `messages.${i}: all messages must have non-empty content except for the optional final assistant message`,
        'invalid_body',
      );
    }
  });
  return body;
}

// ---- errors in Anthropic's shape ----

const ANTHROPIC_TYPES = new Set([
  'invalid_request_error',
  'authentication_error',
  'billing_error',
  'permission_error',
  'not_found_error',
  'request_too_large',
  'rate_limit_error',
  'api_error',
  'timeout_error',
  'overloaded_error',
]);
const typeByStatus: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  405: 'invalid_request_error',
  408: 'timeout_error',
  413: 'request_too_large',
  415: 'invalid_request_error',
  429: 'rate_limit_error',
  503: 'overloaded_error',
  504: 'timeout_error',
};

/** Anthropic's error type for a status; our own types for what Anthropic has none of (412 budget, 446 guardrail). */
export function anthropicErrorType(status: number, given: unknown): string {
  if (typeof given === 'string' && ANTHROPIC_TYPES.has(given)) return given;
  if (typeByStatus[status]) return typeByStatus[status];
  if (status >= 500) return 'api_error';
  return typeof given === 'string' && given !== '' ? given : 'api_error';
}

/** Our error body ({error: {message, type, code, status, attempts}, …}) in Anthropic's shape, attempts kept. */
export function toAnthropicError(status: number, body: Json | undefined): Json {
  const { error, ...rest } = body ?? {};
  const e = (error ?? {}) as Json;
  return {
    type: 'error',
    error: {
      type: anthropicErrorType(status, e.type),
      message: String(e.message ?? `request failed with status ${status}`),
      code: e.code ?? null,
      attempts: e.attempts ?? [],
    },
    ...rest,
  };
}

// ---- the event stream ----

/** Writes the chunks' Anthropic SSE frames as they are; a broken stream ends with Anthropic's error
 *  event. The response head and the closed check are the OpenAI sink's. */
export class MessagesSink extends SseSink {
  override write(chunk: Json): Promise<void> {
    const frames = chunk[SSE_FRAMES];
    if (typeof frames !== 'string' || frames === '') return Promise.resolve();
    return this.enqueue(frames);
  }

  override end(): void {
    if (!this.closed) this.res.end(this.take());
  }

  override fail(error: Json): void {
    if (this.closed) return;
    const status = Number((error.error as Json | undefined)?.status) || 500;
    const e = toAnthropicError(status, error);
    this.res.end(`${this.take()}event: error\ndata: ${JSON.stringify(e)}\n\n`);
  }
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}

export const messagesWire: RouteWire = {
  parse(raw, req) {
    const native = parseMessagesBody(raw);
    const problems: string[] = [];
    const internal = messagesToChat(native, problems);
    const m: MessagesRequest = {
      native,
      internal,
      version: headerValue(req.headers['anthropic-version']),
      beta: headerValue(req.headers['anthropic-beta']),
      problem: problems[0],
    };
    markMessagesRequest(m);
    return { body: internal, stream: native.stream === true, includeUsage: false, adapt: (a) => messagesAdapter(a, m) };
  },
  sink: (res, headers) => new MessagesSink(res, headers),
  answer: (status, body) => (status >= 400 ? toAnthropicError(status, body) : body),
  error: (err) => ({
    type: 'error',
    error: { type: anthropicErrorType(err.status, err.type), message: err.message, code: err.code, attempts: [] },
  }),
};

/** count_tokens: the same body without max_tokens, answered by an Anthropic target as it is. */
export const countTokensWire: RouteWire = {
  ...messagesWire,
  parse(raw, req) {
    const native = parseMessagesBody(raw, CountTokensBody);
    const internal = messagesToChat(native);
    const m: MessagesRequest = {
      native,
      internal,
      version: headerValue(req.headers['anthropic-version']),
      beta: headerValue(req.headers['anthropic-beta']),
    };
    return { body: internal, stream: false, includeUsage: false, adapt: (a) => countTokensAdapter(a, m) };
  },
};

export function countTokensHandler(sc: Sidecar) {
  return serveRequest(sc, 'chat', '/v1/messages/count_tokens', countTokensWire);
}

export function messagesHandler(sc: Sidecar) {
  return serveRequest(sc, 'chat', '/v1/messages', messagesWire);
}
