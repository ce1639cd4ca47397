// A BatchSpanProcessor whose queue bound is visible: spans beyond it are dropped and counted
// (the SDK's own processor drops silently), so telemetry never blocks or grows without bound.
import { TraceFlags, type Context } from '@opentelemetry/api';
import {
  BatchSpanProcessor,
  type ReadableSpan,
  type Span,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { ExportResult } from '@opentelemetry/core';

class CountingExporter implements SpanExporter {
  constructor(
    private readonly inner: SpanExporter,
    private readonly done: (n: number) => void,
  ) {}
  export(spans: ReadableSpan[], cb: (r: ExportResult) => void): void {
    this.inner.export(spans, (r) => {
      this.done(spans.length);
      cb(r);
    });
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

export class BoundedBatchProcessor implements SpanProcessor {
  private pending = 0;
  private readonly inner: BatchSpanProcessor;

  constructor(
    exporter: SpanExporter,
    private readonly maxQueueSize: number,
    private readonly onDrop: (n: number) => void,
    scheduledDelayMillis = 1000,
    maxExportBatchSize = 512,
  ) {
    const counting = new CountingExporter(exporter, (n) => (this.pending = Math.max(0, this.pending - n)));
    this.inner = new BatchSpanProcessor(counting, {
      maxQueueSize: maxQueueSize + 1,
      maxExportBatchSize: Math.min(maxExportBatchSize, maxQueueSize),
      scheduledDelayMillis,
      exportTimeoutMillis: 10_000,
    });
  }

  onStart(span: Span, ctx: Context): void {
    this.inner.onStart(span, ctx);
  }

  onEnd(span: ReadableSpan): void {
    // Recorded but unsampled spans (a sampler's RECORD): the batch processor drops them unexported,
    // so counting them as pending would never be undone and would end in dropping every span.
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.pending >= this.maxQueueSize) {
      this.onDrop(1);
      return;
    }
    this.pending++;
    this.inner.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}
