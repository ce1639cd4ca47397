// GenAI client metrics (spec names and bucket boundaries) plus our routing counters.
import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api';

// Boundaries from the GenAI semantic conventions' metric definitions.
export const DURATION_BUCKETS_S = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];
export const TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];

export interface GatewayMetrics {
  duration: Histogram;
  tokens: Histogram;
  ttft: Histogram;
  attempts: Counter;
  retries: Counter;
  fallbacks: Counter;
  rescued: Counter;
  policyFailOpen: Counter;
  droppedSpans: Counter;
  hedgesStarted: Counter;
  hedgesWon: Counter;
  hedgesThrottled: Counter;
  ejections: Counter;
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
    rescued: meter.createCounter('switchyard.rescued', {
      description: 'Requests answered after an earlier attempt failed',
    }),
    policyFailOpen: meter.createCounter('switchyard.policy.fail_open', {
      description:
        'Requests served unmetered because the shared state store did not answer (state.on_store_error: fail_open)',
    }),
    droppedSpans: meter.createCounter('switchyard.telemetry.dropped_spans', {
      description: 'Spans dropped because the export queue was full',
    }),
    hedgesStarted: meter.createCounter('switchyard.hedges.started', {
      description: 'Hedged attempts started (a parallel attempt after the group delay)',
    }),
    hedgesWon: meter.createCounter('switchyard.hedges.won', {
      description: 'Requests a hedged attempt answered',
    }),
    hedgesThrottled: meter.createCounter('switchyard.hedges.throttled', {
      description: 'Hedges the hedge budget refused',
    }),
    ejections: meter.createCounter('switchyard.ejections', {
      description: 'Slow targets ejected and returned (switchyard.ejection.action)',
    }),
  };
}

/**
 * Counter increments summed over one batch of requests and added once per attribute set: the
 * SDK sorts and stringifies the attributes on every add(), so per-request adds cost more than
 * the batch's few distinct sets. Sets come from MetricAttributeSets, so the same set is the same
 * object. Sums are exact; the batch is at most ~20 ms of traffic.
 */
export class CounterBatch {
  private readonly sums = new Map<Counter, Map<Attributes | undefined, number>>();

  add(counter: Counter, attributes?: Attributes): void {
    let bySet = this.sums.get(counter);
    if (!bySet) this.sums.set(counter, (bySet = new Map()));
    bySet.set(attributes, (bySet.get(attributes) ?? 0) + 1);
  }

  flush(): void {
    for (const [counter, bySet] of this.sums) for (const [attributes, n] of bySet) counter.add(n, attributes);
    this.sums.clear();
  }
}

/** The metric attribute sets of one operation, provider and model, built once (frozen). */
export interface ModelAttributeSets {
  /** gen_ai.operation.name, gen_ai.provider.name, gen_ai.request.model */
  readonly base: Attributes;
  readonly inputTokens: Attributes;
  readonly outputTokens: Attributes;
  /** provider and model (TTFT) */
  readonly ttft: Attributes;
  /** provider alone (retries, fallbacks) */
  readonly provider: Attributes;
  /** base + error.type, per error type */
  failed(errorType: string): Attributes;
  /** provider, model and switchyard.outcome, per outcome */
  outcome(outcome: string): Attributes;
}

/** Recording a point allocates nothing once a model's sets exist; bounded, as model names come from upstreams. */
export class MetricAttributeSets {
  private readonly map = new Map<string, ModelAttributeSets>();

  of(op: string, provider: string, model: string): ModelAttributeSets {
    const key = `${op}\u0000${provider}\u0000${model}`;
    let sets = this.map.get(key);
    if (!sets) {
      if (this.map.size >= 4096) this.map.clear();
      sets = modelSets(op, provider, model);
      this.map.set(key, sets);
    }
    return sets;
  }
}

function modelSets(op: string, provider: string, model: string): ModelAttributeSets {
  const f = Object.freeze;
  const base = f({ 'gen_ai.operation.name': op, 'gen_ai.provider.name': provider, 'gen_ai.request.model': model });
  // Outcomes and error types are a handful of values per model.
  const byValue = (make: (v: string) => Attributes) => {
    const m = new Map<string, Attributes>();
    return (v: string): Attributes => {
      let a = m.get(v);
      if (!a) m.set(v, (a = f(make(v))));
      return a;
    };
  };
  return {
    base,
    inputTokens: f({ ...base, 'gen_ai.token.type': 'input' }),
    outputTokens: f({ ...base, 'gen_ai.token.type': 'output' }),
    ttft: f({ 'gen_ai.provider.name': provider, 'gen_ai.request.model': model }),
    provider: f({ 'gen_ai.provider.name': provider }),
    failed: byValue((errorType) => ({ ...base, 'error.type': errorType })),
    outcome: byValue((outcome) => ({
      'gen_ai.provider.name': provider,
      'gen_ai.request.model': model,
      'switchyard.outcome': outcome,
    })),
  };
}
