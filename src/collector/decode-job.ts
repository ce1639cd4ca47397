// One OTLP/HTTP export body → the bytes the store is sent: decode (protobuf or JSON), map to
// otel_traces rows, encode them (Native). The same function runs in the request thread or in a
// decode worker (decode-pool.ts); its result is plain data so it crosses threads as it is.
import { encodeTraceRequest } from './map-spans.js';
import { OtlpJsonError, decodeTraceRequestJson } from './otlp-json.js';
import { decodeTraceRequestProto } from './otlp-proto.js';

export type Encoding = 'proto' | 'json';

export type DecodeResult =
  | { ok: true; payload: Uint8Array; rows: number; rejected: number; firstError: string }
  /** The body is not a valid request: `reason` is the 400's message. */
  | { ok: false; reason: string };

export function decodeExport(enc: Encoding, body: Uint8Array): DecodeResult {
  let request;
  try {
    request =
      enc === 'proto'
        ? decodeTraceRequestProto(body)
        : decodeTraceRequestJson(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (err) {
    const detail = (err as Error).message;
    const reason =
      err instanceof OtlpJsonError
        ? detail
        : enc === 'json'
          ? `invalid OTLP/JSON ExportTraceServiceRequest: ${detail}` // e.g. nesting too deep
          : `invalid ExportTraceServiceRequest protobuf: ${detail}`;
    return { ok: false, reason };
  }
  return { ok: true, ...encodeTraceRequest(request) };
}
