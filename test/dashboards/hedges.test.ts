// "Hedges and ejections" (overview) and migration 015's Hedge column, on the real engine: request
// spans shaped like a hedged race (the primary cancelled, the hedge answering) and request spans
// carrying switchyard.ejection events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL, type VariableState } from '../../src/dashboards/macros.js';
import { parseJsonEachRow } from '../../src/store/embedded.js';
import type { OtelTraceRow, SpanStore } from '../../src/store/types.js';
import { requestSpans } from '../store/spans.js';
import { num, readJson, runPanel, tempStore } from './helpers.js';

const overview = readJson('dashboards/llm-overview.json');
let store: SpanStore;
let cleanup: () => Promise<void>;
const MIN = 60_000;
const T0 = Math.floor(Date.now() / MIN) * MIN - 30 * MIN;

/** A hedged request: attempt 0 cut off (cancelled), attempt 1 a hedge that answered. */
function hedged(atMs: number, serviceName: string, hedgeWins = true): OtelTraceRow[] {
  const rows = requestSpans({
    atMs,
    serviceName,
    attempts: [
      { provider: 'openai', model: 'gpt-4o', durationMs: 900, outcome: hedgeWins ? 'cancelled' : 'ok', status: 200 },
      { provider: 'anthropic', model: 'claude', durationMs: 300, outcome: hedgeWins ? 'ok' : 'cancelled', status: 200 },
    ],
  });
  const client = rows.filter((r) => r.SpanKind === 'Client');
  client[1].SpanAttributes['switchyard.hedge'] = 'true';
  return rows;
}

function ejection(atMs: number, serviceName: string, action: 'eject' | 'return'): OtelTraceRow[] {
  const rows = requestSpans({
    atMs,
    serviceName,
    attempts: [{ provider: 'openai', model: 'gpt-4o', durationMs: 50 }],
  });
  const server = rows.find((r) => r.SpanKind === 'Server')!;
  server['Events.Timestamp'] = [(BigInt(atMs) * 1_000_000n).toString()];
  server['Events.Name'] = ['switchyard.ejection'];
  server['Events.Attributes'] = [
    {
      'switchyard.ejection.action': action,
      'switchyard.ejection.target': '@slow||gpt-4o',
      'switchyard.ejection.ewma_ms': '1200',
    },
  ];
  return rows;
}

beforeAll(async () => {
  ({ store, cleanup } = await tempStore());
  const rows: OtelTraceRow[] = [];
  // Minute 1: three hedged requests (two won by the hedge), one plain request.
  rows.push(...hedged(T0 + MIN + 1000, 'checkout'), ...hedged(T0 + MIN + 2000, 'checkout'));
  rows.push(...hedged(T0 + MIN + 3000, 'checkout', false));
  rows.push(
    ...requestSpans({
      atMs: T0 + MIN + 4000,
      serviceName: 'checkout',
      attempts: [{ provider: 'openai', model: 'gpt-4o', durationMs: 40 }],
    }),
  );
  // Minute 2: an ejection on checkout, one on billing; minute 3: checkout's target returns.
  rows.push(
    ...ejection(T0 + 2 * MIN + 1000, 'checkout', 'eject'),
    ...ejection(T0 + 2 * MIN + 2000, 'billing', 'eject'),
  );
  rows.push(...ejection(T0 + 3 * MIN + 1000, 'checkout', 'return'));
  await store.insertTraces(rows);
}, 60_000);
afterAll(async () => cleanup?.());

const vars = (service: string[] | typeof ALL): Record<string, VariableState> => ({
  service: { current: service },
  provider: { current: ALL },
  model: { current: ALL },
});
const range = () => ({ from: new Date(T0), to: new Date(T0 + 10 * MIN), intervalMs: MIN });

describe('hedges in llm_attempts (migration 015)', () => {
  it('marks hedge attempts; a plain attempt is not one', async () => {
    const got = parseJsonEachRow(
      await store.query(
        `SELECT Hedge, Outcome, count() AS n FROM llm_attempts WHERE ServiceName = 'checkout' GROUP BY Hedge, Outcome ORDER BY Hedge, Outcome`,
        'JSONEachRow',
      ),
    );
    expect(got.map((r) => [r.Hedge, r.Outcome, Number(r.n)])).toEqual([
      [false, 'cancelled', 2],
      [false, 'ok', 4], // one primary that won, and the plain request; ejection requests are service checkout too
      [true, 'cancelled', 1],
      [true, 'ok', 2],
    ]);
  });
});

describe('Hedges and ejections', () => {
  it('per interval: hedges started and won, cancelled rivals, ejections and returns', async () => {
    const f = await runPanel(store, overview, 'Hedges and ejections', { ...range(), variables: vars(ALL) });
    const at = (m: number) => f.rows.find((r) => new Date(String(r.time)).getTime() === T0 + m * MIN);
    const pick = (r: Record<string, unknown> | undefined) =>
      r && [num(r.hedges), num(r.hedges_won), num(r.cancelled), num(r.ejected), num(r.returned)];
    expect(pick(at(1))).toEqual([3, 2, 3, 0, 0]);
    expect(pick(at(2))).toEqual([0, 0, 0, 2, 0]);
    expect(pick(at(3))).toEqual([0, 0, 0, 0, 1]);
  });

  it('filters by service', async () => {
    const f = await runPanel(store, overview, 'Hedges and ejections', { ...range(), variables: vars(['billing']) });
    expect(f.rows.reduce((s, r) => s + num(r.ejected)!, 0)).toBe(1);
    expect(f.rows.reduce((s, r) => s + num(r.hedges)!, 0)).toBe(0);
  });
});
