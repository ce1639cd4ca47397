// Seeded sidecar-shaped spans go into otel_traces through insertTraces; the derived tables and
// dashboard views must give the exact answers computed here from the same seed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedStore, parseJsonEachRow } from '../../src/store/embedded.js';
import type { OtelTraceRow } from '../../src/store/types.js';
import { minuteFloor, prng, quantileBracket, tempDataDir, withinSketchBound } from './helpers.js';
import { requestSpans } from './spans.js';

const ALPHA = 0.01; // quantilesDD relative accuracy declared in 006_llm_latency_1m.sql

let store: EmbeddedStore;
const tmp = tempDataDir('views');
const rows = async (sql: string) => parseJsonEachRow(await store.query(sql));

// Fixed minutes two hours back, so each dataset sits in its own buckets.
const T0 = minuteFloor(Date.now()) - 2 * 3600_000;
const M1 = T0;
const M2 = T0 + 60_000;
const M3 = T0 + 10 * 60_000;

const rand = prng(42);
const latM1: number[] = [];
const latM2: number[] = [];
const ttftM1: number[] = [];

beforeAll(async () => {
  store = await EmbeddedStore.open({ dataDir: tmp.dir });
  const batch: OtelTraceRow[] = [];
  // Latency: long-tailed durations (most 100-500 ms, a tail to ~20 s), 1000 in M1 and 500 in M2.
  for (let i = 0; i < 1500; i++) {
    const d = Math.round((100 + 400 * rand() + (rand() < 0.08 ? 20_000 * rand() ** 2 : 0)) * 1000) / 1000;
    const inM1 = i < 1000;
    const stream = inM1 && i % 2 === 0;
    const ttft = stream ? Math.round(d * (0.1 + 0.3 * rand())) : undefined;
    (inM1 ? latM1 : latM2).push(d);
    if (ttft !== undefined) ttftM1.push(ttft);
    batch.push(
      ...requestSpans({
        atMs: (inM1 ? M1 : M2) + (i % 50) * 1000,
        spelling: i % 3 === 0 ? 'enum' : 'short',
        attempts: [{ provider: 'lat-prov', model: 'lat-model', durationMs: d, ttftMs: ttft, costUsd: 0.001 }],
      }),
    );
  }
  // Rescued: minute M3, ten requests, half in each spelling.
  const ok = { provider: 'res-prov', model: 'res-model', durationMs: 100 };
  const fail503 = { ...ok, outcome: 'http_error', status: 503 };
  const fail429 = { ...ok, outcome: 'http_error', status: 429 };
  const plans = [
    [ok],
    [ok],
    [ok],
    [ok],
    [ok],
    [ok],
    [fail503, ok],
    [{ ...ok, outcome: 'timeout', status: 0 }, ok], // rescued x2
    [fail503, fail503], // failed after two attempts
    [fail429], // failed, single attempt
  ];
  plans.forEach((attempts, i) => {
    batch.push(...requestSpans({ atMs: M3 + i * 1000, attempts, spelling: i % 2 ? 'enum' : 'short' }));
  });

  // Cost: known prices, one unknown price in a priced group, and a model with no price at all.
  const cost = (costUsd: number | null, user: string, model = 'cost-model', tokens = [100, 20]) =>
    requestSpans({
      atMs: M1 + 5000,
      metadata: { user, feature: 'chat', tenant: 'acme' },
      attempts: [
        { provider: 'cost-prov', model, durationMs: 50, costUsd, inputTokens: tokens[0], outputTokens: tokens[1] },
      ],
    });
  batch.push(...cost(0.01, 'u1'), ...cost(0.02, 'u1'), ...cost(0.005, 'u1'), ...cost(null, 'u1'));
  batch.push(...cost(null, 'u2', 'mystery-model', [7, 3]), ...cost(null, 'u2', 'mystery-model', [7, 3]));
  await store.insertTraces(batch);
}, 120_000);

afterAll(async () => {
  await store?.close();
  tmp.cleanup();
});

describe('llm_attempts and llm_requests', () => {
  it('map every attempt and request span, in both SpanKind spellings, and nothing else', async () => {
    const [a] = await rows(`SELECT count() AS n FROM llm_attempts WHERE Provider = 'lat-prov'`);
    expect(Number(a.n)).toBe(1500);
    const [r] = await rows(`SELECT count() AS n FROM llm_requests WHERE Provider = 'lat-prov'`);
    expect(Number(r.n)).toBe(1500);
    // A CLIENT span without gen_ai.operation.name (e.g. an HTTP call) and an INTERNAL span are not attempts.
    const [plain] = requestSpans({ atMs: M3, attempts: [] });
    const other: OtelTraceRow = {
      ...plain,
      SpanKind: 'Client',
      SpanId: 'aaaaaaaaaaaaaaaa',
      SpanAttributes: { 'http.request.method': 'GET' },
    };
    const internal: OtelTraceRow = {
      ...plain,
      SpanKind: 'Internal',
      SpanId: 'bbbbbbbbbbbbbbbb',
      SpanAttributes: { 'gen_ai.operation.name': 'chat' },
    };
    await store.insertTraces([other, internal]);
    const [after] = await rows(`SELECT count() AS n FROM llm_attempts WHERE TraceId = '${plain.TraceId}'`);
    expect(Number(after.n)).toBe(0);
  });

  it('derive the attempt columns from the span attributes', async () => {
    const spans = requestSpans({
      atMs: M3 + 30_000,
      requestTraceId: 'my-trace-1',
      attempts: [
        { provider: 'openai', model: 'gpt-4o', durationMs: 1234.5, outcome: 'http_error', status: 503 },
        {
          provider: 'anthropic',
          model: 'claude-sonnet-4-6',
          durationMs: 800,
          ttftMs: 210,
          costUsd: 0.0042,
          inputTokens: 12,
          outputTokens: 34,
        },
      ],
      metadata: { user: 'ann', feature: 'search' },
    });
    await store.insertTraces(spans);
    const got = await rows(
      `SELECT Attempt, Target, Provider, Model, Outcome, HttpStatus, Error, DurationMs, TtftMs, InputTokens, OutputTokens, CostUSD, RequestTraceId, ParentSpanId
       FROM llm_attempts WHERE TraceId = '${spans[0].TraceId}' ORDER BY Attempt`,
    );
    expect(got).toEqual([
      {
        Attempt: 0,
        Target: '0',
        Provider: 'openai',
        Model: 'gpt-4o',
        Outcome: 'http_error',
        HttpStatus: 503,
        Error: true,
        DurationMs: 1234.5,
        TtftMs: null,
        InputTokens: '0',
        OutputTokens: '0',
        CostUSD: null,
        RequestTraceId: 'my-trace-1',
        ParentSpanId: spans[0].SpanId,
      },
      {
        Attempt: 1,
        Target: '1',
        Provider: 'anthropic',
        Model: 'claude-sonnet-4-6',
        Outcome: 'ok',
        HttpStatus: 200,
        Error: false,
        DurationMs: 800,
        TtftMs: 210,
        InputTokens: '12',
        OutputTokens: '34',
        CostUSD: 0.0042,
        RequestTraceId: 'my-trace-1',
        ParentSpanId: spans[0].SpanId,
      },
    ]);
    const [req] = await rows(
      `SELECT RequestTraceId, ConfigId, Attempts, Rescued, HttpStatus, Ok, CostUSD, Provider, Model, Metadata FROM llm_requests WHERE TraceId = '${spans[0].TraceId}'`,
    );
    expect(req).toEqual({
      RequestTraceId: 'my-trace-1',
      ConfigId: 'default',
      Attempts: 2,
      Rescued: true,
      HttpStatus: 200,
      Ok: true,
      CostUSD: 0.0042,
      Provider: 'anthropic',
      Model: 'claude-sonnet-4-6',
      Metadata: { user: 'ann', feature: 'search' },
    });
  });
});

describe('llm_latency_1m', () => {
  it('gives P50/P95/P99 per minute within the sketch bound of the true quantiles, and exact counts', async () => {
    const got = await rows(
      `SELECT toUnixTimestamp(Minute) * 1000 AS m, Attempts, Errors, P50Ms, P95Ms, P99Ms, TtftP50Ms, TtftP95Ms, TtftP99Ms
       FROM llm_latency_1m WHERE Provider = 'lat-prov' AND Model = 'lat-model' ORDER BY Minute`,
    );
    expect(got.map((r) => Number(r.m))).toEqual([M1, M2]);
    const [g1, g2] = got;
    expect(Number(g1.Attempts)).toBe(1000);
    expect(Number(g2.Attempts)).toBe(500);
    expect(Number(g1.Errors)).toBe(0);
    for (const [q, col] of [
      [0.5, 'P50Ms'],
      [0.95, 'P95Ms'],
      [0.99, 'P99Ms'],
    ] as const) {
      expect(
        withinSketchBound(Number(g1[col]), quantileBracket(latM1, q), ALPHA),
        `${col} M1 ${g1[col]} vs ${quantileBracket(latM1, q)}`,
      ).toBe(true);
      expect(withinSketchBound(Number(g2[col]), quantileBracket(latM2, q), ALPHA), `${col} M2`).toBe(true);
    }
    for (const [q, col] of [
      [0.5, 'TtftP50Ms'],
      [0.95, 'TtftP95Ms'],
      [0.99, 'TtftP99Ms'],
    ] as const) {
      expect(withinSketchBound(Number(g1[col]), quantileBracket(ttftM1, q), ALPHA), col).toBe(true);
    }
    // No stream in M2: TTFT is unknown, not 0.
    expect(g2.TtftP95Ms).toBeNull();
  });

  it('merges minute states into a wider bucket that still meets the bound against all samples', async () => {
    const [r] = await rows(
      `SELECT quantilesDDMerge(0.01, 0.5, 0.95, 0.99)(DurationQuantiles) AS q, sum(Attempts) AS n
       FROM llm_latency_1m_state WHERE Provider = 'lat-prov'`,
    );
    const all = [...latM1, ...latM2];
    expect(Number(r.n)).toBe(1500);
    const q = r.q as number[];
    expect(withinSketchBound(q[1], quantileBracket(all, 0.95), ALPHA)).toBe(true);
    expect(withinSketchBound(q[2], quantileBracket(all, 0.99), ALPHA)).toBe(true);
    // The hourly rollup holds the same samples and meets the same bound.
    const [h] = await rows(
      `SELECT quantilesDDMerge(0.01, 0.5, 0.95, 0.99)(DurationQuantiles) AS q, sum(Attempts) AS n FROM llm_latency_1h_state WHERE Provider = 'lat-prov'`,
    );
    expect(Number(h.n)).toBe(1500);
    expect(withinSketchBound((h.q as number[])[1], quantileBracket(all, 0.95), ALPHA)).toBe(true);
  });
});

describe('llm_rescued_1m', () => {
  it('counts requests, failed first attempts, rescued requests and the rescue rate', async () => {
    const [r] = await rows(
      `SELECT Requests, Failed, FailedFirstAttempts, Rescued, RescueRate FROM llm_rescued_1m
       WHERE Minute = toDateTime(${M3 / 1000})`,
    );
    // The row-mapping test above adds one rescued request (two attempts) at M3+30s.
    expect(r).toEqual({ Requests: '11', Failed: '2', FailedFirstAttempts: '5', Rescued: '3', RescueRate: 0.6 });
  });
});

describe('llm_cost_1h', () => {
  it('sums known costs, keeps unknown ones out of the sum and visible, and splits by user and feature', async () => {
    const got = await rows(
      `SELECT Model, User, Feature, CostUSD, Requests, UnpricedRequests, InputTokens, OutputTokens
       FROM llm_cost_1h WHERE Provider = 'cost-prov' ORDER BY Model, User`,
    );
    expect(got).toHaveLength(2);
    const [known, unknown] = got;
    expect(known).toMatchObject({
      Model: 'cost-model',
      User: 'u1',
      Feature: 'chat',
      Requests: '4',
      UnpricedRequests: '1',
      InputTokens: '400',
      OutputTokens: '80',
    });
    expect(Number(known.CostUSD)).toBeCloseTo(0.035, 12);
    expect(unknown).toMatchObject({
      Model: 'mystery-model',
      User: 'u2',
      CostUSD: null,
      Requests: '2',
      UnpricedRequests: '2',
      InputTokens: '14',
    });
  });
});

describe('llm_feedback_scores', () => {
  const spansFor = (id: string, model: string, provider = 'fb-prov') =>
    requestSpans({ atMs: M3, requestTraceId: id, attempts: [{ provider, model, durationMs: 10 }] });
  const fb = (TraceId: string, Value: number, Weight: number) => ({
    Timestamp: Date.now(),
    TraceId,
    Value,
    Weight,
    Metadata: { source: 'test' },
  });

  it('gives count, mean and weighted mean per model and provider; unknown traces are left out', async () => {
    await store.insertTraces([...spansFor('fb-1', 'm-a'), ...spansFor('fb-2', 'm-a'), ...spansFor('fb-3', 'm-b')]);
    await store.insertFeedback([
      fb('fb-1', 8, 1),
      fb('fb-1', 4, 0.5),
      fb('fb-2', -2, 0.25),
      fb('fb-3', 10, 0),
      fb('fb-orphan', 5, 1),
    ]);
    const got = await rows(
      `SELECT Provider, Model, Count, MeanScore, WeightedScore FROM llm_feedback_scores WHERE Provider = 'fb-prov' ORDER BY Model`,
    );
    expect(got).toHaveLength(2);
    expect(got[0]).toMatchObject({ Model: 'm-a', Count: '3' });
    expect(Number(got[0].MeanScore)).toBeCloseTo(10 / 3, 12);
    expect(Number(got[0].WeightedScore)).toBeCloseTo(9.5 / 1.75, 12);
    // All weights 0: the weighted score is undefined, not 0.
    expect(got[1]).toMatchObject({ Model: 'm-b', Count: '1', MeanScore: 10, WeightedScore: null });
  });

  it('counts feedback that arrived before its spans once the spans land', async () => {
    await store.insertFeedback([fb('fb-late', 7, 1)]);
    const before = await rows(`SELECT Count FROM llm_feedback_scores WHERE Provider = 'late-prov'`);
    expect(before).toEqual([]);
    await store.insertTraces(spansFor('fb-late', 'm-late', 'late-prov'));
    const after = await rows(
      `SELECT Count, MeanScore, WeightedScore FROM llm_feedback_scores WHERE Provider = 'late-prov'`,
    );
    expect(after).toEqual([{ Count: '1', MeanScore: 7, WeightedScore: 7 }]);
  });
});
