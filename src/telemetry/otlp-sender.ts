// Sends already-serialised OTLP trace requests. The bytes go through the OTel exporter's own
// HTTP delegate (the transport, retries on 429/502/503/504, gzip, timeout and headers that
// OTEL_EXPORTER_OTLP_* configure), so a request replayed from the disk queue is sent exactly as
// the standard exporter sends a fresh one.
import {
  JsonTraceSerializer,
  ProtobufTraceSerializer,
  TraceExporterMetricsHelper,
} from '@opentelemetry/otlp-transformer';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { encodeTraceRequest } from './otlp-proto-writer.js';

/** Payload format of a queued request (kept per spool record, so a protocol change between runs still replays). */
export const FORMAT_PROTOBUF = 1;
export const FORMAT_JSON = 2;

/** ok: the receiver took it; retry: not now (down, slow, overloaded); reject: it will never take it. */
export type SendOutcome = 'ok' | 'retry' | 'reject';

export interface OtlpSender {
  /** The format this run writes (OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL). */
  readonly format: number;
  serialize(spans: ReadableSpan[]): Uint8Array | undefined;
  send(format: number, body: Uint8Array): Promise<SendOutcome>;
  shutdown(): Promise<void>;
}

export function protocolFormat(env: NodeJS.ProcessEnv): number {
  const proto = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  return proto === 'http/json' ? FORMAT_JSON : FORMAT_PROTOBUF;
}

/** 4xx other than 408/429 means the receiver refuses this data for good: retrying cannot help. */
function outcomeOf(err: unknown): SendOutcome {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'number' && code >= 400 && code < 500 && code !== 408 && code !== 429) return 'reject';
  return 'retry';
}

/** The OTel configuration reads process.env; an `env` given instead (tests, in-thread) is passed explicitly. */
function explicit(env: NodeJS.ProcessEnv): { url?: string; timeoutMillis?: number } {
  if (env === process.env) return {};
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/+$/, '');
  const url = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (base ? `${base}/v1/traces` : undefined);
  const timeout = env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? env.OTEL_EXPORTER_OTLP_TIMEOUT;
  return { url, timeoutMillis: timeout ? Number(timeout) : undefined };
}

type Delegate = ReturnType<typeof createOtlpHttpExportDelegate<Uint8Array, unknown>>;

export function createOtlpSender(env: NodeJS.ProcessEnv, headers: Record<string, string> | undefined): OtlpSender {
  const format = protocolFormat(env);
  const delegates = new Map<number, Delegate>();
  const delegate = (f: number): Delegate => {
    let d = delegates.get(f);
    if (!d) {
      const json = f === FORMAT_JSON;
      const serializer = json ? JsonTraceSerializer : ProtobufTraceSerializer;
      const options = convertLegacyHttpOptions({ headers, ...explicit(env) }, 'TRACES', 'v1/traces', {
        'Content-Type': json ? 'application/json' : 'application/x-protobuf',
      });
      // The bytes are the request already: the delegate's serialiser passes them through.
      const passThrough = {
        serializeRequest: (b: Uint8Array) => b,
        deserializeResponse: serializer.deserializeResponse,
      };
      const countBytes = { name: TraceExporterMetricsHelper.name, countItems: () => 0 };
      d = createOtlpHttpExportDelegate(options, passThrough, 'otlp_http_span_exporter', countBytes, undefined);
      delegates.set(f, d);
    }
    return d;
  };
  // Protobuf bodies come from our writer: the same bytes as ProtobufTraceSerializer's
  // (test/telemetry/otlp-proto-writer.test.ts) for less CPU (bench/export-worker.ts); JSON stays the SDK's.
  const serialize =
    format === FORMAT_JSON
      ? (spans: ReadableSpan[]) => JsonTraceSerializer.serializeRequest(spans)
      : encodeTraceRequest;
  return {
    format,
    serialize,
    send: (f, body) =>
      new Promise((resolve) => delegate(f).export(body, (r) => resolve(r.code === 0 ? 'ok' : outcomeOf(r.error)))),
    async shutdown() {
      await Promise.allSettled([...delegates.values()].map((d) => d.shutdown()));
    },
  };
}
