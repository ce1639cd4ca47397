// Decodes an OTLP/protobuf ExportTraceServiceRequest with protobufjs from the official .proto
// files (src/collector/proto): the independent reader the encoder tests compare bodies with.
import path from 'node:path';
import protobuf from 'protobufjs';

const protoDir = path.join(import.meta.dirname, '../../src/collector/proto');
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => path.join(protoDir, target);
root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto');
root.resolveAll();
const Request = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');

/** Longs as decimal strings (exact past 2^53), bytes as hex, every field present. */
export function decodeTraceRequest(body: Uint8Array): unknown {
  return Request.toObject(Request.decode(body), { longs: String, bytes: String, defaults: true, arrays: true });
}
