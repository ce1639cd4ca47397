// Fake OpenAI API: /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models.
// Clients use `${fake.url}/v1` as their base URL.
import { z } from 'zod';
import type { Reply } from './faults.js';
import { chatCompletion } from './openai-chat.js';
import { NOT_JSON, openaiAuth, openaiError, openaiFault, openaiHeaders, openaiProblem } from './openai-errors.js';
import {
  startFakeServer,
  type FakeOptions,
  type FakeServer,
  type Fault,
  type ProviderImpl,
  type RecordedRequest,
} from './server.js';
import { applyStop, countTokens, embed, nextId, splitDeltas, truncateToTokens } from './text.js';
import { check } from './validate.js';

export { OPENAI_CACHE_MARKER, REASONING_TOKENS } from './openai-chat.js';

export const OPENAI_MODELS = [
  'gpt-4o',
  'gpt-4o-mini',
  'gpt-4.1',
  'o3-mini',
  'gpt-3.5-turbo-instruct',
  'text-embedding-3-small',
  'text-embedding-3-large',
  'text-embedding-ada-002',
];
const MODELS_CREATED = 1715367049;

const CompletionBody = z.looseObject({
  model: z.string(),
  prompt: z.union([z.string(), z.array(z.string())]),
  stream: z.boolean().nullish(),
  max_tokens: z.number().int().min(0).nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
});

const EmbeddingBody = z.looseObject({
  model: z.string(),
  input: z.union([
    z.string(),
    z.array(z.string()).min(1),
    z.array(z.number()).min(1),
    z.array(z.array(z.number())).min(1),
  ]),
  encoding_format: z.enum(['float', 'base64']).nullish(),
  dimensions: z.number().int().min(1).max(3072).nullish(),
});

function completion(body: unknown): Reply {
  const v = check(CompletionBody, body);
  if (!v.ok) return openaiProblem(v.problem);
  const b = v.value;
  const prompt = typeof b.prompt === 'string' ? b.prompt : b.prompt.join('\n');
  let text = applyStop(
    `Hello from fake-openai: ${prompt}`,
    typeof b.stop === 'string' ? [b.stop] : (b.stop ?? undefined),
  ).text;
  let finish = 'stop';
  const max = b.max_tokens ?? 16; // the legacy endpoint's default
  if (countTokens(text) > max) {
    text = truncateToTokens(text, max);
    finish = 'length';
  }
  const id = nextId('cmpl-');
  const created = Math.floor(Date.now() / 1000);
  const usage = {
    prompt_tokens: Math.max(1, countTokens(prompt)),
    completion_tokens: countTokens(text),
    total_tokens: Math.max(1, countTokens(prompt)) + countTokens(text),
  };
  if (b.stream) {
    const frames: string[] = [];
    const frame = (t: string, f: string | null) =>
      frames.push(
        `data: ${JSON.stringify({ id, object: 'text_completion', created, model: b.model, choices: [{ text: t, index: 0, logprobs: null, finish_reason: f }] })}\n\n`,
      );
    for (const d of splitDeltas(text)) frame(d, null);
    frame('', finish);
    frames.push('data: [DONE]\n\n');
    return { status: 200, sse: frames };
  }
  return {
    status: 200,
    json: {
      id,
      object: 'text_completion',
      created,
      model: b.model,
      system_fingerprint: null,
      choices: [{ text, index: 0, logprobs: null, finish_reason: finish }],
      usage,
    },
  };
}

function embeddings(body: unknown): Reply {
  const v = check(EmbeddingBody, body);
  if (!v.ok) return openaiProblem(v.problem);
  const b = v.value;
  const inputs: string[] =
    typeof b.input === 'string'
      ? [b.input]
      : (b.input as unknown[]).map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
  if (inputs.some((s) => s === ''))
    return openaiError(
      400,
      "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
      'invalid_request_error',
    );
  const dims = b.dimensions ?? (b.model.includes('large') ? 3072 : 1536);
  const base64 = b.encoding_format === 'base64';
  let tokens = 0;
  const data = inputs.map((s, index) => {
    tokens += countTokens(s);
    const vec = embed(s, dims);
    return {
      object: 'embedding',
      index,
      embedding: base64 ? Buffer.from(vec.buffer).toString('base64') : Array.from(vec),
    };
  });
  return {
    status: 200,
    json: { object: 'list', data, model: b.model, usage: { prompt_tokens: tokens, total_tokens: tokens } },
  };
}

function model(id: string) {
  return {
    id,
    object: 'model',
    created: MODELS_CREATED,
    owned_by: id.startsWith('text-embedding') ? 'openai-internal' : 'system',
  };
}

function route(req: RecordedRequest): Reply {
  const q = req.path.indexOf('?');
  const path = q < 0 ? req.path : req.path.slice(0, q);
  if (req.method === 'POST') {
    if (path === '/v1/chat/completions' || path === '/v1/completions' || path === '/v1/embeddings') {
      if (typeof req.body !== 'object' || req.body === null) return NOT_JSON;
      if (path === '/v1/chat/completions') return chatCompletion(req.body);
      return path === '/v1/completions' ? completion(req.body) : embeddings(req.body);
    }
  } else if (req.method === 'GET') {
    if (path === '/v1/models') return { status: 200, json: { object: 'list', data: OPENAI_MODELS.map(model) } };
    if (path.startsWith('/v1/models/')) {
      const id = decodeURIComponent(path.slice('/v1/models/'.length));
      if (OPENAI_MODELS.includes(id)) return { status: 200, json: model(id) };
      return openaiError(404, `The model '${id}' does not exist`, 'invalid_request_error', 'model', 'model_not_found');
    }
  }
  return openaiError(404, `Invalid URL (${req.method} ${path})`, 'invalid_request_error');
}

export function startFakeOpenAI(opts: FakeOptions = {}): Promise<FakeServer> {
  const impl: ProviderImpl = {
    precheck: (_rec, raw) => openaiAuth(raw.authorization, opts.apiKey),
    handle: route,
    faultReply: openaiFault,
    malformedFrame:
      'data: {"id":"chatcmpl-broken","object":"chat.completion.chunk","choices":[{"delta":{"content":\n\n',
    malformedBody:
      '{"id":"chatcmpl-broken","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hel',
    streamErrorFrame: (f: Fault) => {
      const error = {
        message: f.message ?? 'The server had an error while processing your request. Sorry about that!',
        type: f.errorType ?? 'server_error',
        param: null,
        code: null,
      };
      return `data: ${JSON.stringify({ error })}\n\n`;
    },
    commonHeaders: openaiHeaders,
  };
  return startFakeServer(impl, opts);
}

export type { FakeServer, Fault, RecordedRequest } from './server.js';
