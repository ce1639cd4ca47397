// Telemetry for the sidecar: the request path records what happened (recorder.ts); spans and
// metrics are built and exported by the OTel SDK (pipeline.ts) in an export worker, so span
// building, protobuf serialisation and HTTP export never run on the request event loop. Tests
// that inject an exporter, processor or metric reader get the same pipeline in-thread.
import type { MetricReader } from '@opentelemetry/sdk-metrics';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { IncomingHttpHeaders } from 'node:http';
import type { Operation } from '../providers/types.js';
import { ContentCapture, patternRedactor, type Redactor } from './content.js';
import { createPipeline, installPropagator, type PipelineOptions } from './pipeline.js';
import type { PriceTable } from './pricing.js';
import { RequestRecorder, type RecordSink } from './recorder.js';
import type { Telemetry } from './types.js';
import { WorkerSink } from './worker-sink.js';

export { buildResource, SHUTDOWN_FLUSH_MS } from './pipeline.js';

export interface TelemetryOptions {
  serviceName?: string;
  captureContent?: boolean;
  /** Code hook; runs after the config's redact_patterns. */
  redact?: Redactor;
  redactPatterns?: string[];
  pricing?: PriceTable;
  /** Tests pass an in-memory exporter or processor (in-thread pipeline); production uses OTLP/HTTP. */
  spanExporter?: SpanExporter;
  spanProcessor?: SpanProcessor;
  maxQueueSize?: number;
  metricReaders?: MetricReader[];
  /** Skip the OTLP metric exporter (tests, benchmarks). */
  otlpMetrics?: boolean;
  /** Variables on top of process.env (OTEL_*, K8S_*). */
  env?: NodeJS.ProcessEnv;
}

export async function createTelemetry(opts: TelemetryOptions = {}): Promise<Telemetry> {
  installPropagator();
  const byPattern = patternRedactor(opts.redactPatterns ?? []);
  const redact: Redactor = opts.redact ? (k, v) => opts.redact!(k, byPattern(k, v)) : byPattern;
  const capture = opts.captureContent ? new ContentCapture(redact) : undefined;
  const inThread = opts.spanExporter !== undefined || opts.spanProcessor !== undefined || opts.metricReaders !== undefined;
  const pipelineOpts: PipelineOptions = { serviceName: opts.serviceName, pricing: opts.pricing, maxQueueSize: opts.maxQueueSize, otlpMetrics: opts.otlpMetrics };

  let sink: RecordSink;
  let backend: Pick<Telemetry, 'metricsText' | 'flush' | 'shutdown'> & { setPricing(p: PriceTable | undefined): void };
  if (inThread) {
    const pipeline = createPipeline({ ...pipelineOpts, spanExporter: opts.spanExporter, spanProcessor: opts.spanProcessor, metricReaders: opts.metricReaders, env: opts.env ?? process.env });
    sink = { submit: (r) => pipeline.build([r]) };
    backend = pipeline;
  } else {
    const env = { ...process.env, ...opts.env };
    const worker = new WorkerSink(pipelineOpts, env, opts.maxQueueSize ?? Number(env.OTEL_BSP_MAX_QUEUE_SIZE ?? 4096));
    sink = worker;
    backend = worker;
  }
  return {
    startRequest: (op: Operation, route: string, headers: IncomingHttpHeaders) => new RequestRecorder(sink, op, route, headers, capture),
    metricsText: () => backend.metricsText(),
    flush: () => backend.flush(),
    shutdown: () => backend.shutdown(),
    setPricing: (p) => backend.setPricing(p),
  };
}
