// "Guardrails by check" (overview) and the guardrails section of `switchyard report`, on the real
// engine: request spans with the switchyard.guardrail events the sidecar records, rolled up by
// llm_guardrails_1h.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL, type VariableState } from '../../src/dashboards/macros.js';
import { parseJsonEachRow } from '../../src/store/embedded.js';
import { renderReport } from '../../src/store/report.js';
import type { OtelTraceRow, SpanStore } from '../../src/store/types.js';
import { requestSpans } from '../store/spans.js';
import { num, readJson, runPanel, tempStore } from './helpers.js';

const overview = readJson('dashboards/llm-overview.json');
let store: SpanStore;
let cleanup: () => Promise<void>;
const NOW = Date.now();

type Ev = [id: string, check: string, phase: string, verdict: 'pass' | 'fail', action: string, ms: number];
function request(atMs: number, serviceName: string, events: Ev[]): OtelTraceRow[] {
  const rows = requestSpans({
    atMs,
    serviceName,
    attempts: [{ provider: 'openai', model: 'gpt-4o', durationMs: 50 }],
    guardrailVerdict: events.some((e) => e[3] === 'fail' && e[4] === 'block') ? 'denied' : 'passed',
  });
  const server = rows.find((r) => r.SpanKind === 'Server')!;
  server['Events.Timestamp'] = events.map(() => (BigInt(atMs) * 1_000_000n).toString());
  server['Events.Name'] = events.map(() => 'switchyard.guardrail');
  server['Events.Attributes'] = events.map(([id, check, phase, verdict, action, ms]) => ({
    'switchyard.guardrail.id': id,
    'switchyard.guardrail.check': check,
    'switchyard.guardrail.phase': phase,
    'switchyard.guardrail.verdict': verdict,
    'switchyard.guardrail.action': action,
    'switchyard.guardrail.duration_ms': String(ms),
  }));
  return rows;
}

beforeAll(async () => {
  ({ store, cleanup } = await tempStore());
  const rows: OtelTraceRow[] = [];
  for (let i = 0; i < 10; i++) {
    const fail = i < 3;
    rows.push(
      ...request(NOW - 10 * 60_000 + i * 1000, 'checkout', [
        ['no-secrets', 'default.contains', 'input', fail ? 'fail' : 'pass', 'block', 0.02],
        ['short', 'default.wordCount', 'output', 'pass', 'retry', 0.01],
      ]),
    );
  }
  rows.push(
    ...request(NOW - 5 * 60_000, 'billing', [['no-secrets', 'default.contains', 'input', 'pass', 'block', 0.04]]),
  );
  // Two days ago: outside the report's window.
  rows.push(...request(NOW - 2 * 86_400_000, 'checkout', [['old', 'pii', 'input', 'fail', 'block', 1]]));
  await store.insertTraces(rows);
});
afterAll(async () => cleanup?.());

const vars = (service: string[] | typeof ALL): Record<string, VariableState> => ({
  service: { current: service },
  provider: { current: ALL },
  model: { current: ALL },
});

describe('Guardrails by check', () => {
  it('checks, failures, denials and retries per guardrail and check, filtered by service', async () => {
    const range = { from: new Date(NOW - 3_600_000), to: new Date(NOW), intervalMs: 60_000 };
    const f = await runPanel(store, overview, 'Guardrails by check', { ...range, variables: vars(ALL) });
    expect(
      f.rows.map((r) => [
        r.guardrail,
        r.check_id,
        r.phase,
        r.action,
        num(r.checks),
        num(r.failures),
        num(r.denials),
        num(r.retries),
        Number(num(r.failure_share)!.toFixed(4)),
      ]),
    ).toEqual([
      ['no-secrets', 'default.contains', 'input', 'block', 11, 3, 3, 0, 0.2727],
      ['short', 'default.wordCount', 'output', 'retry', 10, 0, 0, 0, 0],
    ]);
    const billing = await runPanel(store, overview, 'Guardrails by check', { ...range, variables: vars(['billing']) });
    expect(billing.rows.map((r) => [r.guardrail, num(r.checks), num(r.failures)])).toEqual([['no-secrets', 1, 0]]);
  });

  it('switchyard report prints the same table, and none where no guardrail ran', async () => {
    const query = async (sql: string) => parseJsonEachRow(await store.query(sql));
    const text = await renderReport(query, { since: '1h' });
    const section = text.split('\nGuardrails by check\n')[1]?.split('\n\n')[0];
    expect(section, text).toBeDefined();
    const rows = section!
      .split('\n')
      .slice(2)
      .map((l) => l.split(/\s{2,}/));
    expect(rows).toEqual([
      ['no-secrets', 'default.contains', 'input', 'block', '11', '3', '3', '0', '27.3%', '0.022'],
      ['short', 'default.wordCount', 'output', 'retry', '10', '0', '0', '0', '0.0%', '0.01'],
    ]);
    expect(text).not.toContain('old');
    expect(await renderReport(async () => [], { since: '1h' })).not.toContain('Guardrails');
  });
});
