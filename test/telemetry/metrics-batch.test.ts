// Metrics built from one batch of records (as the export worker receives them): counters are summed
// per attribute set before reaching the SDK, and histogram attribute sets are cached, so the
// exported points must still count every attempt, under the right attributes.
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader,
  type HistogramMetricData,
  type SumMetricData,
} from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { createPipeline } from '../../src/telemetry/pipeline.js';
import type { RequestRecord } from '../../src/telemetry/records.js';

const info = (attempt: number, target: string, model: string, resendCount = 0) => ({
  op: 'chat' as const,
  attempt,
  target,
  providerSlug: 'p',
  providerName: 'openai',
  model,
  stream: false,
  serverAddress: '127.0.0.1',
  serverPort: 1,
  resendCount,
});
let n = 0;
function rec(attempts: RequestRecord['attempts'], extra: Partial<RequestRecord> = {}): RequestRecord {
  n++;
  const id = n.toString(16).padStart(32, '0');
  return {
    op: 'chat',
    route: '/v1/chat/completions',
    traceId: id,
    spanId: id.slice(16),
    start: 1000,
    end: 2000,
    switchyardTraceId: id,
    metadata: {},
    configId: 'd',
    strategy: 'fallback',
    status: 200,
    retries: 0,
    rescued: false,
    attemptCount: attempts.length,
    attempts,
    backoffs: [],
    ...extra,
  };
}
const ok = (a: number, target: string, model: string, input: number) => ({
  spanId: (++n).toString(16).padStart(16, '0'),
  info: info(a, target, model),
  start: 1000,
  end: 1500,
  result: { outcome: 'ok' as const, status: 200, usage: { input_tokens: input, output_tokens: 5 } },
});
const fail = (a: number, target: string, model: string, resend = 0) => ({
  spanId: (++n).toString(16).padStart(16, '0'),
  info: info(a, target, model, resend),
  start: 1000,
  end: 1200,
  result: { outcome: 'timeout' as const, status: 408, errorType: 'timeout' },
});

describe('metrics from one batch', () => {
  it('count every attempt, retry, fallback and rescue with their attribute sets', async () => {
    const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 3_600_000 });
    const p = createPipeline({
      spanProcessor: new SimpleSpanProcessor(new InMemorySpanExporter()),
      otlpMetrics: false,
      metricReaders: [reader],
    });
    const batch: RequestRecord[] = [];
    for (let i = 0; i < 120; i++) batch.push(rec([ok(0, '0', 'gpt-4o', 10)]));
    // 30 rescued by a fallback after a timeout, 20 answered after one retry of the same target
    for (let i = 0; i < 30; i++)
      batch.push(rec([fail(0, '0', 'gpt-4o'), ok(1, '1', 'gpt-4o-mini', 7)], { rescued: true }));
    for (let i = 0; i < 20; i++)
      batch.push(
        rec(
          [fail(0, '0', 'gpt-4o'), ok(1, '0', 'gpt-4o', 10)].map((a, j) =>
            j === 1 ? { ...a, info: { ...a.info, resendCount: 1 } } : a,
          ),
          { retries: 1 },
        ),
      );
    p.build(batch.slice(0, 100));
    p.build(batch.slice(100));
    await reader.forceFlush();
    const all = metrics
      .getMetrics()
      .at(-1)!
      .scopeMetrics.flatMap((s) => s.metrics);
    const sum = (name: string) => all.find((m) => m.descriptor.name === name) as SumMetricData;
    const points = (name: string) => sum(name).dataPoints.map((d) => ({ attrs: d.attributes, value: d.value }));

    expect(points('switchyard.attempts')).toEqual(
      expect.arrayContaining([
        {
          attrs: { 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o', 'switchyard.outcome': 'ok' },
          value: 140,
        },
        {
          attrs: {
            'gen_ai.provider.name': 'openai',
            'gen_ai.request.model': 'gpt-4o',
            'switchyard.outcome': 'timeout',
          },
          value: 50,
        },
        {
          attrs: {
            'gen_ai.provider.name': 'openai',
            'gen_ai.request.model': 'gpt-4o-mini',
            'switchyard.outcome': 'ok',
          },
          value: 30,
        },
      ]),
    );
    expect(points('switchyard.fallbacks')).toEqual([{ attrs: { 'gen_ai.provider.name': 'openai' }, value: 30 }]);
    expect(points('switchyard.retries')).toEqual([{ attrs: { 'gen_ai.provider.name': 'openai' }, value: 20 }]);
    expect(points('switchyard.rescued')).toEqual([{ attrs: {}, value: 30 }]);

    const hist = (name: string) => (all.find((m) => m.descriptor.name === name) as HistogramMetricData).dataPoints;
    const durations = hist('gen_ai.client.operation.duration');
    const timeouts = durations.find((d) => d.attributes['error.type'] === 'timeout')!;
    expect(timeouts.value.count).toBe(50);
    expect(timeouts.value.sum).toBeCloseTo(50 * 0.2, 9);
    expect(
      durations.filter((d) => d.attributes['error.type'] === undefined).reduce((s, d) => s + d.value.count, 0),
    ).toBe(170);
    const tokens = hist('gen_ai.client.token.usage');
    const input4o = tokens.find(
      (d) => d.attributes['gen_ai.token.type'] === 'input' && d.attributes['gen_ai.request.model'] === 'gpt-4o',
    )!;
    expect(input4o.value).toMatchObject({ count: 140, sum: 1400 });
    const outputAll = tokens
      .filter((d) => d.attributes['gen_ai.token.type'] === 'output')
      .reduce((s, d) => s + (d.value.sum ?? 0), 0);
    expect(outputAll).toBe(170 * 5);
    await p.shutdown();
  });
});
