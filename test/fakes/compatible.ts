// Fakes of OpenAI-compatible providers, built on the fake OpenAI's answers plus each provider's
// documented departures: Mistral's 422 on unknown fields (stream_options, max_completion_tokens,
// seed), usage on the last chunk without stream_options; DeepSeek's prompt_cache_hit/miss fields;
// Groq's x_groq.usage; xAI's reasoning tokens counted outside completion_tokens.
import type { Reply } from './faults.js';
import { chatCompletion } from './openai-chat.js';
import { openaiAuth, openaiError, openaiFault, openaiHeaders } from './openai-errors.js';
import {
  startFakeServer,
  type FakeOptions,
  type FakeServer,
  type Fault,
  type ProviderImpl,
  type RecordedRequest,
} from './server.js';

export type Flavor = 'mistral' | 'deepseek' | 'groq' | 'xai';
/** xAI reasoning models report this many reasoning tokens, apart from completion_tokens. */
export const XAI_REASONING_TOKENS = 24;

const MISTRAL_FIELDS = new Set([
  'model',
  'messages',
  'temperature',
  'top_p',
  'max_tokens',
  'stream',
  'stop',
  'random_seed',
  'response_format',
  'tools',
  'tool_choice',
  'presence_penalty',
  'frequency_penalty',
  'n',
  'parallel_tool_calls',
  'prediction',
  'prompt_mode',
  'safe_prompt',
]);

function mistralCheck(body: Record<string, unknown>): Reply | undefined {
  const extra = Object.keys(body).find((k) => !MISTRAL_FIELDS.has(k));
  if (extra) {
    return {
      status: 422,
      json: {
        object: 'error',
        message: {
          detail: [
            {
              type: 'extra_forbidden',
              loc: ['body', extra],
              msg: 'Extra inputs are not permitted',
              input: body[extra],
            },
          ],
        },
        type: 'invalid_request_message_error',
        param: null,
        code: null,
      },
    };
  }
  const roles = (body.messages as Array<{ role: string }>).map((m) => m.role);
  if (roles.includes('developer'))
    return {
      status: 422,
      json: {
        object: 'error',
        message: {
          detail: [
            {
              type: 'literal_error',
              loc: ['body', 'messages', roles.indexOf('developer'), 'role'],
              msg: "Input should be 'system', 'user', 'assistant' or 'tool'",
            },
          ],
        },
        type: 'invalid_request_message_error',
        param: null,
        code: null,
      },
    };
  return undefined;
}

/** Rewrites one usage object into the flavor's own shape. */
interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number };
  [k: string]: unknown;
}

function flavorUsage(flavor: Flavor, u: ChatUsage | undefined, model: string): Record<string, unknown> | undefined {
  if (!u) return u;
  const cached = u.prompt_tokens_details?.cached_tokens ?? 0;
  switch (flavor) {
    case 'deepseek': {
      const { prompt_tokens_details: _d, ...rest } = u;
      return { ...rest, prompt_cache_hit_tokens: cached, prompt_cache_miss_tokens: u.prompt_tokens - cached };
    }
    case 'xai': {
      if (!/^grok-(4|3-mini)/.test(model)) return u;
      return {
        ...u,
        total_tokens: u.prompt_tokens + u.completion_tokens + XAI_REASONING_TOKENS,
        completion_tokens_details: { reasoning_tokens: XAI_REASONING_TOKENS },
      };
    }
    default:
      return u;
  }
}

function transform(flavor: Flavor, reply: Reply, body: Record<string, unknown>): Reply {
  if (reply.status >= 400) return reply;
  const model = String(body.model);
  if (!reply.sse) {
    const j = reply.json as { usage?: unknown };
    j.usage = flavorUsage(flavor, j.usage as ChatUsage | undefined, model);

    return reply;
  }
  // Without stream_options the fake OpenAI sends no usage; these providers send it anyway.
  const frames: string[] = [];
  for (const f of reply.sse) {
    if (!f.startsWith('data: {')) {
      frames.push(f);
      continue;
    }
    const c = JSON.parse(f.slice(6));
    if (c.usage) {
      if (flavor === 'groq') {
        // Groq: the usage rides in x_groq on the final chunk.
        c.x_groq = { id: 'req_fake', usage: { ...c.usage, queue_time: 0.01 } };
        delete c.usage;
      } else c.usage = flavorUsage(flavor, c.usage, model);
    }
    frames.push(`data: ${JSON.stringify(c)}\n\n`);
  }
  return { ...reply, sse: frames };
}

export function startFakeCompatible(flavor: Flavor, opts: FakeOptions = {}): Promise<FakeServer> {
  const route = (req: RecordedRequest): Reply => {
    const path = req.path.split('?')[0];
    if (req.method !== 'POST' || !/\/chat\/completions$/.test(path))
      return openaiError(404, `Invalid URL (${req.method} ${path})`, 'invalid_request_error');
    if (typeof req.body !== 'object' || req.body === null)
      return openaiError(400, 'Invalid JSON body', 'invalid_request_error');
    let body = req.body as Record<string, unknown>;
    if (flavor === 'mistral') {
      const bad = mistralCheck(body);
      if (bad) return bad;
      if (body.random_seed !== undefined) body = { ...body, seed: body.random_seed, random_seed: undefined };
      // Mistral always reports usage on the last chunk: ask the OpenAI fake for it.
      if (body.stream) body = { ...body, stream_options: { include_usage: true } };
    }
    if (flavor === 'deepseek' && body.max_completion_tokens !== undefined)
      return openaiError(400, 'Unknown parameter: max_completion_tokens', 'invalid_request_error');
    if (flavor === 'groq' && body.stream) body = { ...body, stream_options: { include_usage: true } };
    return transform(flavor, chatCompletion(body), body);
  };
  const impl: ProviderImpl = {
    precheck: (_rec, raw) => openaiAuth(raw.authorization, opts.apiKey),
    handle: route,
    faultReply: (f: Fault, req: RecordedRequest) =>
      flavor === 'mistral' && f.status === 429
        ? { status: 429, json: { message: 'Requests rate limit exceeded', request_id: 'req-fake' } }
        : openaiFault(f, req),
    malformedFrame: 'data: {"id":"x","choices":[{"delta":{"content":\n\n',
    malformedBody: '{"id":"x","choices":[',
    streamErrorFrame: (f: Fault) =>
      `data: ${JSON.stringify({ error: { message: f.message ?? 'Provider returned error', code: f.status ?? 502 } })}\n\n`,
    commonHeaders: openaiHeaders,
  };
  return startFakeServer(impl, opts);
}
