// The OTel SDK side: tracer and meter providers, OTLP/HTTP exporters (OTEL_EXPORTER_OTLP_ENDPOINT,
// default http://127.0.0.1:4318), the standard OTEL_* variables, Kubernetes resource attributes
// from Downward-API env, and the Prometheus text for /metrics. It builds spans from request
// records; it runs in the export worker in production and in-thread when tests inject exporters.
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
  type Resource,
} from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type MetricReader } from '@opentelemetry/sdk-metrics';
import type { Sampler, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { BoundedBatchProcessor } from './bounded-processor.js';
import { CounterBatch, createMetrics, MetricAttributeSets } from './metrics.js';
import { builtinPrices, mergePrices, priceLookup, type PriceTable } from './pricing.js';
import type { RequestRecord } from './records.js';
import { machineryOf, PlainTracer } from './plain-spans.js';
import { QueuedSpanExporter, type QueueSettings } from './queued-exporter.js';
import { samplerFromEnv } from './sampler.js';
import { buildRequest, PresetIds, type BuilderDeps } from './span-builder.js';

export { SHUTDOWN_FLUSH_MS } from './worker-protocol.js';
import { SHUTDOWN_FLUSH_MS } from './worker-protocol.js';
/** Spans per OTLP export unless OTEL_BSP_MAX_EXPORT_BATCH_SIZE says otherwise: the spec's 512.
 *  With plain spans (plain-spans.ts) a span waiting for its batch costs the worker's young
 *  generation little, and the HTTP request per export is spread over 4x the spans: the export
 *  worker's CPU per request fell ~12 % against 128 (paced at 5k req/s, the production chain to a
 *  discarding receiver, 3 alternations: 38.6 -> 34.1 µs) and the collector's per span at 5k spans/s
 *  ~18 % (73 -> 60 µs; unchanged within noise at 1.5k spans/s). */
export const DEFAULT_EXPORT_BATCH = 512;

export interface PipelineOptions {
  serviceName?: string;
  pricing?: PriceTable;
  /** Tests pass an in-memory exporter or processor; production uses OTLP/HTTP. */
  spanExporter?: SpanExporter;
  spanProcessor?: SpanProcessor;
  maxQueueSize?: number;
  metricReaders?: MetricReader[];
  /** Skip the OTLP metric exporter (tests, benchmarks). */
  otlpMetrics?: boolean;
  /** Where spans wait while the receiver is slower than the sidecar (queued-exporter.ts). */
  spool?: QueueSettings;
  env?: NodeJS.ProcessEnv;
  /** 'sdk' builds spans through the SDK's Tracer and Span (tests and the bench compare the two);
   *  'plain' (plain-spans.ts) makes the same ReadableSpans without them. */
  spans?: 'plain' | 'sdk';
  /** Tests; otherwise OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG. */
  sampler?: Sampler;
}

export interface Pipeline {
  build(records: RequestRecord[]): void;
  /** Spans dropped before they reached the pipeline (the request path's queue was full). */
  countDropped(spans: number): void;
  metricsText(): Promise<{ contentType: string; body: string }>;
  flush(): Promise<void>;
  /** Flushes what is queued, bounded by SHUTDOWN_FLUSH_MS. */
  shutdown(): Promise<void>;
  setPricing(p: PriceTable | undefined): void;
}

const k8sEnv: Record<string, string> = {
  K8S_POD_NAME: 'k8s.pod.name',
  K8S_POD_UID: 'k8s.pod.uid',
  K8S_NAMESPACE_NAME: 'k8s.namespace.name',
  K8S_NODE_NAME: 'k8s.node.name',
  K8S_CONTAINER_NAME: 'k8s.container.name',
  K8S_DEPLOYMENT_NAME: 'k8s.deployment.name',
};

export function buildResource(env: NodeJS.ProcessEnv, serviceName: string): Resource {
  const k8s: Record<string, string> = {};
  for (const [name, attr] of Object.entries(k8sEnv)) if (env[name]) k8s[attr] = env[name]!;
  // Precedence: OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME over Downward-API env over defaults.
  return defaultResource()
    .merge(resourceFromAttributes({ 'service.name': serviceName, ...k8s }))
    .merge(detectResources({ detectors: [envDetector] }));
}

/**
 * `Authorization: Bearer $SWITCHYARD_COLLECTOR_TOKEN` for the collector's ingest auth. The
 * exporters merge these over OTEL_EXPORTER_OTLP_HEADERS / OTEL_EXPORTER_OTLP_<SIGNAL>_HEADERS,
 * which keep working; an Authorization header set there wins (it was written for this exporter).
 */
export function otlpAuthHeaders(
  env: NodeJS.ProcessEnv,
  signal: 'TRACES' | 'METRICS',
): Record<string, string> | undefined {
  const token = env.SWITCHYARD_COLLECTOR_TOKEN;
  if (!token) return undefined;
  const standard = `${env.OTEL_EXPORTER_OTLP_HEADERS ?? ''},${env[`OTEL_EXPORTER_OTLP_${signal}_HEADERS`] ?? ''}`;
  if (/(^|,)\s*authorization\s*=/i.test(standard)) return undefined;
  return { authorization: `Bearer ${token}` };
}

export function createPipeline(opts: PipelineOptions = {}): Pipeline {
  const env = opts.env ?? process.env;
  const resource = buildResource(env, opts.serviceName ?? 'switchyard-sidecar');
  // One reader serves both OTLP push and /metrics when temporality is cumulative: the SDK hashes
  // every attribute set once per reader on every record.
  const wantOtlp = opts.otlpMetrics !== false && !opts.metricReaders;
  const delta = (env.OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE ?? 'cumulative').toLowerCase() !== 'cumulative';
  const otlpReader = wantOtlp
    ? new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ headers: otlpAuthHeaders(env, 'METRICS') }),
        exportIntervalMillis: Number(env.OTEL_METRIC_EXPORT_INTERVAL ?? 60_000),
      })
    : undefined;
  const prom: MetricReader = otlpReader && !delta ? otlpReader : new PrometheusExporter({ preventServerStart: true });
  const readers: MetricReader[] = [
    ...new Set([prom, ...(otlpReader ? [otlpReader] : [])]),
    ...(opts.metricReaders ?? []),
  ];
  const meterProvider = new MeterProvider({ resource, readers });
  const metrics = createMetrics(meterProvider.getMeter('switchyard'));
  // http/protobuf is OTLP's default and costs less CPU than JSON; OTEL_EXPORTER_OTLP_PROTOCOL picks.
  const queued =
    opts.spanProcessor || opts.spanExporter
      ? undefined
      : new QueuedSpanExporter(env, otlpAuthHeaders(env, 'TRACES'), opts.spool ?? {}, (n) =>
          metrics.droppedSpans.add(n),
        );
  const processor =
    opts.spanProcessor ??
    new BoundedBatchProcessor(
      opts.spanExporter ?? queued!,
      opts.maxQueueSize ?? Number(env.OTEL_BSP_MAX_QUEUE_SIZE ?? 4096),
      (n) => metrics.droppedSpans.add(n),
      Number(env.OTEL_BSP_SCHEDULE_DELAY ?? 1000),
      Number(env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE ?? DEFAULT_EXPORT_BATCH),
    );
  const ids = new PresetIds();
  const tracerProvider = new NodeTracerProvider({
    resource,
    spanProcessors: [processor],
    sampler: opts.sampler ?? samplerFromEnv(env),
    idGenerator: ids,
  });
  const counters = new CounterBatch();
  // The SDK tracer stays: plain spans take its sampler, limits, resource, scope and processors.
  const sdkTracer = tracerProvider.getTracer('switchyard', '0.1.0');
  const deps: BuilderDeps = {
    tracer: opts.spans === 'sdk' ? sdkTracer : new PlainTracer(machineryOf(sdkTracer), ids),
    ids,
    metrics,
    price: priceLookup(mergePrices(builtinPrices, opts.pricing)),
    counters,
    metricAttributes: new MetricAttributeSets(),
  };
  const serializer = new PrometheusSerializer();
  return {
    build(records) {
      try {
        for (const r of records) buildRequest(deps, r);
      } finally {
        counters.flush();
      }
    },
    countDropped(spans) {
      if (spans > 0) metrics.droppedSpans.add(spans);
    },
    async metricsText() {
      const { resourceMetrics } = await prom.collect();
      return { contentType: 'text/plain; version=0.0.4; charset=utf-8', body: serializer.serialize(resourceMetrics) };
    },
    async flush() {
      await Promise.allSettled([tracerProvider.forceFlush(), meterProvider.forceFlush()]);
      // The batch processor does not wait for its exporter: wait for the queue's sends too.
      await queued?.forceFlush();
    },
    async shutdown() {
      // Flush what is queued, but never hold a terminating pod for more than ~2 s.
      const flush = Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
      await Promise.race([flush, new Promise((r) => setTimeout(r, SHUTDOWN_FLUSH_MS).unref())]);
    },
    setPricing(p) {
      deps.price = priceLookup(mergePrices(builtinPrices, p));
    },
  };
}
