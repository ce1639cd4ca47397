// Telemetry for the sidecar: the request path records what happened (recorder.ts); spans and
// metrics are built and exported by the OTel SDK (pipeline.ts) in an export worker, so span
// building, protobuf serialisation and HTTP export never run on the request event loop. Tests
// that inject an exporter, processor or metric reader get the same pipeline in-thread.
import type { IncomingHttpHeaders } from 'node:http';
import type { Operation } from '../providers/types.js';
import { ContentCapture, patternRedactor, type Redactor } from './content.js';
import type { PipelineOptions } from './pipeline.js';
import type { PriceTable } from './pricing.js';
import { installPropagator } from './propagator.js';
import { RequestRecorder, type RecordSink } from './recorder.js';
import type { Telemetry } from './types.js';
import { WorkerSink } from './worker-sink.js';

export { SHUTDOWN_FLUSH_MS } from './worker-protocol.js';

/** Pipeline options (exporters, queue, pricing, env) plus content capture. Injecting an exporter,
 *  processor or metric reader (tests) runs the pipeline in-thread; `env` adds to process.env. */
export interface TelemetryOptions extends PipelineOptions {
  captureContent?: boolean;
  /** Code hook; runs after the config's redact_patterns. */
  redact?: Redactor;
  redactPatterns?: string[];
}

export async function createTelemetry(opts: TelemetryOptions = {}): Promise<Telemetry> {
  installPropagator();
  const byPattern = patternRedactor(opts.redactPatterns ?? []);
  const redact: Redactor = opts.redact ? (k, v) => opts.redact!(k, byPattern(k, v)) : byPattern;
  const capture = opts.captureContent ? new ContentCapture(redact) : undefined;
  const inThread =
    opts.spanExporter !== undefined || opts.spanProcessor !== undefined || opts.metricReaders !== undefined;
  const pipelineOpts: PipelineOptions = {
    serviceName: opts.serviceName,
    pricing: opts.pricing,
    maxQueueSize: opts.maxQueueSize,
    otlpMetrics: opts.otlpMetrics,
    spool: opts.spool,
  };

  let sink: RecordSink;
  let backend: Pick<Telemetry, 'metricsText' | 'flush' | 'shutdown'> & { setPricing(p: PriceTable | undefined): void };
  if (inThread) {
    // Only in-thread pipelines (tests) load the SDK here; production loads it in the worker.
    const { createPipeline } = await import('./pipeline.js');
    const pipeline = createPipeline({
      ...pipelineOpts,
      spanExporter: opts.spanExporter,
      spanProcessor: opts.spanProcessor,
      metricReaders: opts.metricReaders,
      env: opts.env ?? process.env,
    });
    sink = { submit: (r) => pipeline.build([r]) };
    backend = pipeline;
  } else {
    const env = { ...process.env, ...opts.env };
    const worker = new WorkerSink(pipelineOpts, env, opts.maxQueueSize ?? Number(env.OTEL_BSP_MAX_QUEUE_SIZE ?? 4096));
    sink = worker;
    backend = worker;
  }
  return {
    startRequest: (op: Operation, route: string, headers: IncomingHttpHeaders) =>
      new RequestRecorder(sink, op, route, headers, capture),
    metricsText: () => backend.metricsText(),
    flush: () => backend.flush(),
    shutdown: () => backend.shutdown(),
    setPricing: (p) => backend.setPricing(p),
  };
}
