// GenAI client metrics (spec names and bucket boundaries) plus our routing counters.
import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api';

// Boundaries from the GenAI semantic conventions' metric definitions.
export const DURATION_BUCKETS_S = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
export const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

export interface GatewayMetrics {
  duration: Histogram;
  tokens: Histogram;
  ttft: Histogram;
  attempts: Counter;
  retries: Counter;
  fallbacks: Counter;
  rescued: Counter;
  droppedSpans: Counter;
}

export function createMetrics(meter: Meter): GatewayMetrics {
  return {
    duration: meter.createHistogram('gen_ai.client.operation.duration', {
      description: 'GenAI operation duration',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    }),
    tokens: meter.createHistogram('gen_ai.client.token.usage', {
      description: 'Measures number of input and output tokens used',
      unit: '{token}',
      advice: { explicitBucketBoundaries: TOKEN_BUCKETS },
    }),
    ttft: meter.createHistogram('gen_ai.client.operation.time_to_first_chunk', {
      description: 'Time to the first streamed chunk',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    }),
    attempts: meter.createCounter('switchyard.attempts', { description: 'Upstream attempts by outcome' }),
    retries: meter.createCounter('switchyard.retries', { description: 'Attempts that retried the same target' }),
    fallbacks: meter.createCounter('switchyard.fallbacks', { description: 'Attempts that moved on to another target' }),
    rescued: meter.createCounter('switchyard.rescued', { description: 'Requests answered after an earlier attempt failed' }),
    droppedSpans: meter.createCounter('switchyard.telemetry.dropped_spans', { description: 'Spans dropped because the export queue was full' }),
  };
}

/**
 * Counter increments summed over one batch of requests and added once per attribute set: the
 * SDK sorts and stringifies the attributes on every add(), so per-request adds cost more than
 * the batch's few distinct sets. Sums are exact; the batch is at most ~20 ms of traffic.
 */
export class CounterBatch {
  /** Per counter, per attribute-set key (keys are only unique within one counter). */
  private readonly sums = new Map<Counter, Map<string, { attributes: Attributes | undefined; n: number }>>();

  add(counter: Counter, key: string, attributes: () => Attributes | undefined): void {
    let byKey = this.sums.get(counter);
    if (!byKey) this.sums.set(counter, (byKey = new Map()));
    const s = byKey.get(key);
    if (s) s.n++;
    else byKey.set(key, { attributes: attributes(), n: 1 });
  }

  flush(): void {
    for (const [counter, byKey] of this.sums) for (const s of byKey.values()) counter.add(s.n, s.attributes);
    this.sums.clear();
  }
}

/** One frozen attribute object per distinct key, so recording a histogram point allocates nothing. */
export class AttributeCache {
  private readonly map = new Map<string, Attributes>();
  get(key: string, make: () => Attributes): Attributes {
    let a = this.map.get(key);
    if (!a) {
      if (this.map.size >= 4096) this.map.clear(); // bounded: model names come from upstreams
      a = Object.freeze(make());
      this.map.set(key, a);
    }
    return a;
  }
}
