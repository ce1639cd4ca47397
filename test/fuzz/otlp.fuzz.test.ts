// Fuzzing the collector's OTLP/HTTP intake (POST /v1/traces): valid exports built by the official
// OpenTelemetry JS serializers (protobuf and JSON) and by protobufjs from the vendored .proto
// files, mutated structure-aware (fields deleted, duplicated, re-typed, lying lengths, wrong id
// lengths, extreme numbers, deep AnyValue nesting, unknown fields, invalid UTF-8, numbers as
// strings…) and byte-wise, sent with right and wrong Content-Type / Content-Encoding to a
// collector writing into the embedded ClickHouse store. Every answer must be one the OTLP/HTTP
// spec allows (200, 400 with a google.rpc.Status reason, 413, 415, or backpressure 429/503 with
// Retry-After), never a 5xx otherwise; afterwards the collector still stores valid exports.
//
// Seed and size: FUZZ_SEED=<n> (printed on failure), FUZZ_RUNS=<n> (runs per property).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { gzipSync, deflateSync } from 'node:zlib';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type IdGenerator,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startCollector, type RunningCollector } from '../../src/collector/index.js';
import {
  decodeStatusProto,
  decodeTraceResponseProto,
  encodeTraceRequestProto,
} from '../../src/collector/otlp-proto.js';
import { openStore } from '../../src/store/open.js';
import type { SpanStore } from '../../src/store/types.js';
import { eventually, tempDir } from '../collector/helpers.js';
import {
  applyByteOp,
  byteOpArb,
  fuzz,
  fuzzSettings,
  jsonOpArb,
  jsonText,
  mutateJson,
  mutateProto,
  parseWire,
  pick,
  prng,
  protoOpArb,
  serializeWire,
  type WireField,
} from './mutate.js';

const S = fuzzSettings();
const MAX_BODY = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Seed corpus: valid exports

class SeededIds implements IdGenerator {
  constructor(private readonly next: () => number) {}
  private hex(bytes: number): string {
    let s = '';
    for (let i = 0; i < bytes; i++)
      s += Math.floor(this.next() * 256)
        .toString(16)
        .padStart(2, '0');
    return s.startsWith('00') ? `a${s.slice(1)}` : s;
  }
  generateTraceId(): string {
    return this.hex(16);
  }
  generateSpanId(): string {
    return this.hex(8);
  }
}

/** Finished spans from the real SDK: kinds, attributes of every primitive type, events, links, statuses. */
function sdkSpans(seed: number): ReadableSpan[][] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    idGenerator: new SeededIds(prng(seed)),
    resource: resourceFromAttributes({
      'service.name': 'fuzz-sdk',
      'host.name': 'h1',
      'process.pid': 42,
      'deployment.environment': 'test',
    }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('fuzz-scope', '1.0.0');
  const t0 = 1_760_000_000_000;
  const batches: ReadableSpan[][] = [];
  for (let b = 0; b < 4; b++) {
    exporter.reset();
    const parent = tracer.startSpan(`request ${b}`, {
      kind: SpanKind.SERVER,
      startTime: t0 + b,
      attributes: { 'switchyard.attempts': 2, 'switchyard.rescued': true, 'http.response.status_code': 200 },
    });
    const child = tracer.startSpan('chat gpt-4o', {
      kind: SpanKind.CLIENT,
      startTime: t0 + b + 1,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': 12,
        'switchyard.cost_usd': 0.00012,
        'gen_ai.response.finish_reasons': ['stop', 'length'],
        'int.list': [1, 2, 3],
        'bool.list': [true, false],
        'double.list': [1.5, -0.25],
        unicode: 'é🚀\u202e',
      },
      links: [{ context: parent.spanContext(), attributes: { 'link.kind': 'parent' } }],
    });
    child.addEvent('first_chunk', { 'switchyard.ttft_ms': 42 }, t0 + b + 2);
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream 503' });
    child.end(t0 + b + 3);
    if (b % 2) parent.setStatus({ code: SpanStatusCode.OK });
    parent.end(t0 + b + 4);
    batches.push([...exporter.getFinishedSpans()]);
  }
  return batches;
}

let uniq = 0;
/** A unique, valid trace id (hex) for spans the test looks for in the store. */
function freshTraceId(): string {
  uniq++;
  return ((BigInt(S.seed >>> 0) << 64n) | (BigInt(Date.now()) << 16n) | BigInt(uniq))
    .toString(16)
    .padStart(32, '0')
    .slice(-32)
    .replace(/^0/, 'f');
}

/** protobufjs-shaped request with what the SDK never sends: kvlist and bytes values, nested arrays. */
function richRequest(traceHex: string, name = 'rich'): Record<string, unknown> {
  const now = BigInt(Date.now()) * 1_000_000n;
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'fuzz-rich' } }] },
        scopeSpans: [
          {
            scope: { name: 'fuzz', version: '0' },
            spans: [
              {
                traceId: Buffer.from(traceHex, 'hex'),
                spanId: Buffer.from('b7ad6b7169203331', 'hex'),
                parentSpanId: Buffer.from('00f067aa0ba902b7', 'hex'),
                traceState: 'k=v',
                name,
                kind: 3,
                startTimeUnixNano: String(now),
                endTimeUnixNano: String(now + 5_000_000n),
                attributes: [
                  {
                    key: 'kv',
                    value: {
                      kvlistValue: {
                        values: [
                          { key: 'b', value: { intValue: -7 } },
                          { key: 'a', value: { doubleValue: 0.5 } },
                        ],
                      },
                    },
                  },
                  {
                    key: 'arr',
                    value: {
                      arrayValue: { values: [{ stringValue: 'x' }, { arrayValue: { values: [{ boolValue: true }] } }] },
                    },
                  },
                  { key: 'bytes', value: { bytesValue: Buffer.from([0, 1, 2, 255]) } },
                  { key: 'big', value: { intValue: '-9223372036854775808' } },
                ],
                events: [
                  {
                    timeUnixNano: String(now + 1n),
                    name: 'e',
                    attributes: [{ key: 'ek', value: { stringValue: 'ev' } }],
                  },
                ],
                links: [
                  {
                    traceId: Buffer.from(traceHex, 'hex'),
                    spanId: Buffer.from('00f067aa0ba902b7', 'hex'),
                    traceState: '',
                    attributes: [],
                  },
                ],
                status: { code: 2, message: 'boom' },
              },
            ],
          },
        ],
      },
    ],
  };
}

/** The same request in OTLP/JSON (hex ids, int64 as strings, base64 bytes). */
function richJson(traceHex: string, name = 'rich-json'): Record<string, unknown> {
  const now = BigInt(Date.now()) * 1_000_000n;
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'fuzz-rich' } }] },
        scopeSpans: [
          {
            scope: { name: 'fuzz', version: '0' },
            spans: [
              {
                traceId: traceHex,
                spanId: 'b7ad6b7169203331',
                parentSpanId: '00f067aa0ba902b7',
                name,
                kind: 'SPAN_KIND_CLIENT',
                startTimeUnixNano: String(now),
                endTimeUnixNano: Number(now + 5_000_000n),
                attributes: [
                  {
                    key: 'kv',
                    value: {
                      kvlistValue: {
                        values: [
                          { key: 'b', value: { intValue: '-7' } },
                          { key: 'a', value: { doubleValue: 'NaN' } },
                        ],
                      },
                    },
                  },
                  { key: 'arr', value: { arrayValue: { values: [{ stringValue: 'x' }, { boolValue: false }] } } },
                  { key: 'bytes', value: { bytesValue: 'AAEC/w==' } },
                  { key: 'int', value: { intValue: 5 } },
                ],
                events: [{ timeUnixNano: String(now + 1n), name: 'e', attributes: [] }],
                links: [{ traceId: traceHex, spanId: '00f067aa0ba902b7' }],
                status: { code: 'STATUS_CODE_ERROR', message: 'boom' },
              },
            ],
          },
        ],
      },
    ],
  };
}

const PROTO_SEEDS: WireField[][] = [];
const JSON_SEEDS: unknown[] = [];

function buildCorpus(): void {
  for (const spans of sdkSpans(S.seed)) {
    PROTO_SEEDS.push(parseWire(ProtobufTraceSerializer.serializeRequest(spans)!));
    JSON_SEEDS.push(JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(spans)!).toString('utf8')));
  }
  PROTO_SEEDS.push(parseWire(encodeTraceRequestProto(richRequest('0af7651916cd43dd8448eb211c80319c'))));
  JSON_SEEDS.push(richJson('0af7651916cd43dd8448eb211c80319c'));
}

// ---------------------------------------------------------------------------------------------
// Transport: Content-Type and Content-Encoding, right and wrong

type Enc = 'proto' | 'json';

interface Transport {
  ct: number;
  ce: number;
}

const transportArb: fc.Arbitrary<Transport> = fc.record({
  // Mostly right, so most mutations reach the decoder.
  ct: fc.oneof({ arbitrary: fc.constant(0), weight: 6 }, { arbitrary: fc.integer({ min: 1, max: 8 }), weight: 2 }),
  ce: fc.oneof({ arbitrary: fc.constant(0), weight: 6 }, { arbitrary: fc.integer({ min: 1, max: 10 }), weight: 3 }),
});

function contentType(enc: Enc, n: number): string | undefined {
  const right = enc === 'proto' ? 'application/x-protobuf' : 'application/json';
  const other = enc === 'proto' ? 'application/json' : 'application/x-protobuf';
  return [
    right,
    `${right}; charset=utf-8`,
    right.toUpperCase(),
    enc === 'proto' ? 'application/protobuf' : ' application/json ;',
    other,
    'text/plain',
    undefined,
    'application/json5',
    'multipart/form-data; boundary=x',
  ][n];
}

function encodeBody(body: Uint8Array, n: number): { body: Uint8Array; encoding?: string } {
  switch (n) {
    case 1:
      return { body: gzipSync(body), encoding: 'gzip' };
    case 2:
      return { body: deflateSync(body), encoding: 'deflate' };
    case 3:
      return { body, encoding: 'gzip' }; // not gzip at all
    case 4: {
      const z = gzipSync(body);
      return { body: z.subarray(0, Math.max(1, z.length >> 1)), encoding: 'gzip' }; // truncated
    }
    case 5:
      return { body, encoding: 'br' };
    case 6:
      return { body, encoding: 'identity' };
    case 7:
      return { body: gzipSync(body), encoding: 'x-gzip' };
    case 8:
      return { body: gzipSync(gzipSync(body)), encoding: 'gzip' }; // gzip of gzip: garbage inside
    case 9:
      return { body: gzipSync(body), encoding: 'gzip, identity' };
    case 10:
      return { body: deflateSync(body, { level: 0 }).subarray(2), encoding: 'deflate' }; // raw deflate, no zlib header
    default:
      return { body };
  }
}

function mediaEncoding(ct: string | undefined): Enc | undefined {
  const mt = (ct ?? '').split(';')[0].trim().toLowerCase();
  if (mt === 'application/x-protobuf' || mt === 'application/protobuf') return 'proto';
  if (mt === 'application/json') return 'json';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Sending and judging

let store: SpanStore;
let collector: RunningCollector;
const cleanups: (() => void)[] = [];
const statuses = new Map<number, number>();

interface Answer {
  status: number;
  contentType: string | null;
  retryAfter: string | null;
  body: Buffer;
}

async function send(body: Uint8Array, headers: Record<string, string | undefined>): Promise<Answer> {
  const h: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) h[k] = v;
  const res = await fetch(`${collector.url}/v1/traces`, { method: 'POST', body: new Uint8Array(body), headers: h });
  const out = {
    status: res.status,
    contentType: res.headers.get('content-type'),
    retryAfter: res.headers.get('retry-after'),
    body: Buffer.from(await res.arrayBuffer()),
  };
  statuses.set(out.status, (statuses.get(out.status) ?? 0) + 1);
  return out;
}

/** Throws unless the answer is one the OTLP/HTTP spec (and our backpressure design) allows. */
function judge(a: Answer, sentContentType: string | undefined): void {
  const what = `status ${a.status}, content-type ${a.contentType}, body ${a.body.subarray(0, 200).toString('latin1')}`;
  if (![200, 400, 413, 415, 429, 503].includes(a.status)) throw new Error(`unexpected ${what}`);
  if ((a.status === 429 || a.status === 503) && !a.retryAfter)
    throw new Error(`backpressure without Retry-After: ${what}`);
  // Answers use the request's encoding; a Content-Type we do not take is answered in JSON.
  const enc = mediaEncoding(sentContentType) ?? 'json';
  const wantType = enc === 'proto' ? 'application/x-protobuf' : 'application/json';
  if (a.contentType !== wantType) throw new Error(`answered ${a.contentType}, expected ${wantType}: ${what}`);
  if (a.status === 200) {
    if (enc === 'proto') {
      const r = decodeTraceResponseProto(a.body);
      if (r.partialSuccess && !(r.partialSuccess.rejectedSpans > 0 && r.partialSuccess.errorMessage))
        throw new Error(`odd partial_success: ${what}`);
    } else {
      const r = JSON.parse(a.body.toString('utf8')) as {
        partialSuccess?: { rejectedSpans: string; errorMessage: string };
      };
      if (typeof r !== 'object' || r === null) throw new Error(`200 body is not an object: ${what}`);
      if (r.partialSuccess && !(/^[1-9]\d*$/.test(r.partialSuccess.rejectedSpans) && r.partialSuccess.errorMessage))
        throw new Error(`odd partialSuccess: ${what}`);
    }
    return;
  }
  const st =
    enc === 'proto'
      ? decodeStatusProto(a.body)
      : (JSON.parse(a.body.toString('utf8')) as { code: number; message: string });
  if (!(Number.isInteger(st.code) && st.code > 0)) throw new Error(`Status without a code: ${what}`);
  if (typeof st.message !== 'string' || st.message.length === 0) throw new Error(`Status without a reason: ${what}`);
}

async function sendAndJudge(enc: Enc, body: Uint8Array, t: Transport): Promise<Answer> {
  const ct = contentType(enc, t.ct);
  const e = encodeBody(body, t.ce);
  const a = await send(e.body, { 'content-type': ct, 'content-encoding': e.encoding });
  judge(a, ct);
  return a;
}

function ramDir(prefix: string): { dir: string; cleanup(): void } {
  if (!existsSync('/dev/shm')) return tempDir(prefix);
  const dir = mkdtempSync(path.join('/dev/shm', prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

beforeAll(async () => {
  buildCorpus();
  vi.stubEnv('CLICKHOUSE_URL', '');
  // Spool and store on tmpfs where there is one: a 200 waits for the spool's fsync, which on a
  // disk shared with other test runs took up to ~100 ms; durability is not what this test is about.
  const data = ramDir('sy-fuzz-data-');
  const spool = ramDir('sy-fuzz-spool-');
  cleanups.push(data.cleanup, spool.cleanup);
  store = await openStore({ dataDir: data.dir });
  collector = await startCollector({
    store,
    spoolDir: spool.dir,
    host: '127.0.0.1',
    port: 0,
    flushIntervalMs: 50,
    maxBodyBytes: MAX_BODY,
    decodeThreads: 1,
  });
  // Half the runs decode in the request thread (before the worker is up), half on the worker.
  await collector.decodersReady();
});

afterAll(async () => {
  await collector?.close();
  await store?.close();
  vi.unstubAllEnvs();
  for (const c of cleanups) c();
  if (process.env.FUZZ_VERBOSE)
    console.log(`otlp fuzz seed ${S.seed}: statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
});

async function storedCount(traceId: string): Promise<number> {
  const text = await store.query(`SELECT count() AS n FROM otel_traces WHERE TraceId = '${traceId}'`, 'JSONEachRow');
  return Number((JSON.parse(text.trim() || '{"n":0}') as { n: string }).n);
}

/** A valid export of each encoding is accepted, stored and queryable: the collector is healthy. */
async function expectHealthy(): Promise<void> {
  const health = await fetch(`${collector.url}/healthz`);
  expect(health.status).toBe(200);
  const protoTrace = freshTraceId();
  const jsonTrace = freshTraceId();
  const p = await send(encodeTraceRequestProto(richRequest(protoTrace, 'after-fuzz')), {
    'content-type': 'application/x-protobuf',
  });
  expect(p.status).toBe(200);
  expect(p.body.length).toBe(0); // no partial_success: every span accepted
  const j = await send(Buffer.from(JSON.stringify(richJson(jsonTrace, 'after-fuzz-json'))), {
    'content-type': 'application/json',
  });
  expect(j.status).toBe(200);
  expect(j.body.toString()).toBe('{}');
  await eventually(
    async () => {
      expect(await storedCount(protoTrace)).toBe(1);
      expect(await storedCount(jsonTrace)).toBe(1);
    },
    15_000,
    50,
  );
  // Every span acknowledged during the fuzzing reached the store: none is stuck in memory or in
  // the spool behind a batch the store refused, and the store is still taking writes.
  await eventually(
    async () => {
      const m = await spanMetrics();
      expect(m.store_up).toBe(1);
      expect([m.queued, m.spool_rows]).toEqual([0, 0]);
      expect(m.written_total + m.replayed_total).toBe(m.received_total - m.rejected_total);
    },
    15_000,
    50,
  );
}

async function spanMetrics(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const line of (await collector.metricsText()).split('\n')) {
    const m = /^switchyard_collector_spans_(\w+) (\S+)$/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

describe(`OTLP/HTTP intake fuzzing (FUZZ_SEED=${S.seed})`, () => {
  it('answers structure-mutated protobuf exports per the spec', async () => {
    await fuzz(
      S,
      100,
      fc.asyncProperty(
        fc.record({
          seed: fc.nat(),
          ops: fc.array(protoOpArb, { minLength: 1, maxLength: 4 }),
          bytes: fc.array(byteOpArb, { maxLength: 2 }),
          t: transportArb,
        }),
        async ({ seed, ops, bytes, t }) => {
          let body = mutateProto(pick(PROTO_SEEDS, seed), ops);
          for (const op of bytes) body = applyByteOp(body, op);
          await sendAndJudge('proto', body, t);
        },
      ),
    );
  });

  it('answers mutated OTLP/JSON exports per the spec', async () => {
    await fuzz(
      S,
      100,
      fc.asyncProperty(
        fc.record({
          seed: fc.nat(),
          ops: fc.array(jsonOpArb, { minLength: 1, maxLength: 4 }),
          bytes: fc.array(byteOpArb, { maxLength: 2 }),
          t: transportArb,
        }),
        async ({ seed, ops, bytes, t }) => {
          let body: Uint8Array = Buffer.from(jsonText(mutateJson(pick(JSON_SEEDS, seed), ops)));
          for (const op of bytes) body = applyByteOp(body, op);
          await sendAndJudge('json', body, t);
        },
      ),
    );
  });

  it('answers byte-mutated valid exports and plain noise', async () => {
    await fuzz(
      S,
      80,
      fc.asyncProperty(
        fc.record({
          enc: fc.constantFrom<Enc>('proto', 'json'),
          seed: fc.nat(),
          noise: fc.option(fc.uint8Array({ maxLength: 600 }), { freq: 4 }),
          bytes: fc.array(byteOpArb, { minLength: 1, maxLength: 8 }),
          t: transportArb,
        }),
        async ({ enc, seed, noise, bytes, t }) => {
          let body: Uint8Array =
            noise ??
            (enc === 'proto'
              ? serializeWire(pick(PROTO_SEEDS, seed))
              : Buffer.from(JSON.stringify(pick(JSON_SEEDS, seed))));
          for (const op of bytes) body = applyByteOp(body, op);
          await sendAndJudge(enc, body, t);
        },
      ),
    );
  });

  it('answers a burst of concurrent mutated exports (decode pool with bodies in flight)', async () => {
    const arb = fc.record({
      enc: fc.constantFrom<Enc>('proto', 'json'),
      seed: fc.nat(),
      p: fc.array(protoOpArb, { maxLength: 3 }),
      j: fc.array(jsonOpArb, { maxLength: 3 }),
      t: transportArb,
    });
    const cases = fc.sample(arb, { seed: S.seed, numRuns: S.runs(40) });
    // At most 64 in flight (FUZZ_RUNS can ask for thousands; the kernel's accept backlog is not under test).
    const answers: PromiseSettledResult<Answer>[] = [];
    for (let i = 0; i < cases.length; i += 64) {
      answers.push(
        ...(await Promise.allSettled(
          cases.slice(i, i + 64).map((c) => {
            const body =
              c.enc === 'proto'
                ? mutateProto(pick(PROTO_SEEDS, c.seed), c.p)
                : Buffer.from(jsonText(mutateJson(pick(JSON_SEEDS, c.seed), c.j)));
            return sendAndJudge(c.enc, body, c.t);
          }),
        )),
      );
    }
    const failed = answers.flatMap((a, i) =>
      a.status === 'rejected'
        ? [
            `case ${JSON.stringify(cases[i])}: ${(a.reason as Error).message} ${String((a.reason as { cause?: unknown }).cause ?? '')}`,
          ]
        : [],
    );
    expect(failed, `FUZZ_SEED=${S.seed}`).toEqual([]);
  });

  it('answers targeted edge cases: nesting limits, id lengths, numbers, decompression bombs', async () => {
    const ok = { ct: 0, ce: 0 };
    const base = PROTO_SEEDS[PROTO_SEEDS.length - 1];
    // AnyValue nesting around protobufjs' recursion limit (100 messages) and far past it.
    for (const depth of [1, 30, 48, 49, 50, 51, 99, 100, 101, 1000, 20_000]) {
      for (const kvlist of [false, true]) {
        const body = mutateProto(base, [{ k: 'nest', at: 0, depth, kvlist }]);
        const a = await sendAndJudge('proto', body, ok);
        expect([200, 400], `depth ${depth}`).toContain(a.status);
      }
    }
    // The same in JSON, where the only bound is the stack.
    for (const depth of [50, 100, 300, 1000, 5000]) {
      for (const kvlist of [false, true]) {
        const doc = mutateJson(JSON_SEEDS[JSON_SEEDS.length - 1], [{ k: 'nestAny', at: 0, depth, kvlist }]);
        const a = await sendAndJudge('json', Buffer.from(jsonText(doc)), ok);
        expect([200, 400], `json depth ${depth}`).toContain(a.status);
      }
    }
    // JSON nesting outside any schema field (unknown keys are dropped, never walked).
    const deepUnknown = `{"resourceSpans":[],"x":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    expect((await sendAndJudge('json', Buffer.from(deepUnknown), ok)).status).toBe(200);
    // Every id length from 0 to 33 bytes: 200 with partial_success for the invalid ones.
    for (let len = 0; len <= 33; len++) {
      const a = await sendAndJudge('proto', mutateProto(base, [{ k: 'idLen', at: 0, len, fill: 0xab }]), ok);
      expect(a.status).toBe(200);
    }
    // Numbers as strings, huge and negative numbers, NaN in JSON.
    for (const [field, value] of [
      ['startTimeUnixNano', '18446744073709551615'],
      ['startTimeUnixNano', '18446744073709551616'],
      ['startTimeUnixNano', -1],
      ['startTimeUnixNano', 1.5],
      ['startTimeUnixNano', 1e300],
      ['endTimeUnixNano', '0x10'],
      ['kind', 99],
      ['kind', -1],
      ['kind', '2'],
      ['flags', 2 ** 40],
      ['name', 5],
      ['traceId', 12],
    ] as const) {
      const doc = richJson(freshTraceId(), 'numbers') as {
        resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[];
      };
      doc.resourceSpans[0].scopeSpans[0].spans[0][field] = value;
      const a = await sendAndJudge('json', Buffer.from(JSON.stringify(doc)), ok);
      expect([200, 400], `${field}=${value}`).toContain(a.status);
    }
    // A gzip body that inflates past the limit → 413, within the bound.
    const bomb = gzipSync(Buffer.alloc(MAX_BODY * 4));
    expect((await send(bomb, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' })).status).toBe(
      413,
    );
    // Several mutually contradicting length prefixes in a row (each lie a few bytes off).
    const lies = mutateProto(
      base,
      [0, 1, 2, 3, 4, 5].map((at) => ({ k: 'lenLie' as const, at, delta: (at % 2 ? 1 : -1) * 3 })),
    );
    expect((await sendAndJudge('proto', lies, ok)).status).toBe(400);
    // A valid span with a value nested 40 levels deep (inside protobufjs' limit) is stored whole.
    const inside = await sendAndJudge('proto', mutateProto(base, [{ k: 'nest', at: 0, depth: 40, kvlist: false }]), ok);
    expect([inside.status, inside.body.length]).toEqual([200, 0]);
  });

  it('is healthy afterwards: valid exports are stored and queryable', async () => {
    await expectHealthy();
  });
});
