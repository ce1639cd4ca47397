// OTLP protobuf codec: the official opentelemetry-proto definitions (vendored in ./proto)
// loaded with protobufjs, which generates the decoder at load time.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { InterningReader } from './interning-reader.js';
import type { ExportTraceRequest } from './otlp-model.js';

function protoDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // Running from src/ (tsx) the folder sits beside this file; the compiled CLI runs from
  // dist/collector/ and tsc does not copy .proto files, so fall back to the source tree.
  const candidates = [path.join(here, 'proto'), path.join(here, '..', '..', 'src', 'collector', 'proto')];
  const found = candidates.find((dir) => existsSync(path.join(dir, 'opentelemetry')));
  if (!found) throw new Error(`OTLP .proto files not found (looked in ${candidates.join(', ')})`);
  return found;
}

function loadRoot(): protobuf.Root {
  const dir = protoDir();
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(dir, target);
  root.loadSync(['opentelemetry/proto/collector/trace/v1/trace_service.proto', 'google/rpc/status.proto']);
  root.resolveAll();
  return root;
}

const root = loadRoot();
const RequestType = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
const ResponseType = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');
const StatusType = root.lookupType('google.rpc.Status');

/** Throws (protobufjs' error) when the bytes are not a valid ExportTraceServiceRequest. */
export function decodeTraceRequestProto(body: Uint8Array): ExportTraceRequest {
  // A body that crossed threads is a plain Uint8Array: as a Buffer, strings are read with Node's
  // native UTF-8 decoder instead of protobufjs' JS fallback (~2x the decode cost).
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return RequestType.decode(new InterningReader(buf)) as unknown as ExportTraceRequest;
}

/** Encodes a request; used by tests and the benchmark to build bodies. */
export function encodeTraceRequestProto(req: object): Uint8Array {
  return RequestType.encode(RequestType.fromObject(req)).finish();
}

export function encodeTraceResponseProto(rejectedSpans: number, errorMessage: string): Uint8Array {
  const payload = rejectedSpans > 0 ? { partialSuccess: { rejectedSpans, errorMessage } } : {};
  return ResponseType.encode(ResponseType.fromObject(payload)).finish();
}

export function decodeTraceResponseProto(body: Uint8Array): {
  partialSuccess?: { rejectedSpans: number; errorMessage: string };
} {
  const msg = ResponseType.decode(body);
  return ResponseType.toObject(msg, { longs: Number }) as {
    partialSuccess?: { rejectedSpans: number; errorMessage: string };
  };
}

export function encodeStatusProto(code: number, message: string): Uint8Array {
  return StatusType.encode(StatusType.fromObject({ code, message })).finish();
}

export function decodeStatusProto(body: Uint8Array): { code: number; message: string } {
  const obj = StatusType.toObject(StatusType.decode(body), { defaults: true }) as { code: number; message: string };
  return { code: obj.code, message: obj.message };
}
