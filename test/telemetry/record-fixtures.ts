// Request records shared by the telemetry tests: the codec's full and minimal records (every
// field set; the smallest the recorder makes) and the writer's kinds of request (errors,
// backoffs, events, metadata, hedge attributes, a remote parent with tracestate, non-ASCII,
// numbers past 2^53, a > 16 KiB attribute).
import type { Usage } from '../../src/providers/types.js';
import type { AttemptEnd, AttemptInfo } from '../../src/routing/observer.js';
import type {
  AnsweredRecord,
  AttemptSpanRecord,
  BackoffRecord,
  ParentRecord,
  RequestRecord,
} from '../../src/telemetry/records.js';

// Every field required: a field added to records.ts fails to compile here until the codec and
// this fixture carry it.
type Full<T> = { [K in keyof T]-?: T[K] };
const usage: Full<Usage> = {
  input_tokens: 1200,
  output_tokens: 300,
  cache_read_tokens: 1000,
  cache_write_tokens: 50,
  reasoning_tokens: 120,
};
export const info: Full<Omit<AttemptInfo, 'body'>> = {
  op: 'chat',
  attempt: 1,
  target: '1.0',
  providerSlug: 'anthropic-prod',
  providerName: 'anthropic',
  model: 'claude-sonnet-4-6',
  stream: true,
  serverAddress: 'api.anthropic.com',
  serverPort: 443,
  resendCount: 2,
  hedge: true,
};
const result: Full<Omit<AttemptEnd, 'output'>> = {
  outcome: 'stream_cut',
  status: 200,
  usage,
  responseModel: 'claude-sonnet-4-6-20260101',
  responseId: 'msg_01',
  finishReasons: ['end_turn', 'x'],
  ttftMs: 231.5,
  errorType: 'stream_cut',
  errorMessage: 'upstream closed "mid-stream"\n',
};
const fullAttempt: Full<AttemptSpanRecord> = {
  spanId: 'b7ad6b7169203331',
  info,
  start: 1_700_000_000_000.25,
  end: 1_700_000_000_900.5,
  firstChunk: { time: 1_700_000_000_231.75, ttftMs: 231.5 },
  result,
  input: '[{"role":"user"}]',
  output: '[{"role":"assistant"}]',
};
const parent: Full<ParentRecord> = { spanId: '00f067aa0ba902b7', traceFlags: 1, traceState: 'rojo=00f067aa0ba902b7' };
const answered: Full<AnsweredRecord> = {
  providerName: 'openai',
  model: 'gpt-4o',
  target: '0',
  responseModel: 'gpt-4o-2024-08-06',
};
const backoff: Full<BackoffRecord> = { time: 1_700_000_000_500, waitMs: 180.5, afterAttempt: 0, reason: 'retry_after' };
export const full: Full<RequestRecord> = {
  op: 'chat',
  route: '/v1/chat/completions',
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b8',
  parent,
  start: 1_700_000_000_000,
  end: 1_700_000_001_000.125,
  switchyardTraceId: 'my trace ✓',
  metadata: { user: 'alice', feature: 'search' },
  configId: 'default',
  strategy: 'fallback',
  status: 502,
  errorType: 'connect_error',
  streamError: 'stream_cut',
  retries: 2,
  rescued: true,
  answered,
  attemptCount: 3,
  attempts: [
    fullAttempt,
    {
      spanId: 'c7ad6b7169203331',
      info: { ...info, attempt: 0, resendCount: 0, stream: false },
      start: 1_700_000_000_001,
    },
  ],
  backoffs: [backoff, { ...backoff, reason: 'backoff' }],
  attributes: {
    'switchyard.virtual_key': 'support-chat',
    'switchyard.budget.reserved_usd': 0.0125,
    'switchyard.policy.fail_open': true,
  },
  events: [
    {
      name: 'switchyard.guardrail',
      time: 1_700_000_000_000.5,
      attributes: {
        'switchyard.guardrail.check': 'default.contains',
        'switchyard.guardrail.verdict': 'fail',
        'switchyard.guardrail.duration_ms': 0.02,
      },
    },
    { name: 'switchyard.guardrail', time: 1_700_000_000_001, attributes: {} },
  ],
};
// The smallest record the recorder makes: no parent, no answer, no attempts, optional fields absent.
export const minimal: RequestRecord = {
  op: 'embeddings',
  route: '/v1/embeddings',
  traceId: 'a'.repeat(32),
  spanId: 'b'.repeat(16),
  start: 1,
  end: 2,
  switchyardTraceId: 'a'.repeat(32),
  metadata: {},
  configId: 'd',
  strategy: 'single',
  status: 400,
  retries: 0,
  rescued: false,
  attemptCount: 0,
  attempts: [],
  backoffs: [],
};
export const okAttempt: RequestRecord = {
  ...minimal,
  status: 200,
  attemptCount: 1,
  attempts: [{ spanId: 'c'.repeat(16), info, start: 3, end: 4, result: { outcome: 'ok', status: 200 } }],
};

export const T0 = 1_767_000_000_123.456; // epoch ms with a fraction, as the request path records
export const hex = (n: number, seed: number) =>
  Array.from({ length: n }, (_, i) => ((seed * 7 + i * 13) % 16).toString(16)).join('');

export function attempt(i: number, over: Partial<AttemptSpanRecord> = {}): AttemptSpanRecord {
  return {
    spanId: hex(16, 100 + i),
    info: {
      op: 'chat',
      attempt: i,
      target: String(i),
      providerSlug: 'up',
      providerName: 'openai',
      model: 'gpt-4o',
      stream: false,
      serverAddress: '127.0.0.1',
      serverPort: 40000,
      resendCount: 0,
    },
    start: T0 + 0.1 + i,
    end: T0 + 1.1 + i,
    result: {
      outcome: 'ok',
      status: 200,
      usage: { input_tokens: 12, output_tokens: 30 },
      responseModel: 'gpt-4o-2024-08-06',
      responseId: 'chatcmpl-abc123',
      finishReasons: ['stop'],
    },
    ...over,
  };
}

export function request(n: number, over: Partial<RequestRecord> = {}): RequestRecord {
  const traceId = hex(32, n);
  return {
    op: 'chat',
    route: '/v1/chat/completions',
    traceId,
    spanId: hex(16, n + 50),
    start: T0,
    end: T0 + 1.2,
    switchyardTraceId: traceId,
    metadata: {},
    configId: 'd',
    strategy: 'single',
    status: 200,
    retries: 0,
    rescued: false,
    attemptCount: 1,
    answered: { providerName: 'openai', model: 'gpt-4o', target: '0', responseModel: 'gpt-4o-2024-08-06' },
    attempts: [attempt(0)],
    backoffs: [],
    ...over,
  };
}

export const longText = `[{"role":"user","content":"${'Grüße, 世界 🌍 '.repeat(1500)}"}]`; // > 16 KiB: 3-byte lengths

export const records: RequestRecord[] = [
  request(1),
  // Retry then fallback, both failed attempts in error with messages, backoff events, hedge
  // attributes and metadata (non-ASCII), a remote parent with tracestate.
  request(2, {
    status: 503,
    errorType: 'upstream_5xx',
    retries: 1,
    rescued: false,
    attemptCount: 3,
    strategy: 'fallback',
    parent: { spanId: hex(16, 9), traceFlags: 1, traceState: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE' },
    metadata: { user: 'ü-1', feature: '', team: '検索' },
    attributes: {
      'switchyard.hedge.won': true,
      'switchyard.hedge.throttled': 2,
      'switchyard.cache_status': 'MISS',
      'x.big': 2 ** 60,
      'x.max_safe': Number.MAX_SAFE_INTEGER,
      'x.negative': -12345678901,
      'x.min_int64': -(2 ** 63),
      'x.too_big': 2 ** 64,
      'x.double': 0.1,
      'x.nan': Number.NaN,
      'x.inf': Number.NEGATIVE_INFINITY,
      'x.empty': '',
      'x.bool': false,
    },
    events: [
      { name: 'switchyard.guardrail', time: T0 + 0.05, attributes: { 'switchyard.guardrail.verdict': 'pass', n: 3 } },
      { name: 'switchyard.ejection', time: T0 + 0.5, attributes: { 'switchyard.ejection.action': 'eject' } },
    ],
    backoffs: [{ time: T0 + 0.4, waitMs: 5, afterAttempt: 0, reason: 'backoff' }],
    attempts: [
      attempt(0, {
        result: { outcome: 'http_error', status: 503, errorType: 'upstream_5xx', errorMessage: 'überlastet: 503 ✗' },
      }),
      attempt(1, {
        info: { ...attempt(1).info, resendCount: 1, hedge: true, stream: true },
        firstChunk: { time: T0 + 1.3, ttftMs: 201.25 },
        result: {
          outcome: 'stream_cut',
          status: 200,
          usage: { input_tokens: 2 ** 40, output_tokens: 0, cache_read_tokens: 7, reasoning_tokens: 1 },
          finishReasons: ['stop', 'length', ''],
          ttftMs: 201.25,
          errorType: 'stream_cut',
          errorMessage: '',
        },
        input: longText,
        output: '[]',
      }),
      attempt(2, { result: undefined }),
    ],
  }),
  // Never reached a provider.
  request(3, { status: 429, attemptCount: 0, attempts: [], answered: undefined, streamError: 'rate_limited' }),
];
