// Every dashboard panel and variable query, taken from the committed JSON, expanded as Grafana would
// and run on the real engine (embedded chdb) over seeded spans: key panels return the known answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL, expandQuery, type VariableState } from '../../src/dashboards/macros.js';
import { renderPanelQuery } from '../../src/dashboards/queries.js';
import type { SpanStore } from '../../src/store/types.js';
import { type DashboardJson, frame, num, readJson, runPanel, spans, tempStore, type Frame } from './helpers.js';

const overview = readJson('dashboards/llm-overview.json');
const explorer = readJson('dashboards/llm-request-explorer.json');

const T0 = Date.UTC(2026, 1, 10, 9, 0, 0);
const from = new Date(T0);
const to = new Date(T0 + 10 * 60_000);
const MIN = 60_000;

let store: SpanStore;
let cleanup: () => Promise<void>;

const all = (): Record<string, VariableState> => ({
  service: { current: ALL },
  provider: { current: ALL },
  model: { current: ALL },
  status: { current: ALL, options: ['ok', 'rescued', 'error'] },
  user: { current: ALL },
  feature: { current: ALL },
  trace_id: { current: '' },
});
const run = (d: DashboardJson, title: string, vars: Record<string, VariableState> = {}, intervalMs = MIN) =>
  runPanel(store, d, title, { from, to, intervalMs, variables: { ...all(), ...vars } });
const col = (f: Frame, name: string) => f.rows.map((r) => r[name]);

beforeAll(async () => {
  ({ store, cleanup } = await tempStore());
  const rows = [];
  // Minute 1: 100 clean requests to openai gpt-4o, 10..1000 ms, alternating users alice/bob.
  for (let i = 1; i <= 100; i++)
    rows.push(
      ...spans({
        atMs: T0 + MIN + i * 500,
        requestTraceId: `ok-${i}`,
        metadata: { user: i % 2 ? 'alice' : 'bob', feature: 'chat' },
        attempts: [
          {
            provider: 'openai',
            model: 'gpt-4o',
            durationMs: i * 10,
            costUsd: 0.001,
            inputTokens: 100,
            outputTokens: 50,
          },
        ],
      }),
    );
  // Minute 2: 20 requests rescued (gpt-4o-mini fails twice on target 0, claude answers on target 1)...
  for (let i = 0; i < 20; i++)
    rows.push(
      ...spans({
        atMs: T0 + 2 * MIN + i * 1000,
        requestTraceId: `rescued-${i}`,
        metadata: { user: 'carol', feature: 'search' },
        targets: ['0', '0', '1'],
        attempts: [
          { provider: 'openai', model: 'gpt-4o-mini', durationMs: 50, outcome: 'http_error', status: 503 },
          { provider: 'openai', model: 'gpt-4o-mini', durationMs: 50, outcome: 'http_error', status: 503 },
          {
            provider: 'anthropic',
            model: 'claude-sonnet',
            durationMs: 400,
            ttftMs: 120,
            costUsd: 0.01,
            inputTokens: 200,
            outputTokens: 100,
          },
        ],
      }),
    );
  // ...and 5 that failed everywhere.
  for (let i = 0; i < 5; i++)
    rows.push(
      ...spans({
        atMs: T0 + 2 * MIN + 30_000 + i * 1000,
        requestTraceId: `failed-${i}`,
        metadata: { user: "o'brien", feature: 'search' },
        attempts: [
          { provider: 'openai', model: 'gpt-4o-mini', durationMs: 50, outcome: 'http_error', status: 503 },
          { provider: 'anthropic', model: 'claude-sonnet', durationMs: 80, outcome: 'http_error', status: 500 },
        ],
      }),
    );
  // Minute 3: another service, a model without a price.
  for (let i = 0; i < 10; i++)
    rows.push(
      ...spans({
        atMs: T0 + 3 * MIN + i * 1000,
        serviceName: 'billing',
        requestTraceId: `billing-${i}`,
        metadata: { user: 'dave', feature: 'invoice' },
        attempts: [{ provider: 'openai', model: 'gpt-4.1', durationMs: 2000, inputTokens: 10, outputTokens: 5 }],
      }),
    );
  await store.insertTraces(rows);
  const fb = (id: string, value: number, weight = 1) => ({
    Timestamp: T0 + 5 * MIN,
    TraceId: id,
    Value: value,
    Weight: weight,
    Metadata: { source: 'thumbs' },
  });
  await store.insertFeedback([
    fb('ok-1', 8),
    fb('ok-2', 6),
    fb('ok-3', -4),
    fb('ok-4', 10),
    fb('rescued-0', -6),
    fb('rescued-1', -2, 0.5),
  ]);
});

afterAll(async () => cleanup?.());

describe('LLM overview', () => {
  it('summary stats: requests, error rate, rescues, attempts, cost', async () => {
    const [s] = (await run(overview, 'Requests')).rows;
    expect(num(s.requests)).toBe(135);
    expect(num(s.error_rate)).toBeCloseTo(5 / 135, 10);
    expect(num(s.rescued)).toBe(20);
    expect(num(s.rescue_rate)).toBeCloseTo(20 / 25, 10);
    expect(num(s.attempts_per_request)).toBeCloseTo(180 / 135, 10);
    expect(num(s.cost_usd)).toBeCloseTo(0.3, 10);
    const [billing] = (await run(overview, 'Cost', { service: { current: ['billing'] } })).rows;
    expect(num(billing.requests)).toBe(10);
    expect(billing.cost_usd).toBeNull(); // unpriced reads as unknown, not 0
  });

  it('requests/s per service and interval', async () => {
    const f = await run(overview, 'Requests/s');
    const at = (t: number, svc: string) =>
      num(f.rows.find((r) => Date.parse(`${r.time}Z`) === t && r.service === svc)?.rps);
    expect(at(T0 + MIN, 'checkout')).toBeCloseTo(100 / 60, 10);
    expect(at(T0 + 2 * MIN, 'checkout')).toBeCloseTo(25 / 60, 10);
    expect(at(T0 + 3 * MIN, 'billing')).toBeCloseTo(10 / 60, 10);
    // a 5-minute interval folds them into one bucket per service
    const wide = await run(overview, 'Requests/s', {}, 5 * MIN);
    expect(wide.rows.map((r) => [r.service, num(r.rps)])).toEqual([
      ['billing', 10 / 300],
      ['checkout', 125 / 300],
    ]);
  });

  it('request and attempt error rates', async () => {
    const req = await run(overview, 'Request error rate');
    expect(req.rows.filter((r) => num(r.error_rate)! > 0).map((r) => [r.time, r.service, num(r.error_rate)])).toEqual([
      ['2026-02-10 09:02:00', 'checkout', 5 / 25],
    ]);
    const att = await run(overview, 'Attempt error rate per provider', { provider: { current: ['anthropic'] } });
    expect(att.rows.map((r) => [r.provider, num(r.attempt_error_rate)])).toEqual([['anthropic', 5 / 25]]);
  });

  it('P95 of a model matches the seeded latencies (DDSketch, within 1%)', async () => {
    const f = await run(overview, 'Attempt latency P50 / P95 / P99 per provider and model', {
      model: { current: ['gpt-4o'] },
    });
    expect(f.rows).toHaveLength(1);
    const [r] = f.rows;
    expect(r.target).toBe('openai gpt-4o');
    // 100 samples 10..1000 ms: p50 ~ 500, p95 ~ 950, p99 ~ 990
    expect(Math.abs(num(r.p95_ms)! - 950) / 950).toBeLessThan(0.02);
    expect(Math.abs(num(r.p50_ms)! - 500) / 500).toBeLessThan(0.03);
    expect(Math.abs(num(r.p99_ms)! - 990) / 990).toBeLessThan(0.02);
    // the sketch's guarantee: within 1% of the exact (interpolated) quantile
    const exact = await frame(
      store,
      `SELECT quantileExactInclusive(0.95)(DurationMs) AS p FROM llm_attempts WHERE Model = 'gpt-4o'`,
    );
    expect(Math.abs(num(r.p95_ms)! - num(exact.rows[0].p)!) / num(exact.rows[0].p)!).toBeLessThanOrEqual(0.01);
  });

  it('a day-long range with hourly buckets reads the hourly rollup, with the same answer', async () => {
    const day = { from: new Date(T0 - 24 * 3_600_000), to }; // ends mid-hour, as Grafana's now does
    const vars = { ...all(), model: { current: ['gpt-4o'] } };
    const hourly = await frame(
      store,
      renderPanelQuery('overview/latency_by_model', { ...day, intervalMs: 3_600_000, variables: vars }),
    );
    expect(hourly.rows.map((r) => r.time)).toEqual(['2026-02-10 09:00:00']);
    const minute = await run(overview, 'Attempt latency P50 / P95 / P99 per provider and model', {
      model: { current: ['gpt-4o'] },
    });
    expect(num(hourly.rows[0].p95_ms)).toBe(num(minute.rows[0].p95_ms));
    // Which table answered: with the hourly states gone, the hourly branch finds nothing.
    const sql = renderPanelQuery('overview/latency_by_model', { ...day, intervalMs: 3_600_000, variables: vars });
    expect(sql).toContain('FROM llm_latency_1h_state');
    expect(
      (
        await frame(
          store,
          sql.replace('FROM llm_latency_1h_state', 'FROM (SELECT * FROM llm_latency_1h_state WHERE 0)'),
        )
      ).rows,
    ).toEqual([]);
    // A short range keeps minute buckets whatever the interval (the report asks for one bucket).
    const short = await frame(
      store,
      renderPanelQuery('overview/latency_by_model', { from, to, intervalMs: 100 * 365 * 86_400_000, variables: vars }),
    );
    expect(num(short.rows[0].p95_ms)).toBe(num(minute.rows[0].p95_ms));
    const ttft = await frame(
      store,
      renderPanelQuery('overview/ttft_by_model', { ...day, intervalMs: 3_600_000, variables: all() }),
    );
    expect(ttft.rows.map((r) => r.target)).toEqual(['anthropic claude-sonnet']);
  });

  it('TTFT only for streaming models', async () => {
    const f = await run(overview, 'Time to first token P50 / P95 (streams)');
    expect(f.rows.map((r) => r.target)).toEqual(['anthropic claude-sonnet']);
    expect(Math.abs(num(f.rows[0].ttft_p50_ms)! - 120) / 120).toBeLessThan(0.011);
  });

  it('rescued requests, rescue rate and attempts per request', async () => {
    const resc = await run(overview, 'Rescued requests and rescue rate');
    const m2 = resc.rows.find((r) => r.time === '2026-02-10 09:02:00')!;
    expect([num(m2.rescued), num(m2.rescue_rate)]).toEqual([20, 0.8]);
    expect(resc.rows.find((r) => r.time === '2026-02-10 09:01:00')!.rescue_rate).toBeNull();
    const att = await run(overview, 'Attempts per request');
    const a2 = att.rows.find((r) => r.time === '2026-02-10 09:02:00')!;
    expect([num(a2.avg_attempts), num(a2.max_attempts)]).toEqual([(60 + 10) / 25, 3]);
  });

  it('retries and fallbacks per target', async () => {
    const f = await run(overview, 'Retries and fallbacks per target', { service: { current: ['checkout'] } });
    const row = (t: string, m: string) => {
      const r = f.rows.find((x) => x.target === t && x.model === m)!;
      return [num(r.attempts), num(r.failed), num(r.retries), num(r.fallbacks)];
    };
    expect(row('0', 'gpt-4o')).toEqual([100, 0, 0, 0]);
    expect(row('0', 'gpt-4o-mini')).toEqual([45, 45, 20, 0]);
    expect(row('1', 'claude-sonnet')).toEqual([25, 5, 0, 25]);
  });

  it('top failing targets, worst first, with their errors', async () => {
    const f = await run(overview, 'Top failing targets');
    expect(
      f.rows.map((r) => [r.provider, r.model, r.target, num(r.failures), num(r.failure_rate), r.top_errors]),
    ).toEqual([
      ['openai', 'gpt-4o-mini', '0', 45, 1, '503'],
      ['anthropic', 'claude-sonnet', '1', 5, 0.2, '500'],
    ]);
  });

  it('tokens and cost per model, cost per user and feature', async () => {
    const tok = await run(overview, 'Tokens per model', {}, 10 * MIN);
    expect(tok.rows.map((r) => [r.model, num(r.input_tokens), num(r.output_tokens)])).toEqual([
      ['claude-sonnet', 4000, 2000],
      ['gpt-4.1', 100, 50],
      ['gpt-4o', 10000, 5000],
    ]);
    const cost = await run(overview, 'Cost per model', {}, 10 * MIN);
    expect(cost.rows.map((r) => [r.model, r.cost_usd === null ? null : Number(num(r.cost_usd)!.toFixed(6))])).toEqual([
      ['claude-sonnet', 0.2],
      ['gpt-4.1', null],
      ['gpt-4o', 0.1],
    ]);
    const users = await run(overview, 'Cost per user and feature');
    expect(
      users.rows.map((r) => [
        r.metadata_user,
        r.metadata_feature,
        num(r.requests),
        num(r.unpriced_requests),
        r.cost_usd === null ? null : Number(num(r.cost_usd)!.toFixed(6)),
      ]),
    ).toEqual([
      ['carol', 'search', 20, 0, 0.2],
      ['alice', 'chat', 50, 0, 0.05],
      ['bob', 'chat', 50, 0, 0.05],
      ['dave', 'invoice', 10, 10, null],
      ["o'brien", 'search', 5, 5, null],
    ]);
  });

  it('feedback score per model', async () => {
    const f = await run(overview, 'Feedback score per model');
    expect(
      f.rows.map((r) => [
        r.model,
        num(r.feedback),
        num(r.mean_score),
        Number(num(r.weighted_score)!.toFixed(4)),
        num(r.negative_share),
      ]),
    ).toEqual([
      ['claude-sonnet', 2, -4, -4.6667, 1],
      ['gpt-4o', 4, 5, 5, 0.25],
    ]);
  });

  it('variable queries list what the filters can select', async () => {
    const v = async (name: string, vars: Record<string, VariableState> = {}) => {
      const q = overview.templating.list.find((x) => x.name === name)!.query.rawSql;

      const f = await frame(store, expandQuery(q, { from, to, variables: { ...all(), ...vars } }));
      return f.rows.map((r) => Object.values(r)[0]);
    };
    expect(await v('service')).toEqual(['billing', 'checkout']);
    expect(await v('provider')).toEqual(['anthropic', 'openai']);
    expect(await v('model', { provider: { current: ['anthropic'] } })).toEqual(['claude-sonnet']);
    expect(await v('model', { service: { current: 'billing' } })).toEqual(['gpt-4.1']);
  });
});

describe('LLM request explorer', () => {
  it('filters requests by metadata user (quotes included), feature, status and model', async () => {
    const users = await run(explorer, 'Requests', { user: { current: ['alice'] } });
    expect(users.rows).toHaveLength(50);
    expect(new Set(col(users, 'metadata_user'))).toEqual(new Set(['alice']));
    const quoted = await run(explorer, 'Requests', { user: { current: ["o'brien"] } });
    expect(col(quoted, 'status')).toEqual(Array(5).fill('error'));
    const statuses = await run(explorer, 'Requests', { status: { current: ['rescued', 'error'] } });
    expect(statuses.rows).toHaveLength(25);
    const search = await run(explorer, 'Requests', {
      feature: { current: 'search' },
      status: { current: ['rescued'] },
    });
    expect(search.rows).toHaveLength(20);
    const models = await run(explorer, 'Requests', { model: { current: ['gpt-4o', 'gpt-4.1'] } });
    expect(models.rows).toHaveLength(110);
    // newest first
    const times = col(models, 'time') as string[];
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('a trace id selects one request, its attempts in order, its trace and its feedback', async () => {
    const vars = { trace_id: { current: 'rescued-0' } };
    const req = await run(explorer, 'Requests', vars);
    expect(req.rows.map((r) => [r.request_trace_id, r.status, num(r.attempts), r.provider, r.model])).toEqual([
      ['rescued-0', 'rescued', 3, 'anthropic', 'claude-sonnet'],
    ]);
    const att = await run(explorer, 'Attempts', vars);
    expect(att.rows.map((r) => [num(r.attempt), r.target, r.model, r.outcome, num(r.http_status)])).toEqual([
      [0, '0', 'gpt-4o-mini', 'http_error', 503],
      [1, '0', 'gpt-4o-mini', 'http_error', 503],
      [2, '1', 'claude-sonnet', 'ok', 200],
    ]);
    // the W3C trace id finds the same request
    const byW3c = await run(explorer, 'Attempts', { trace_id: { current: req.rows[0].trace_id as string } });
    expect(byW3c.rows).toHaveLength(3);

    const trace = await run(explorer, 'Trace', vars);
    expect(trace.columns.map((c) => c.name)).toEqual([
      'traceID',
      'spanID',
      'parentSpanID',
      'serviceName',
      'operationName',
      'startTime',
      'duration',
      'tags',
      'serviceTags',
      'statusCode',
    ]);
    expect(trace.rows).toHaveLength(4);
    const [server, ...clients] = trace.rows;
    expect(server.parentSpanID).toBe('');
    expect(clients.every((c) => c.parentSpanID === server.spanID)).toBe(true);
    expect(clients.map((c) => [c.operationName, num(c.statusCode)])).toEqual([
      ['chat gpt-4o-mini', 2],
      ['chat gpt-4o-mini', 2],
      ['chat claude-sonnet', 0],
    ]);
    expect(num(clients[2].duration)).toBeCloseTo(400, 6);
    expect(clients[2].tags).toContainEqual({ key: 'gen_ai.provider.name', value: 'anthropic' });

    const fb = await run(explorer, 'Feedback', vars);
    expect(fb.rows.map((r) => [r.request_trace_id, num(r.value), r.metadata])).toEqual([
      ['rescued-0', -6, '{"source":"thumbs"}'],
    ]);
  });

  it('with no trace id: the latest attempts grouped by request, and no trace', async () => {
    const att = await run(explorer, 'Attempts', { service: { current: ['checkout'] } });
    expect(att.rows[0]).toMatchObject({ request_trace_id: 'failed-4', attempt: 0 });
    expect(att.rows[1]).toMatchObject({ request_trace_id: 'failed-4', attempt: 1 });
    expect((await run(explorer, 'Trace')).rows).toHaveLength(0);
    expect((await run(explorer, 'Feedback')).rows).toHaveLength(6);
  });
});

describe('switchyard report reuse', () => {
  it('renderPanelQuery gives the same answer as the panel with every filter at All', async () => {
    const viaReport = await frame(store, renderPanelQuery('overview/summary', { from, to }));
    const viaPanel = await run(overview, 'Requests');
    expect(viaReport.rows).toEqual(viaPanel.rows);
    const latency = await frame(
      store,
      renderPanelQuery('overview/latency_by_model', {
        from,
        to,
        intervalMs: 10 * MIN,
        variables: { model: { current: ['gpt-4o'] } },
      }),
    );
    expect(latency.rows.map((r) => r.target)).toEqual(['openai gpt-4o']);
    expect(() => renderPanelQuery('../etc/passwd', { from, to })).toThrow(/invalid query name/);
  });
});
