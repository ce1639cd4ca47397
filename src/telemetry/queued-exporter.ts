// The trace exporter the sidecar uses: serialises a batch with the OTel SDK's own OTLP
// serialisers (protobuf or JSON, as OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL says) and hands the
// bytes to the span queue, which sends them now or keeps them on disk until the receiver takes
// them. The batch processor gets its answer at once, so its in-memory queue never fills because
// the receiver is slow (the SDK's processor exports one batch at a time).
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { createOtlpSender, type OtlpSender } from './otlp-sender.js';
import { SpanQueue } from './span-queue.js';

/** Disk budget for queued spans unless SWITCHYARD_TELEMETRY_SPOOL_BYTES says otherwise. */
export const DEFAULT_SPOOL_BYTES = 256 * 1024 * 1024;
/** Of the shutdown flush bound, what sending the disk queue may take (the rest stays on disk). */
const SHUTDOWN_DRAIN_MS = 1_500;

export interface QueueSettings {
  /** A fixed directory is replayed by the next run; the default is per process (tmp). */
  dir?: string;
  maxBytes?: number;
}

export function queueSettings(
  env: NodeJS.ProcessEnv,
  given: QueueSettings = {},
): Required<QueueSettings> & { own: boolean } {
  const dir = given.dir ?? env.SWITCHYARD_TELEMETRY_SPOOL_DIR;
  const maxBytes = given.maxBytes ?? Number(env.SWITCHYARD_TELEMETRY_SPOOL_BYTES ?? DEFAULT_SPOOL_BYTES);
  if (!Number.isFinite(maxBytes) || maxBytes < 0) throw new Error(`SWITCHYARD_TELEMETRY_SPOOL_BYTES: not a byte count`);
  return dir
    ? { dir, maxBytes, own: false }
    : { dir: path.join(tmpdir(), `switchyard-telemetry-${process.pid}`), maxBytes, own: true };
}

export class QueuedSpanExporter implements SpanExporter {
  readonly queue: SpanQueue;
  private readonly sender: OtlpSender;

  constructor(
    env: NodeJS.ProcessEnv,
    headers: Record<string, string> | undefined,
    settings: QueueSettings,
    onDrop: (spans: number) => void,
  ) {
    this.sender = createOtlpSender(env, headers);
    const s = queueSettings(env, settings);
    this.queue = new SpanQueue({
      dir: s.dir,
      maxBytes: s.maxBytes,
      removeWhenEmpty: s.own,
      send: (format, body) => this.sender.send(format, body),
      onDrop,
    });
  }

  export(spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    let body: Uint8Array | undefined;
    try {
      body = this.sender.serialize(spans);
    } catch (err) {
      return done({ code: ExportResultCode.FAILED, error: err as Error });
    }
    if (body) this.queue.offer(this.sender.format, body, spans.length);
    done({ code: ExportResultCode.SUCCESS });
  }

  /** Waits until what was handed over is sent, or the receiver is failing (then it waits on disk). */
  forceFlush(): Promise<void> {
    return this.queue.idle();
  }

  async shutdown(): Promise<void> {
    await Promise.race([this.queue.idle(), new Promise((r) => setTimeout(r, SHUTDOWN_DRAIN_MS).unref())]);
    await this.queue.close();
    await this.sender.shutdown();
  }
}
