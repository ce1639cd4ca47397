// The bounded processor counts only what its batch processor will export: spans a sampler
// recorded without sampling them (RECORD) are not exported and must not fill the queue bound.
import { SamplingDecision } from '@opentelemetry/api';
import { InMemorySpanExporter, type Sampler } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { createPipeline } from '../../src/telemetry/pipeline.js';
import { request } from './record-fixtures.js';

describe('bounded processor', () => {
  it('recorded, unsampled spans are neither exported nor counted against the queue bound', async () => {
    let sampled = false;
    const sampler: Sampler = {
      shouldSample: () => ({ decision: sampled ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.RECORD }),
      toString: () => 'switch',
    };
    const exporter = new InMemorySpanExporter();
    const pipeline = createPipeline({ spanExporter: exporter, maxQueueSize: 4, otlpMetrics: false, env: {}, sampler });
    pipeline.build([1, 2, 3, 4].map((n) => request(n)));
    await pipeline.flush();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    sampled = true;
    pipeline.build([5, 6].map((n) => request(n)));
    await pipeline.flush();
    // Before: the 8 unsampled spans stayed "pending" and these 4 were dropped as over the bound.
    expect(exporter.getFinishedSpans()).toHaveLength(4);
    await pipeline.shutdown();
  });
});
