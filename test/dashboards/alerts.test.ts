// Every alert rule of rules.yaml evaluated like Grafana does (A: the ClickHouse query over the rule's
// relative time range, B: reduce last, C: threshold) on the real engine: quiet on healthy traffic,
// firing on a seeded degradation (the budget-burn rule: from 80 % of a budget, not at 70 %); and the
// gray-failure rule fires within 2 minutes of a slowdown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandQuery } from '../../src/dashboards/macros.js';
import type { FeedbackRow, OtelTraceRow, SpanStore } from '../../src/store/types.js';
import { type AlertRuleJson, type AlertRulesFile, frame, num, readYaml, spans, tempStore } from './helpers.js';

const rules = readYaml<AlertRulesFile>('deploy/grafana/provisioning/alerting/rules.yaml').groups[0].rules;
const rule = (uid: string) => rules.find((r) => r.uid === uid)!;

const MIN = 60_000;
const HEALTHY_END = Date.UTC(2026, 1, 1, 12, 0, 0);
const DEGRADED_END = Date.UTC(2026, 1, 2, 12, 0, 0);

let store: SpanStore;
let cleanup: () => Promise<void>;

interface Series {
  labels: string;
  value: number | null;
  firing: boolean;
}

/** One evaluation of a rule at `now`: one entry per label set, as Grafana's alert instances. */
async function evaluate(r: AlertRuleJson, now: number): Promise<Series[]> {
  const [a, , c] = r.data;
  const sql = expandQuery(a.model.rawSql, {
    from: new Date(now - a.relativeTimeRange.from * 1000),
    to: new Date(now),
    intervalMs: a.model.intervalMs,
    mode: 'alert',
  });
  const f = await frame(store, sql);
  const numeric = f.columns.filter((col) => /Int|Float|Decimal/.test(col.type));
  expect(numeric, `${r.uid} must return exactly one number per row`).toHaveLength(1);
  const labels = f.columns.filter((col) => col !== numeric[0]);
  const { type, params } = c.model.conditions[0].evaluator;
  return f.rows
    .map((row) => ({
      labels: labels.map((l) => `${l.name}=${row[l.name]}`).join(','),
      value: num(row[numeric[0].name]),
    }))
    .filter((s) => s.value !== null) // reduce with mode dropNN
    .map((s) => ({ ...s, firing: compare(type, s.value!, params[0]) }));
}

/** Grafana's threshold evaluators the rules use. */
function compare(type: string, value: number, threshold: number): boolean {
  if (type === 'gt') return value > threshold;
  if (type === 'lt') return value < threshold;
  if (type === 'gte') return value >= threshold;
  throw new Error(`evaluator ${type} not modelled here`);
}

/** An hour of traffic ending at `end`; when degraded, the last minutes go wrong in every way. */
function scenario(tag: string, end: number, degraded: boolean): { rows: OtelTraceRow[]; feedback: FeedbackRow[] } {
  const rows: OtelTraceRow[] = [];
  const okIds: string[] = [];
  for (let i = 0, t = end - 60 * MIN; t < end; i++, t += 2000) {
    const bad = degraded && t >= end - 5 * MIN;
    const failed = bad ? i % 10 === 0 : i % 100 === 0;
    const rescued = !failed && (bad ? i % 10 <= 3 : i % 33 === 1);
    const slow = degraded && t >= end - 150_000;
    const costUsd = degraded && t >= end - 15 * MIN ? 0.05 : 0.002;
    const openaiFails = { provider: 'openai', model: 'gpt-4o', durationMs: 50, outcome: 'http_error', status: 503 };
    const attempts = failed
      ? [
          openaiFails,
          { provider: 'anthropic', model: 'claude-sonnet', durationMs: 80, outcome: 'http_error', status: 500 },
        ]
      : rescued
        ? [openaiFails, { provider: 'anthropic', model: 'claude-sonnet', durationMs: 600, costUsd }]
        : [
            {
              provider: 'openai',
              model: 'gpt-4o',
              durationMs: slow ? 10_000 + (i % 5) * 100 : 800 + (i % 8) * 100,
              costUsd,
            },
          ];
    const id = `${tag}-${i}`;
    if (!failed && !rescued && t >= end - 25 * MIN) okIds.push(id);
    // checkout calls with a virtual key whose budget reaches 70 % (healthy) or 80 % (degraded) in the last 5 minutes
    const budgetUsage = t >= end - 5 * MIN ? (degraded ? 0.8 : 0.7) : 0.5;
    // checkout's guardrails deny 5% of its requests, half of them in the degraded last 5 minutes (only
    // the verdict attribute is seeded: the other rules' numbers stay as they were)
    const guardrailVerdict = (bad ? i % 2 === 0 : i % 20 === 0) ? 'denied' : 'passed';
    rows.push(
      ...spans({
        atMs: t,
        requestTraceId: id,
        serviceName: 'checkout',
        virtualKey: 'support-chat',
        budgetUsage,
        guardrailVerdict,
        attempts,
      }),
    );
  }
  // billing: a quiet service, which goes silent 10 minutes before the end when degraded
  for (let t = end - 60 * MIN; t < (degraded ? end - 10 * MIN : end); t += 10_000)
    rows.push(
      ...spans({
        atMs: t,
        serviceName: 'billing',
        attempts: [{ provider: 'openai', model: 'gpt-4.1', durationMs: 1000, costUsd: 0.001 }],
      }),
    );
  const negatives = degraded ? 10 : 2;
  const feedback = okIds.slice(-20).map((id, k) => ({
    Timestamp: end - 20 * MIN + k * 1000,
    TraceId: id,
    Value: k < negatives ? -5 : 7,
    Weight: 1,
    Metadata: {},
  }));
  return { rows, feedback };
}

beforeAll(async () => {
  ({ store, cleanup } = await tempStore());
  for (const s of [scenario('h', HEALTHY_END, false), scenario('d', DEGRADED_END, true)]) {
    await store.insertTraces(s.rows);
    await store.insertFeedback(s.feedback);
  }
});

afterAll(async () => cleanup?.());

// rule uid -> the label set that must fire on the degradation
const EXPECTED: Record<string, string> = {
  'switchyard-p95-latency': 'provider=openai,model=gpt-4o',
  'switchyard-error-rate': 'service=checkout',
  'switchyard-rescue-rate': 'provider=openai',
  'switchyard-cost-burn': 'service=checkout',
  'switchyard-negative-feedback': 'provider=openai,model=gpt-4o',
  'switchyard-no-data': 'service=billing',
  'switchyard-budget-burn': 'virtual_key=support-chat',
  'switchyard-guardrail-denials': 'service=checkout',
};

describe('alert rules on the real engine', () => {
  it('every rule of the file has a seeded degradation here', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(rules.map((r) => r.uid).sort());
  });

  it.each(Object.entries(EXPECTED))('%s stays quiet on healthy traffic', async (uid) => {
    const series = await evaluate(rule(uid), HEALTHY_END);
    expect(series.length, 'the query returns a value to compare').toBeGreaterThan(0);
    expect(series.filter((s) => s.firing)).toEqual([]);
  });

  it.each(Object.entries(EXPECTED))('%s fires on the degradation, for %s only', async (uid, labels) => {
    const series = await evaluate(rule(uid), DEGRADED_END);
    expect(series.filter((s) => s.firing).map((s) => s.labels)).toEqual([labels]);
  });

  it('values are the seeded ones', async () => {
    const value = async (uid: string, at: number, labels: string) =>
      (await evaluate(rule(uid), at)).find((s) => s.labels === labels)?.value;
    expect(await value('switchyard-p95-latency', HEALTHY_END, 'provider=openai,model=gpt-4o')).toBeLessThanOrEqual(
      1500,
    );
    expect(await value('switchyard-p95-latency', DEGRADED_END, 'provider=openai,model=gpt-4o')).toBeGreaterThanOrEqual(
      10_000,
    );
    expect(await value('switchyard-error-rate', DEGRADED_END, 'service=checkout')).toBeCloseTo(0.1, 2);
    expect(await value('switchyard-rescue-rate', DEGRADED_END, 'provider=openai')).toBeGreaterThan(0.25);
    expect(await value('switchyard-negative-feedback', DEGRADED_END, 'provider=openai,model=gpt-4o')).toBeCloseTo(
      0.5,
      10,
    );
    expect(await value('switchyard-negative-feedback', HEALTHY_END, 'provider=openai,model=gpt-4o')).toBeCloseTo(
      0.1,
      10,
    );
    expect(await value('switchyard-no-data', DEGRADED_END, 'service=billing')).toBe(0);
    // healthy spend: 0.002 USD every 2 s = 3.6 USD/h, less the 1% of requests that failed (no cost)
    const healthy = (await value('switchyard-cost-burn', HEALTHY_END, 'service=checkout'))!;
    expect(healthy).toBeGreaterThan(3.6 * 0.98);
    expect(healthy).toBeLessThanOrEqual(3.6);
    expect(await value('switchyard-cost-burn', DEGRADED_END, 'service=checkout')).toBeGreaterThan(60);
    expect(await value('switchyard-budget-burn', HEALTHY_END, 'virtual_key=support-chat')).toBe(0.7);
    expect(await value('switchyard-guardrail-denials', HEALTHY_END, 'service=checkout')).toBeCloseTo(0.05, 2);
    expect(await value('switchyard-guardrail-denials', DEGRADED_END, 'service=checkout')).toBeCloseTo(0.5, 2);
    expect(await value('switchyard-budget-burn', DEGRADED_END, 'virtual_key=support-chat')).toBe(0.8);
    // billing calls without a key and without a budget
    expect(await value('switchyard-budget-burn', HEALTHY_END, 'virtual_key=(no key)')).toBe(0);
  });

  it('budget burn: fires from 80 % of a budget used, not below; a budget refusal (412) counts as full', async () => {
    const r = rule('switchyard-budget-burn');
    expect(r.data[2].model.conditions[0].evaluator).toEqual({ type: 'gte', params: [0.8] });
    const at = Date.UTC(2026, 1, 4, 12, 0, 0);
    const call = (virtualKey: string | undefined, budgetUsage: number, ago: number) =>
      spans({
        atMs: at - ago,
        virtualKey,
        budgetUsage,
        attempts: [{ provider: 'openai', model: 'gpt-4o', durationMs: 500, costUsd: 0.01 }],
      });
    await store.insertTraces([
      ...call('at-80', 0.3, 4 * MIN),
      ...call('at-80', 0.8, 2 * MIN),
      ...call('at-70', 0.7, MIN),
      ...call('just-under', 0.7999, MIN),
      ...call('over', 1.05, MIN), // reservations in flight can take usage past 100 %
      ...call('was-full', 0.95, 6 * MIN), // before the 5-minute window
      ...call('was-full', 0.1, MIN), // a new budget period
      ...call(undefined, 0.85, MIN), // a config budget, no key
      ...call('locked', 0.79, 3 * MIN),
      // exhausted: refused before any attempt, no usage on the span
      ...spans({ atMs: at - MIN, virtualKey: 'locked', status: 412, attempts: [] }),
      ...spans({ atMs: at - MIN, virtualKey: 'rate-limited', status: 429, attempts: [] }),
    ]);
    const series = await evaluate(r, at);
    expect(Object.fromEntries(series.map((s) => [s.labels, [s.value, s.firing]]))).toEqual({
      'virtual_key=at-80': [0.8, true],
      'virtual_key=at-70': [0.7, false],
      'virtual_key=just-under': [0.7999, false],
      'virtual_key=over': [1.05, true],
      'virtual_key=was-full': [0.1, false],
      'virtual_key=(no key)': [0.85, true],
      'virtual_key=locked': [1, true],
      'virtual_key=rate-limited': [0, false],
    });
  });

  it('no data at all leaves the no-data rule with nothing to compare (noDataState: Alerting)', async () => {
    const r = rule('switchyard-no-data');
    expect(await evaluate(r, Date.UTC(2025, 0, 1))).toEqual([]);
    expect(r.noDataState).toBe('Alerting');
  });
});

describe('gray failure timing', () => {
  const T0 = Date.UTC(2026, 1, 3, 12, 0, 0); // the provider slows from 1 s to 10 s here
  const EXPORT_DELAY = 5000; // span export + collector batching before a span is queryable
  const seconds = (d: string) => Number(/^(\d+)s$/.exec(d)?.[1] ?? Number(/^(\d+)m$/.exec(d)![1]) * 60);

  it('fires within 2 minutes whatever the alignment of the evaluation clock', async () => {
    const r = rule('switchyard-p95-latency');
    const interval =
      seconds(readYaml<AlertRulesFile>('deploy/grafana/provisioning/alerting/rules.yaml').groups[0].interval) * 1000;

    const forMs = seconds(r.for) * 1000;
    const detections: number[] = [];
    for (const [k, offset] of [0, 7_000, 15_000, 22_000, 29_000].entries()) {
      const model = `gpt-4o-g${k}`;
      // 2 requests/s; an attempt becomes visible once it has finished and been exported
      const pending = [];
      for (let t = T0 - 4 * MIN; t < T0 + 3 * MIN; t += 500) {
        const durationMs = t < T0 ? 1000 : 10_000;
        pending.push({
          visibleAt: t + durationMs + EXPORT_DELAY,
          rows: spans({ atMs: t, attempts: [{ provider: 'openai', model, durationMs }] }),
        });
      }
      pending.sort((a, b) => a.visibleAt - b.visibleAt);
      let next = 0;
      let since: number | undefined;
      let fired: number | undefined;
      for (let now = T0 - MIN + offset; now <= T0 + 3 * MIN && fired === undefined; now += interval) {
        const batch = [];
        while (next < pending.length && pending[next].visibleAt <= now) batch.push(...pending[next++].rows);
        await store.insertTraces(batch);
        const s = (await evaluate(r, now)).find((x) => x.labels === `provider=openai,model=${model}`);
        const breach = s?.firing ?? false;
        if (now < T0) expect(breach, 'no breach before the slowdown').toBe(false);
        if (!breach) since = undefined;
        else if (since === undefined) since = now;
        if (breach && now - since! >= forMs) fired = now;
      }
      expect(fired, `offset ${offset} ms never fired`).toBeDefined();
      detections.push(fired! - T0);
    }
    console.log(`gray failure detection after the slowdown (s): ${detections.map((d) => d / 1000).join(', ')}`);
    expect(Math.max(...detections)).toBeLessThanOrEqual(120_000);
  });
});
