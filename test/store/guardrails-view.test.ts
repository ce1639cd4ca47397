// llm_guardrails_1h on the real engine (embedded chdb): request spans carrying switchyard.guardrail
// events, as the sidecar records them, roll up into checks, failures, denials and retries per
// hour, guardrail and check; llm_requests.GuardrailVerdict reads the request span's verdict.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OtelTraceRow, SpanStore } from '../../src/store/types.js';
import { tempStore } from '../dashboards/helpers.js';
import { requestSpans } from './spans.js';

let store: SpanStore;
let cleanup: () => Promise<void>;
const H = 3_600_000;
const T0 = Date.UTC(2026, 4, 1, 10);

type Ev = {
  id: string;
  check: string;
  phase: 'input' | 'output';
  verdict: 'pass' | 'fail';
  action: string;
  ms: number;
};
function request(atMs: number, verdict: string, events: Ev[]): OtelTraceRow[] {
  const rows = requestSpans({
    atMs,
    attempts: events.some((e) => e.phase === 'output')
      ? [{ provider: 'openai', model: 'gpt-4o', durationMs: 100 }]
      : [],
    status: verdict === 'denied' ? 446 : 200,
  });
  const server = rows.find((r) => r.SpanKind === 'Server')!;
  server.SpanAttributes['switchyard.guardrails.verdict'] = verdict;
  const ns = (ms: number) => (BigInt(ms) * 1_000_000n).toString();
  server['Events.Timestamp'] = events.map(() => ns(atMs + 1));
  server['Events.Name'] = events.map(() => 'switchyard.guardrail');
  server['Events.Attributes'] = events.map((e) => ({
    'switchyard.guardrail.id': e.id,
    'switchyard.guardrail.check': e.check,
    'switchyard.guardrail.phase': e.phase,
    'switchyard.guardrail.verdict': e.verdict,
    'switchyard.guardrail.action': e.action,
    'switchyard.guardrail.duration_ms': String(e.ms),
  }));
  // Another event on the same span is not a check.
  server['Events.Timestamp'].push(ns(atMs + 2));
  server['Events.Name'].push('switchyard.backoff');
  server['Events.Attributes'].push({ 'switchyard.wait_ms': '10' });
  return rows;
}

const ssn: Omit<Ev, 'verdict'> = { id: 'output.0', check: 'regex', phase: 'output', action: 'block', ms: 0.5 };
const words: Omit<Ev, 'verdict'> = {
  id: 'output.1',
  check: 'default.wordCount',
  phase: 'output',
  action: 'retry',
  ms: 0.1,
};
const pii: Omit<Ev, 'verdict'> = { id: 'scrub', check: 'pii', phase: 'input', action: 'redact', ms: 1.5 };

beforeAll(async () => {
  ({ store, cleanup } = await tempStore());
  const rows: OtelTraceRow[] = [];
  for (let i = 0; i < 6; i++)
    rows.push(
      ...request(T0 + i * 60_000, 'passed', [
        { ...pii, verdict: 'pass' },
        { ...ssn, verdict: 'pass' },
        { ...words, verdict: 'pass' },
      ]),
    );
  rows.push(
    ...request(T0 + 10 * 60_000, 'denied', [
      { ...pii, verdict: 'pass' },
      { ...ssn, verdict: 'fail' },
      { ...words, verdict: 'pass' },
    ]),
  );
  // A retry: the first answer fails word count, the second passes (two output rounds on one span).
  rows.push(
    ...request(T0 + 20 * 60_000, 'failed', [
      { ...pii, verdict: 'fail' },
      { ...ssn, verdict: 'pass' },
      { ...words, verdict: 'fail' },
      { ...ssn, verdict: 'pass' },
      { ...words, verdict: 'pass' },
    ]),
  );
  rows.push(
    ...request(T0 + H + 60_000, 'denied', [
      { ...pii, verdict: 'pass' },
      { ...ssn, verdict: 'fail' },
      { ...words, verdict: 'pass' },
    ]),
  );
  await store.insertTraces(rows);
});
afterAll(async () => cleanup?.());

const q = async (sql: string) => JSON.parse(await store.query(sql, 'JSON')).data as Record<string, unknown>[];

describe('llm_guardrails_1h', () => {
  it('counts checks, failures, denials and retries per hour, guardrail and check', async () => {
    const rows = await q(
      `SELECT toString(Hour) AS h, Guardrail, CheckId, Phase, Action, Checks, Failures, Denials, Retries, round(AvgDurationMs, 3) AS ms FROM switchyard.llm_guardrails_1h ORDER BY Hour, Guardrail`,
    );
    expect(
      rows.map((r) => [
        r.h,
        r.Guardrail,
        r.CheckId,
        r.Phase,
        r.Action,
        Number(r.Checks),
        Number(r.Failures),
        Number(r.Denials),
        Number(r.Retries),
        Number(r.ms),
      ]),
    ).toEqual([
      ['2026-05-01 10:00:00', 'output.0', 'regex', 'output', 'block', 9, 1, 1, 0, 0.5],
      ['2026-05-01 10:00:00', 'output.1', 'default.wordCount', 'output', 'retry', 9, 1, 0, 1, 0.1],
      ['2026-05-01 10:00:00', 'scrub', 'pii', 'input', 'redact', 8, 1, 0, 0, 1.5],
      ['2026-05-01 11:00:00', 'output.0', 'regex', 'output', 'block', 1, 1, 1, 0, 0.5],
      ['2026-05-01 11:00:00', 'output.1', 'default.wordCount', 'output', 'retry', 1, 0, 0, 0, 0.1],
      ['2026-05-01 11:00:00', 'scrub', 'pii', 'input', 'redact', 1, 0, 0, 0, 1.5],
    ]);
  });

  it('llm_requests carries the request verdict', async () => {
    const rows = await q(
      `SELECT GuardrailVerdict AS v, count() AS n FROM switchyard.llm_requests GROUP BY v ORDER BY v`,
    );
    expect(rows.map((r) => [r.v, Number(r.n)])).toEqual([
      ['denied', 2],
      ['failed', 1],
      ['passed', 6],
    ]);
  });
});
