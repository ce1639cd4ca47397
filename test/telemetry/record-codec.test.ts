import { describe, expect, it } from 'vitest';
import type { Usage } from '../../src/providers/types.js';
import type { AttemptEnd, AttemptInfo } from '../../src/routing/observer.js';
import { RecordDecoder, RecordEncoder, type EncodedBatch } from '../../src/telemetry/record-codec.js';
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
const info: Full<Omit<AttemptInfo, 'body'>> = {
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
const attempt: Full<AttemptSpanRecord> = {
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
const full: Full<RequestRecord> = {
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
    attempt,
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
const minimal: RequestRecord = {
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
const okAttempt: RequestRecord = {
  ...minimal,
  status: 200,
  attemptCount: 1,
  attempts: [{ spanId: 'c'.repeat(16), info, start: 3, end: 4, result: { outcome: 'ok', status: 200 } }],
};

/** Through the encoder, a structured clone (as postMessage does) and the decoder. */
function roundTrip(enc: RecordEncoder, dec: RecordDecoder, records: RequestRecord[]): RequestRecord[] {
  for (const r of records) enc.add(r);
  return dec.decode(structuredClone(enc.take()) as EncodedBatch);
}

describe('record codec (request thread → export worker)', () => {
  it('carries every field of a full record, and a minimal one, unchanged', () => {
    const enc = new RecordEncoder();
    const dec = new RecordDecoder();
    expect(roundTrip(enc, dec, [full, minimal, okAttempt])).toStrictEqual([full, minimal, okAttempt]);
    // Strings interned by the first batch are not sent again, and still decode.
    enc.add(full);
    const second = enc.take();
    expect(second.strings).toEqual([]);
    expect(dec.decode(structuredClone(second))).toStrictEqual([full]);
  });

  it('an attempt without a result keeps its usage-less, result-less shape', () => {
    const enc = new RecordEncoder();
    const dec = new RecordDecoder();
    const [r] = roundTrip(enc, dec, [{ ...minimal, attempts: [{ spanId: 'd'.repeat(16), info, start: 5 }] }]);
    expect(r.attempts[0]).toStrictEqual({ spanId: 'd'.repeat(16), info, start: 5 });
    const [r2] = roundTrip(enc, dec, [
      { ...minimal, attempts: [{ spanId: 'd'.repeat(16), info, start: 5, result: { outcome: 'timeout', usage: {} } }] },
    ]);
    expect(r2.attempts[0].result).toStrictEqual({ outcome: 'timeout', usage: {} });
  });

  it('starts its string table over once it is full, and the decoder follows', () => {
    const enc = new RecordEncoder();
    const dec = new RecordDecoder();
    const many = (i: number): RequestRecord => ({
      ...okAttempt,
      attempts: [{ ...okAttempt.attempts[0], result: { outcome: 'ok', responseModel: `model-${i}` } }],
    });
    let sawReset = false;
    for (let b = 0; b < 40; b++) {
      const batch = Array.from({ length: 256 }, (_, i) => many(b * 256 + i));
      for (const r of batch) enc.add(r);
      const e = enc.take();
      sawReset ||= e.reset;
      expect(dec.decode(structuredClone(e))).toStrictEqual(batch);
    }
    expect(sawReset).toBe(true);
  });
});
