// OTel SDK wiring for the sidecar: traces over OTLP/HTTP (OTEL_EXPORTER_OTLP_ENDPOINT, default
// http://127.0.0.1:4318), metrics over OTLP and as Prometheus text at /metrics, the standard
// OTEL_* variables, and Kubernetes resource attributes from Downward-API env.
import { propagation, type Tracer } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, detectResources, envDetector, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type MetricReader } from '@opentelemetry/sdk-metrics';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { IncomingHttpHeaders } from 'node:http';
import type { PriceTable } from './pricing.js';
import { builtinPrices, mergePrices } from './pricing.js';
import { BoundedBatchProcessor } from './bounded-processor.js';
import { samplerFromEnv } from './sampler.js';
import { ContentCapture, patternRedactor, type Redactor } from './content.js';
import { createMetrics } from './metrics.js';
import { SpanRequestTelemetry } from './request-telemetry.js';
import type { Telemetry } from './types.js';
import type { Operation } from '../providers/types.js';

export const SHUTDOWN_FLUSH_MS = 2_000;

export interface TelemetryOptions {
  serviceName?: string;
  captureContent?: boolean;
  /** Code hook; runs after the config's redact_patterns. */
  redact?: Redactor;
  redactPatterns?: string[];
  pricing?: PriceTable;
  /** Tests pass an in-memory exporter or processor; production uses OTLP/HTTP. */
  spanExporter?: SpanExporter;
  spanProcessor?: SpanProcessor;
  maxQueueSize?: number;
  metricReaders?: MetricReader[];
  /** Skip the OTLP metric exporter (tests, benchmarks). */
  otlpMetrics?: boolean;
  env?: NodeJS.ProcessEnv;
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

/** http/protobuf is OTLP's default and costs less CPU than JSON; OTEL_EXPORTER_OTLP_PROTOCOL picks. */
function traceExporter(env: NodeJS.ProcessEnv): SpanExporter {
  const proto = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  return proto === 'http/json' ? new OTLPJsonTraceExporter() : new OTLPProtoTraceExporter();
}

export async function createTelemetry(opts: TelemetryOptions = {}): Promise<Telemetry> {
  const env = opts.env ?? process.env;
  const resource = buildResource(env, opts.serviceName ?? 'switchyard-sidecar');
  // One reader serves both OTLP push and /metrics when temporality is cumulative: the SDK hashes
  // every attribute set once per reader on every record, which measured as a hot-path cost.
  const wantOtlp = opts.otlpMetrics !== false && !opts.metricReaders;
  const delta = (env.OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE ?? 'cumulative').toLowerCase() !== 'cumulative';
  const otlpReader = wantOtlp ? new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter(), exportIntervalMillis: Number(env.OTEL_METRIC_EXPORT_INTERVAL ?? 60_000) }) : undefined;
  const prom: MetricReader = otlpReader && !delta ? otlpReader : new PrometheusExporter({ preventServerStart: true });
  const readers: MetricReader[] = [...new Set([prom, ...(otlpReader ? [otlpReader] : [])]), ...(opts.metricReaders ?? [])];
  const meterProvider = new MeterProvider({ resource, readers });
  const metrics = createMetrics(meterProvider.getMeter('switchyard'));
  const processor =
    opts.spanProcessor ??
    new BoundedBatchProcessor(opts.spanExporter ?? traceExporter(env), opts.maxQueueSize ?? Number(env.OTEL_BSP_MAX_QUEUE_SIZE ?? 4096), (n) => metrics.droppedSpans.add(n), Number(env.OTEL_BSP_SCHEDULE_DELAY ?? 1000), Number(env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE ?? 512));
  const tracerProvider = new NodeTracerProvider({ resource, spanProcessors: [processor], sampler: samplerFromEnv(env) });
  const propagator = new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] });
  propagation.setGlobalPropagator(propagator);
  const tracer: Tracer = tracerProvider.getTracer('switchyard', '0.1.0');
  let prices = mergePrices(builtinPrices, opts.pricing);
  const byPattern = patternRedactor(opts.redactPatterns ?? []);
  const redact: Redactor = opts.redact ? (k, v) => opts.redact!(k, byPattern(k, v)) : byPattern;
  const capture = opts.captureContent ? new ContentCapture(redact) : undefined;
  const deps = { tracer, metrics, prices: () => prices, capture };
  const serializer = new PrometheusSerializer();
  return {
    startRequest: (op: Operation, route: string, headers: IncomingHttpHeaders) => new SpanRequestTelemetry(deps, op, route, headers),
    async metricsText() {
      const { resourceMetrics } = await prom.collect();
      return { contentType: 'text/plain; version=0.0.4; charset=utf-8', body: serializer.serialize(resourceMetrics) };
    },
    async flush() {
      await Promise.allSettled([tracerProvider.forceFlush(), meterProvider.forceFlush()]);
    },
    async shutdown() {
      // Flush what is queued, but never hold a terminating pod for more than ~2 s.
      const flush = Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
      await Promise.race([flush, new Promise((r) => setTimeout(r, SHUTDOWN_FLUSH_MS).unref())]);
    },
    setPricing(p: PriceTable | undefined) {
      prices = mergePrices(builtinPrices, p);
    },
  };
}
