// Fake Anthropic Messages API: POST /v1/messages (+ /v1/messages/count_tokens, GET /v1/models).
import {
  anthropicError,
  anthropicFault,
  anthropicHeaders,
  anthropicPrecheck,
  anthropicStreamError,
} from './anthropic-errors.js';
import { countTokensReply, messages } from './anthropic-messages.js';
import type { Reply } from './faults.js';
import {
  startFakeServer,
  type FakeOptions,
  type FakeServer,
  type ProviderImpl,
  type RecordedRequest,
} from './server.js';

export const ANTHROPIC_MODELS = [
  'claude-opus-4-1',
  'claude-sonnet-4-6',
  'claude-sonnet-4-5',
  'claude-haiku-4-5',
  'claude-3-5-haiku-latest',
];

const NOT_JSON = anthropicError(
  400,
  'invalid_request_error',
  'There was an issue with the request body: it is not valid JSON.',
);

export function startFakeAnthropic(opts: FakeOptions = {}): Promise<FakeServer> {
  // Prompt-cache prefixes this fake has seen (cache_creation on first sight, cache_read after).
  const seen = new Set<string>();

  const route = (req: RecordedRequest): Reply => {
    const q = req.path.indexOf('?');
    const path = q < 0 ? req.path : req.path.slice(0, q);
    if (req.method === 'POST' && (path === '/v1/messages' || path === '/v1/messages/count_tokens')) {
      if (typeof req.body !== 'object' || req.body === null) return NOT_JSON;
      return path === '/v1/messages' ? messages(req.body, seen) : countTokensReply(req.body);
    }
    if (req.method === 'GET' && path === '/v1/models') {
      const data = ANTHROPIC_MODELS.map((id) => ({
        type: 'model',
        id,
        display_name: id,
        created_at: '2025-01-01T00:00:00Z',
      }));
      return { status: 200, json: { data, has_more: false, first_id: data[0].id, last_id: data[data.length - 1].id } };
    }
    return anthropicError(404, 'not_found_error', 'Not Found');
  };

  const impl: ProviderImpl = {
    precheck: (_rec, raw) => anthropicPrecheck(raw, opts.apiKey),
    handle: route,
    faultReply: (fault) => anthropicFault(fault),
    malformedFrame:
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel\n\n',
    malformedBody: '{"id":"msg_broken","type":"message","role":"assistant","content":[{"type":"text","text":"Hel',
    streamErrorFrame: anthropicStreamError,
    commonHeaders: anthropicHeaders,
    onReset: () => seen.clear(),
  };
  return startFakeServer(impl, opts);
}

export type { FakeServer, Fault, RecordedRequest } from './server.js';
