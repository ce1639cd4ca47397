// "Spend by virtual key" (overview) on the real engine: two keys with known costs, refusals and
// keyless traffic over four days; ranges inside a day, across days (whole days read from the
// llm_spend_1d rollup, edges from llm_requests) and on midnight boundaries all give the exact sums.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL, type VariableState } from '../../src/dashboards/macros.js';
import { renderPanelQuery } from '../../src/dashboards/queries.js';
import type { SpanStore } from '../../src/store/types.js';
import type { SeedRequest } from '../store/spans.js';
import { frame, num, panelSql, readJson, runPanel, spans, tempStore, type Frame } from './helpers.js';

const overview = readJson('dashboards/llm-overview.json');
const TITLE = 'Spend by virtual key';
const H = 3_600_000;
const D1 = Date.UTC(2026, 2, 1); // 2026-03-01 00:00 UTC; four days D1..D4 of traffic
const day = (d: number) => D1 + d * 86_400_000;

let store: SpanStore;
let cleanup: () => Promise<void>;
const seeds: SeedRequest[] = [];

const all = (): Record<string, VariableState> => ({
  service: { current: ALL },
  provider: { current: ALL },
  model: { current: ALL },
});
const run = (from: number, to: number): Promise<Frame> =>
  runPanel(store, overview, TITLE, { from: new Date(from), to: new Date(to), intervalMs: 60_000, variables: all() });

beforeAll(async () => {
  ({ store, cleanup } = await tempStore());
  for (let d = 0; d < 4; d++) {
    // Both keys call at midnight, 06, 12, 18 and one second before the next midnight.
    for (const at of [0, 6 * H, 12 * H, 18 * H, 24 * H - 1000]) {
      seeds.push({
        atMs: day(d) + at,
        virtualKey: 'support-chat',
        budgetUsage: 0.1 * (d + 1),
        attempts: [
          {
            provider: 'anthropic',
            model: 'claude-sonnet',
            durationMs: 300,
            costUsd: 0.01,
            inputTokens: 100,
            outputTokens: 20,
          },
        ],
      });
      seeds.push({
        atMs: day(d) + at,
        virtualKey: 'batch-jobs',
        budgetUsage: 0.2 * (d + 1),
        attempts: [
          { provider: 'openai', model: 'gpt-4o', durationMs: 900, costUsd: 0.25, inputTokens: 1000, outputTokens: 500 },
        ],
      });
    }
    // At noon: each key refused once (budget, rate limit), an unknown key refused (401, no name),
    // and a request without a key.
    seeds.push({ atMs: day(d) + 12 * H + 1000, virtualKey: 'batch-jobs', status: 412, attempts: [] });
    seeds.push({ atMs: day(d) + 12 * H + 1000, virtualKey: 'support-chat', status: 429, attempts: [] });
    seeds.push({ atMs: day(d) + 12 * H + 1000, status: 401, attempts: [] });
    seeds.push({
      atMs: day(d) + 12 * H + 2000,
      attempts: [
        { provider: 'openai', model: 'gpt-4o', durationMs: 700, costUsd: 1, inputTokens: 10, outputTokens: 10 },
      ],
    });
  }
  // A model without a price: counts tokens and requests, adds no cost.
  seeds.push({
    atMs: day(1) + 12 * H + 3000,
    virtualKey: 'batch-jobs',
    budgetUsage: 0.1,
    attempts: [{ provider: 'local', model: 'llama', durationMs: 100, inputTokens: 10, outputTokens: 10 }],
  });
  await store.insertTraces(seeds.flatMap((s) => spans(s)));
});

afterAll(async () => cleanup?.());

interface Spend {
  virtual_key: string;
  requests: number;
  refused: number;
  cost_usd: number | null;
  input_tokens: number;
  output_tokens: number;
  peak_budget_usage: number;
}

const rowsOf = (f: Frame): Spend[] =>
  f.rows.map((r) => ({
    virtual_key: String(r.virtual_key),
    requests: num(r.requests)!,
    refused: num(r.refused)!,
    cost_usd: r.cost_usd === null ? null : Number(num(r.cost_usd)!.toFixed(9)),
    input_tokens: num(r.input_tokens)!,
    output_tokens: num(r.output_tokens)!,
    peak_budget_usage: Number(num(r.peak_budget_usage)!.toFixed(4)),
  }));

/** The answer computed from the seeds: $__timeFilter keeps from <= t <= to, at whole seconds. */
function expected(from: number, to: number): Spend[] {
  const by = new Map<string, Spend & { priced: number }>();
  for (const s of seeds.filter((x) => x.atMs >= from && x.atMs <= to)) {
    const k = s.virtualKey ?? '';
    const e = by.get(k) ?? {
      virtual_key: k,
      requests: 0,
      refused: 0,
      cost_usd: 0,
      input_tokens: 0,
      output_tokens: 0,
      peak_budget_usage: 0,
      priced: 0,
    };
    e.requests++;
    if (s.attempts.length === 0 && [401, 403, 412, 429].includes(s.status ?? 0)) e.refused++;
    for (const a of s.attempts) {
      if (a.costUsd != null) (e.cost_usd! += a.costUsd), e.priced++;
      e.input_tokens += a.inputTokens ?? 0;
      e.output_tokens += a.outputTokens ?? 0;
    }
    e.peak_budget_usage = Math.max(e.peak_budget_usage, s.budgetUsage ?? 0);
    by.set(k, e);
  }
  return [...by.values()]
    .map(({ priced, ...e }) => ({
      ...e,
      cost_usd: priced === 0 ? null : Number(e.cost_usd!.toFixed(9)),
      peak_budget_usage: Number(e.peak_budget_usage.toFixed(4)),
    }))
    .sort(
      (a, b) =>
        (b.cost_usd ?? -1) - (a.cost_usd ?? -1) ||
        b.requests - a.requests ||
        a.virtual_key.localeCompare(b.virtual_key),
    );
}

describe('Spend by virtual key', () => {
  it('cost, tokens, requests and refused per key, across days, with the known numbers', async () => {
    // D1 06:00 .. D4 18:00: D2 and D3 whole (rollup), D1 and D4 partly (requests).
    const f = await run(day(0) + 6 * H, day(3) + 18 * H);
    expect(f.columns.map((c) => c.name)).toEqual([
      'virtual_key',
      'requests',
      'refused',
      'cost_usd',
      'input_tokens',
      'output_tokens',
      'peak_budget_usage',
    ]);
    expect(rowsOf(f)).toEqual([
      // 18 calls (4 on D1, 5 on D2 and D3, 4 on D4: 18:00 is the range's end, included) + 4 refused + 1 unpriced
      {
        virtual_key: 'batch-jobs',
        requests: 23,
        refused: 4,
        cost_usd: 4.5,
        input_tokens: 18_010,
        output_tokens: 9_010,
        peak_budget_usage: 0.8,
      },
      {
        virtual_key: '',
        requests: 8,
        refused: 4,
        cost_usd: 4,
        input_tokens: 40,
        output_tokens: 40,
        peak_budget_usage: 0,
      },
      {
        virtual_key: 'support-chat',
        requests: 22,
        refused: 4,
        cost_usd: 0.18,
        input_tokens: 1_800,
        output_tokens: 360,
        peak_budget_usage: 0.4,
      },
    ]);
    // Keys and no key add up to the Cost stat of the same range.
    const [summary] = (
      await runPanel(store, overview, 'Cost', {
        from: new Date(day(0) + 6 * H),
        to: new Date(day(3) + 18 * H),
        variables: { ...all(), user: { current: ALL }, feature: { current: ALL } },
      })
    ).rows;
    expect(num(summary.cost_usd)).toBeCloseTo(4.5 + 4 + 0.18, 9);
    expect(num(summary.requests)).toBe(23 + 8 + 22);
  });

  it.each([
    ['three hours inside a day (the dashboard default)', day(1) + 10 * H, day(1) + 13 * H],
    ['midnight to midnight: two whole days, the last midnight included', day(1), day(3)],
    ['from one second past midnight', day(1) + 1000, day(3) + 1000],
    ['to one second before midnight', day(0) + 12 * H, day(2) - 1000],
    ['whole days at both ends of one partial day', day(0), day(0) + 12 * H],
    ['all four days and beyond', day(0) - 7 * 86_400_000, day(5)],
    ['an empty range before the data', day(0) - 2 * H, day(0) - H],
  ])('exact whatever the range: %s', async (_name, from, to) => {
    expect(rowsOf(await run(from, to))).toEqual(expected(from, to));
  });

  it('whole days come from the llm_spend_1d rollup, only the edges from llm_requests', async () => {
    const from = day(0) + 6 * H;
    const to = day(3) + 18 * H;
    const sql = renderPanelQuery('overview/spend_by_virtual_key', { from: new Date(from), to: new Date(to) });
    expect(sql).toContain('FROM llm_spend_1d\n');
    // Without the rollup's rows, the middle days (D2, D3) are missing: the requests side never read them.
    const edges = rowsOf(
      await frame(store, sql.replace('FROM llm_spend_1d\n', 'FROM (SELECT * FROM llm_spend_1d WHERE 0)\n')),
    );
    const chat = edges.find((r) => r.virtual_key === 'support-chat')!;
    expect(chat.requests).toBeLessThan(22);
    expect(chat.requests).toBe(
      expected(from, day(1) - 1000).find((r) => r.virtual_key === 'support-chat')!.requests +
        expected(day(3), to).find((r) => r.virtual_key === 'support-chat')!.requests,
    );
    // And the report's rendering of the same file is the panel's query.
    expect(sql).toBe(
      renderPanelQuery('overview/spend_by_virtual_key', {
        from: new Date(from),
        to: new Date(to),
        intervalMs: 100 * 365 * 86_400_000,
      }),
    );
    expect(panelSql(overview, TITLE)).not.toContain('$__conditionalAll'); // not filtered: the rollup has no service, provider, model
  });

  it('shows requests without a key as "(no key)" and formats cost and budget usage', () => {
    const panel = overview.panels.find((p) => p.title === TITLE)!;
    const override = (name: string) => panel.fieldConfig.overrides.find((o) => o.matcher.options === name)!.properties;

    expect(override('virtual_key')).toEqual([
      { id: 'mappings', value: [{ type: 'special', options: { match: 'empty', result: { text: '(no key)' } } }] },
    ]);
    expect(override('cost_usd')).toEqual([{ id: 'unit', value: 'currencyUSD' }]);
    expect(override('peak_budget_usage')).toEqual([{ id: 'unit', value: 'percentunit' }]);
  });
});
