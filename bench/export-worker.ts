// bench/export-worker: CPU per request of the export worker's path, in one thread with nothing
// else running (steadier than bench/overhead's req/s on a shared 2-core box), against a baseline
// run side by side: the SDK floor, the same two spans with the same attributes pre-built, through
// the same tracer and batch processor and the OTLP protobuf serializer. "Ours" is the whole
// path: the request thread's encoding, the structured clone postMessage makes, decoding, span and
// metric building, protobuf serialisation. "Ours" serialises with the writer the sidecar uses
// (otlp-proto-writer.ts); "ours, SDK serializer" is the same path with the SDK's
// ProtobufTraceSerializer (what it used before), in the same rounds; "ours, SDK spans" is the
// path with spans made by the SDK's Tracer and Span instead of plain-spans.ts (before). Then the two serialisers
// alone on the same spans (the pipeline's, DEFAULT_EXPORT_BATCH per export), alternated.
//   node --import tsx bench/export-worker.ts [--rounds 7] [--requests 20480] [--serializer-rounds 15]
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { parseFlags } from '../src/args.js';
import { encodeTraceRequest } from '../src/telemetry/otlp-proto-writer.js';
import { createPipeline, DEFAULT_EXPORT_BATCH } from '../src/telemetry/pipeline.js';
import { RecordDecoder, RecordEncoder } from '../src/telemetry/record-codec.js';
import { sampleRecord as record } from './sample-record.js';

const flags = parseFlags(process.argv.slice(2));
const ROUNDS = Number(flags.rounds ?? 7);
const N = Number(flags.requests ?? 20480);
const SER_ROUNDS = Number(flags['serializer-rounds'] ?? 15);
const BATCH = 256; // the request thread's batch (worker-sink.ts)

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function range(xs: number[]): string {
  return `${median(xs).toFixed(1)} µs (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;
}

type Serialize = (spans: ReadableSpan[]) => Uint8Array | undefined;
const sdkSerialize: Serialize = (spans) => ProtobufTraceSerializer.serializeRequest(spans);
const bytes = { ours: 0, oursSdkSpans: 0, oursSdk: 0, floor: 0 };
const serializing = (side: keyof typeof bytes, serialize: Serialize): SpanExporter => ({
  export(spans: ReadableSpan[], cb) {
    bytes[side] += serialize(spans)!.length;
    cb({ code: ExportResultCode.SUCCESS });
  },
  async shutdown() {},
});
const processor = (side: keyof typeof bytes, serialize: Serialize = sdkSerialize) =>
  new BatchSpanProcessor(serializing(side, serialize), {
    maxQueueSize: 1 << 20,
    maxExportBatchSize: 512,
    scheduledDelayMillis: 50,
  });

// Ours: the pipeline the export worker runs, fed as the worker is.
const pipelines = {
  ours: createPipeline({ spanProcessor: processor('ours', encodeTraceRequest), otlpMetrics: false }),
  oursSdkSpans: createPipeline({
    spanProcessor: processor('oursSdkSpans', encodeTraceRequest),
    otlpMetrics: false,
    spans: 'sdk',
  }),
  oursSdk: createPipeline({ spanProcessor: processor('oursSdk'), otlpMetrics: false, spans: 'sdk' }),
};
const encoder = new RecordEncoder();
const decoder = new RecordDecoder();
async function ours(which: keyof typeof pipelines): Promise<number> {
  const pipeline = pipelines[which];
  const t = Date.now();
  const c0 = process.cpuUsage();
  for (let done = 0; done < N; done += BATCH) {
    for (let i = 0; i < BATCH; i++) encoder.add(record(t));
    pipeline.build(decoder.decode(structuredClone(encoder.take())));
  }
  await pipeline.flush();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / N;
}

// The floor: the SDK alone, the same spans with their attributes already built.
const tp = new NodeTracerProvider({ spanProcessors: [processor('floor')] });
const tracer = tp.getTracer('switchyard', '0.1.0');
const serverAttrs = {
  'http.request.method': 'POST',
  'http.route': '/v1/chat/completions',
  'url.path': '/v1/chat/completions',
  'gen_ai.operation.name': 'chat',
  'switchyard.trace_id': '0af7651916cd43dd8448eb211c80319c',
  'switchyard.config_id': 'd',
  'switchyard.strategy': 'single',
  'switchyard.attempts': 1,
  'switchyard.retries': 0,
  'switchyard.rescued': false,
  'switchyard.cache_status': 'DISABLED',
  'http.response.status_code': 200,
  'gen_ai.provider.name': 'openai',
  'gen_ai.request.model': 'gpt-4o',
  'switchyard.target': '0',
  'gen_ai.response.model': 'gpt-4o-2024-08-06',
  'gen_ai.usage.input_tokens': 12,
  'gen_ai.usage.output_tokens': 30,
  'switchyard.cost_usd': 0.00033,
};
const clientAttrs = {
  'gen_ai.operation.name': 'chat',
  'gen_ai.provider.name': 'openai',
  'gen_ai.request.model': 'gpt-4o',
  'gen_ai.request.stream': false,
  'server.address': '127.0.0.1',
  'server.port': 40000,
  'switchyard.attempt': 0,
  'switchyard.target': '0',
  'switchyard.provider': 'up',
  'switchyard.trace_id': '0af7651916cd43dd8448eb211c80319c',
  'switchyard.outcome': 'ok',
  'http.response.status_code': 200,
  'gen_ai.response.model': 'gpt-4o-2024-08-06',
  'gen_ai.response.id': 'chatcmpl-abc123',
  'gen_ai.response.finish_reasons': ['stop'],
  'gen_ai.usage.input_tokens': 12,
  'gen_ai.usage.output_tokens': 30,
  'switchyard.cost_usd': 0.00033,
};
async function floor(): Promise<number> {
  const t = Date.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const s = tracer.startSpan('POST /v1/chat/completions', { kind: SpanKind.SERVER, startTime: t }, ROOT_CONTEXT);
    s.setAttributes(serverAttrs);
    const c = tracer.startSpan(
      'chat gpt-4o',
      { kind: SpanKind.CLIENT, startTime: t + 0.1 },
      trace.setSpan(ROOT_CONTEXT, s),
    );
    c.setAttributes(clientAttrs);
    c.end(t + 1.1);
    s.end(t + 1.2);
  }
  await tp.forceFlush();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / N;
}

const res = { ours: [] as number[], oursSdkSpans: [] as number[], oursSdk: [] as number[], floor: [] as number[] };
console.log(
  `bench/export-worker: ${ROUNDS} rounds × ${N} requests, alternating ours / ours with SDK spans / with SDK spans and serializer / SDK floor (first round is warm-up)`,
);
for (let r = 0; r <= ROUNDS; r++) {
  // Plain and SDK spans alternate which goes first, so neither always follows the other's garbage.
  let o: number;
  let oss: number;
  if (r % 2) {
    o = await ours('ours');
    oss = await ours('oursSdkSpans');
  } else {
    oss = await ours('oursSdkSpans');
    o = await ours('ours');
  }
  const os = await ours('oursSdk');
  const f = await floor();
  if (r === 0) continue;
  res.ours.push(o);
  res.oursSdkSpans.push(oss);
  res.oursSdk.push(os);
  res.floor.push(f);
  console.log(
    `  round ${r}: ours ${o.toFixed(1)} µs/request, with SDK spans ${oss.toFixed(1)}, with SDK spans and serializer ${os.toFixed(1)}, SDK floor ${f.toFixed(1)}`,
  );
}
const mo = median(res.ours);
const mf = median(res.floor);
console.log(`\nCPU per request, median (min–max) of ${ROUNDS} rounds:`);
console.log(`  ours (plain spans, otlp-proto-writer)  ${range(res.ours)}`);
console.log(`  ours with SDK spans (before)          ${range(res.oursSdkSpans)}`);
console.log(`  ours with SDK spans and serializer    ${range(res.oursSdk)}`);
console.log(`  SDK floor                             ${range(res.floor)}   ours / floor ${(mo / mf).toFixed(2)}`);
const perReq = (b: number) => (b / N / (ROUNDS + 1)).toFixed(0);
console.log(
  `OTLP protobuf bytes per request: ours ${perReq(bytes.ours)}, with SDK spans ${perReq(bytes.oursSdkSpans)}, with SDK spans and serializer ${perReq(bytes.oursSdk)}, floor ${perReq(bytes.floor)}`,
);

// The serialisers alone, on the same spans: the pipeline's, in exports of DEFAULT_EXPORT_BATCH.
const built: ReadableSpan[] = [];
const keep = createPipeline({
  spanProcessor: {
    onStart() {},
    onEnd: (s) => void built.push(s),
    forceFlush: async () => {},
    shutdown: async () => {},
  },
  otlpMetrics: false,
});
const t = Date.now();
for (let done = 0; done < 4096; done += BATCH) {
  for (let i = 0; i < BATCH; i++) encoder.add(record(t));
  keep.build(decoder.decode(structuredClone(encoder.take())));
}
const exports: ReadableSpan[][] = [];
for (let i = 0; i < built.length; i += DEFAULT_EXPORT_BATCH) exports.push(built.slice(i, i + DEFAULT_EXPORT_BATCH));
const requests = built.length / 2;
for (const e of exports)
  if (!Buffer.from(encodeTraceRequest(e)).equals(Buffer.from(sdkSerialize(e)!)))
    throw new Error('otlp-proto-writer and ProtobufTraceSerializer disagree');
function serializeCpu(serialize: Serialize): number {
  const c0 = process.cpuUsage();
  for (let pass = 0; pass < 5; pass++) for (const e of exports) serialize(e);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / (5 * requests);
}
const ser = { sdk: [] as number[], ours: [] as number[] };
for (let r = 0; r <= SER_ROUNDS; r++) {
  // Alternate which goes first, so neither always runs after the other's garbage.
  const first = r % 2 ? 'sdk' : 'ours';
  const a = serializeCpu(first === 'sdk' ? sdkSerialize : encodeTraceRequest);
  const b = serializeCpu(first === 'sdk' ? encodeTraceRequest : sdkSerialize);
  if (r === 0) continue;
  ser[first].push(a);
  ser[first === 'sdk' ? 'ours' : 'sdk'].push(b);
}
console.log(
  `\nserialisation alone, ${exports.length} exports of ${DEFAULT_EXPORT_BATCH} spans (2 per request), ${SER_ROUNDS} alternated rounds, CPU per request median (min–max):`,
);
console.log(`  ProtobufTraceSerializer  ${range(ser.sdk)}`);
console.log(
  `  otlp-proto-writer        ${range(ser.ours)}   ratio ${(median(ser.ours) / median(ser.sdk)).toFixed(2)} (same bytes)`,
);
process.exit(0);
