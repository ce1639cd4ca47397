// Ingest benchmark: OTLP/HTTP protobuf spans per second, end to end (HTTP → decode → map →
// write-ahead spool → embedded ClickHouse), against a baseline in the same run: the same
// requests into the same receiver whose store discards the rows. A 200 means the spans are
// fsynced in the spool, so a run ends only once every acknowledged span is in the store
// (counted in otel_traces): spans/s = acknowledged spans / time until the last one is stored.
// Senders run in a worker thread so they do not share the collector's event loop.
//
//   node --import tsx bench/ingest.ts [--runs 5] [--requests 1000] [--concurrency 16] [--spans 512]
//     [--batch-size N] [--flush-interval-ms N] [--eager-flush-rows N] [--max-concurrent-writes N] [--concurrent-write-rows N]
//     [--decode-threads N]
//     (collector writer settings)
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { parseFlags, flagString } from '../src/args.js';
import { startCollector } from '../src/collector/index.js';
import { encodeTraceRequest } from '../src/collector/map-spans.js';
import { decodeTraceRequestProto, encodeTraceRequestProto } from '../src/collector/otlp-proto.js';
import { setLogSink } from '../src/logger.js';
import { NativeWriter } from '../src/store/native-writer.js';
import { openStore } from '../src/store/open.js';
import { TRACE_COLUMNS } from '../src/store/rows.js';
import type { FeedbackRow, OtelTraceRow, SpanStore } from '../src/store/types.js';

const flags = parseFlags(process.argv.slice(2));
const num = (name: string, def: number) => {
  const v = Number(flagString(flags, name) ?? def);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer`);
  return v;
};
const RUNS = num('runs', 5);
const REQUESTS = num('requests', 1000);
const CONCURRENCY = num('concurrency', 16);
const SPANS = num('spans', 512);
// Writer settings under test (the collector's defaults unless given).
const writerFlags = {
  batchSize: flagString(flags, 'batch-size') ? num('batch-size', 1) : undefined,
  flushIntervalMs: flagString(flags, 'flush-interval-ms') ? num('flush-interval-ms', 1) : undefined,
  eagerFlushRows: flagString(flags, 'eager-flush-rows') ? num('eager-flush-rows', 1) : undefined,
  maxConcurrentWrites: flagString(flags, 'max-concurrent-writes') ? num('max-concurrent-writes', 1) : undefined,
  concurrentWriteRows: flagString(flags, 'concurrent-write-rows') ? num('concurrent-write-rows', 1) : undefined,
  // 0 is meaningful here (decode in the request thread).
  decodeThreads:
    flagString(flags, 'decode-threads') !== undefined ? Number(flagString(flags, 'decode-threads')) : undefined,
};
const DEADLINE_MS = 60_000; // per run: the loop stops sending after this, whatever is left
const DISTINCT_BODIES = 16;

/** A store that accepts and forgets: the receiver's own cost, without ClickHouse. */
class DiscardStore implements SpanStore {
  rows = 0;
  async insertTraces(rows: OtelTraceRow[]) {
    this.rows += rows.length;
  }
  async insertFeedback(_rows: FeedbackRow[]) {}
  async insertEncoded(kind: 'traces' | 'tracesJson' | 'feedback', payload: Buffer) {
    if (kind === 'traces') this.rows += countRows(payload);
  }
  async query() {
    return '';
  }
  async ping() {
    return true;
  }
  async close() {}
}

/**
 * Rows in a payload of Native blocks of SPANS rows each (one per bench request): counts block
 * headers (column count, row count, then the first column's name and type) without decoding.
 */
function countRows(payload: Buffer): number {
  const w = new NativeWriter(64);
  w.block(TRACE_COLUMNS.length, SPANS);
  w.column('Timestamp', 'DateTime64(9)');
  const header = w.finish();
  let n = 0;
  for (let i = payload.indexOf(header); i !== -1; i = payload.indexOf(header, i + header.length)) n++;
  return n * SPANS;
}

function hex(n: number, width: number): Buffer {
  return Buffer.from(n.toString(16).padStart(width, '0'), 'hex');
}

/** One request of `SPANS` sidecar-like attempt spans (GenAI attributes, as the sidecar emits). */
function makeBody(seed: number): Uint8Array {
  const base = 1_700_000_000_000_000_000n + BigInt(seed) * 1_000_000_000n;
  const spans = Array.from({ length: SPANS }, (_, i) => {
    const start = base + BigInt(i) * 1_000_000n;
    return {
      traceId: hex(seed * 100_000 + i, 32),
      spanId: hex(seed * 100_000 + i + 1, 16),
      parentSpanId: hex(seed * 100_000 + i + 2, 16),
      name: 'chat gpt-4o',
      kind: 3,
      startTimeUnixNano: start.toString(),
      endTimeUnixNano: (start + 850_000_000n + BigInt(i * 1000)).toString(),
      attributes: [
        { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
        { key: 'gen_ai.provider.name', value: { stringValue: i % 3 ? 'openai' : 'anthropic' } },
        { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o' } },
        { key: 'gen_ai.response.model', value: { stringValue: 'gpt-4o-2024-08-06' } },
        { key: 'gen_ai.response.id', value: { stringValue: `chatcmpl-${seed}-${i}` } },
        { key: 'gen_ai.response.finish_reasons', value: { arrayValue: { values: [{ stringValue: 'stop' }] } } },
        { key: 'gen_ai.usage.input_tokens', value: { intValue: 200 + i } },
        { key: 'gen_ai.usage.output_tokens', value: { intValue: 50 + (i % 97) } },
        { key: 'gen_ai.request.stream', value: { boolValue: i % 2 === 0 } },
        { key: 'server.address', value: { stringValue: 'api.openai.com' } },
        { key: 'http.response.status_code', value: { intValue: 200 } },
        { key: 'switchyard.attempt', value: { intValue: 0 } },
        { key: 'switchyard.target', value: { stringValue: '0' } },
        { key: 'switchyard.outcome', value: { stringValue: 'ok' } },
        { key: 'switchyard.cost_usd', value: { doubleValue: 0.00125 + i * 1e-6 } },
      ],
      status: { code: 1 },
    };
  });
  return encodeTraceRequestProto({
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'bench-svc' } },
            { key: 'service.version', value: { stringValue: '1.0.0' } },
            { key: 'host.name', value: { stringValue: 'bench-host' } },
            { key: 'telemetry.sdk.language', value: { stringValue: 'nodejs' } },
          ],
        },
        scopeSpans: [{ scope: { name: 'switchyard', version: '0.1.0' }, spans }],
      },
    ],
  });
}

// CommonJS source of the sender worker: keep-alive HTTP/1.1, CONCURRENCY requests in flight.
const senderSource = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { port, bodies, concurrency, requests, deadlineMs } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
let next = 0, ok = 0;
const statuses = {};
const t0 = performance.now();
function send(body) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/v1/traces', method: 'POST', agent,
      headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}
async function loop() {
  while (next < requests && performance.now() - t0 < deadlineMs) {
    const st = await send(bodies[next++ % bodies.length]);
    statuses[st] = (statuses[st] || 0) + 1;
    if (st === 200) ok++;
    else await new Promise((r) => setTimeout(r, 50));
  }
}
Promise.all(Array.from({ length: concurrency }, loop)).then(() => {
  parentPort.postMessage({ ok, statuses, elapsedMs: performance.now() - t0 });
  agent.destroy();
});
`;

interface RunResult {
  spansPerSec: number;
  /** Share of the run's wall time with at least one insertTraces in flight. */
  storeBusy?: number;
  /** Inserts in flight on average (sum of insert durations / wall time). */
  insertsInFlight?: number;
  /** CPU time of this whole process (all threads: receiver, senders, engine) per second of wall time. */
  cpuCores?: number;
  avgBatch?: number;
  /** Process CPU (µs) per acknowledged span. */
  cpuUsPerSpan?: number;
  /** Spans the store gained during the run (must equal the acknowledged ones). */
  stored?: number;
  /** From the last acknowledgement until the last acknowledged span was queryable. */
  drainMs?: number;
  /** Most acknowledged spans not yet in the store at once (sampled every 500 ms). */
  maxUnstored?: number;
  okRequests: number;
  statuses: Record<string, number>;
}

function runSenders(port: number, bodies: Uint8Array[], requests: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(senderSource, {
      eval: true,
      workerData: { port, bodies, concurrency: CONCURRENCY, requests, deadlineMs: DEADLINE_MS },
    });
    worker.once('message', (m: { ok: number; statuses: Record<string, number>; elapsedMs: number }) => {
      resolve({ spansPerSec: (m.ok * SPANS) / (m.elapsedMs / 1000), okRequests: m.ok, statuses: m.statuses });
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

/** Measures how long the store spends inside insertTraces (how busy the engine is kept). */
class TimedStore implements SpanStore {
  /** Wall time with at least one insert in flight. */
  busyMs = 0;
  /** Sum of every insert's duration (> busyMs when inserts overlap). */
  insertMs = 0;
  inserts = 0;
  private active = 0;
  private busySince = 0;
  constructor(readonly inner: SpanStore) {}
  /** busyMs including an insert still running (overlapping inserts may never let it reach 0). */
  busyNow(): number {
    return this.busyMs + (this.active > 0 ? performance.now() - this.busySince : 0);
  }
  insertTraces(rows: OtelTraceRow[]) {
    return this.timed(() => this.inner.insertTraces(rows));
  }
  insertEncoded(kind: 'traces' | 'tracesJson' | 'feedback', payload: Buffer) {
    return kind === 'traces'
      ? this.timed(() => this.inner.insertEncoded(kind, payload))
      : this.inner.insertEncoded(kind, payload);
  }
  private async timed(insert: () => Promise<void>) {
    const t0 = performance.now();
    if (this.active++ === 0) this.busySince = t0;
    try {
      await insert();
    } finally {
      const t1 = performance.now();
      this.insertMs += t1 - t0;
      if (--this.active === 0) this.busyMs += t1 - this.busySince;
      this.inserts++;
    }
  }
  insertFeedback(rows: FeedbackRow[]) {
    return this.inner.insertFeedback(rows);
  }
  query(sql: string, format?: string) {
    return this.inner.query(sql, format);
  }
  ping() {
    return this.inner.ping();
  }
  async close() {}
}

/** Spans the store holds now (otel_traces count, or what the discarding store took). */
async function storedSpans(store: SpanStore): Promise<number> {
  if (store instanceof DiscardStore) return store.rows;
  return Number((await store.query('SELECT count() FROM otel_traces', 'TabSeparated')).trim());
}

async function oneRun(store: SpanStore, bodies: Uint8Array[], requests: number): Promise<RunResult> {
  const spoolDir = mkdtempSync(path.join(os.tmpdir(), 'sy-bench-spool-'));
  const collector = await startCollector({ store, spoolDir, host: '127.0.0.1', port: 0, ...writerFlags });
  // Steady state: a collector just started decodes in its request thread until its workers have
  // loaded (~0.8 s under tsx, longer under load), which would weigh ~10 % of a run.
  await collector.decodersReady();
  let sampling = true;
  let maxUnstored = 0;
  // Acknowledged rows not yet stored, sampled through the collector's own gauge: a metrics
  // scrape costs the collector's thread ~1 ms, so not too often (Prometheus scrapes every 15-60 s).
  const sampler = (async () => {
    while (sampling) {
      const m = /switchyard_collector_spans_queued (\d+)/.exec(await collector.metricsText());
      maxUnstored = Math.max(maxUnstored, Number(m?.[1] ?? 0));
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  try {
    const timed = store instanceof TimedStore ? store : undefined;
    const before = timed ? { busy: timed.busyNow(), ms: timed.insertMs, n: timed.inserts } : undefined;
    const stored0 = await storedSpans(store);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const r = await runSenders(collector.port, bodies, requests);
    const acked = r.okRequests * SPANS;
    const tAcked = performance.now();
    // The run ends when the last acknowledged span can be queried (bounded wait).
    let stored = await storedSpans(store);
    while (stored - stored0 < acked && performance.now() - tAcked < 30_000) {
      await new Promise((res) => setTimeout(res, 10));
      stored = await storedSpans(store);
    }
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    r.spansPerSec = acked / (wall / 1000);
    r.stored = stored - stored0;
    r.drainMs = performance.now() - tAcked;
    r.maxUnstored = maxUnstored;
    r.cpuCores = (cpu.user + cpu.system) / 1000 / wall;
    r.cpuUsPerSpan = (cpu.user + cpu.system) / Math.max(1, acked);
    if (timed && before) {
      r.storeBusy = (timed.busyNow() - before.busy) / wall;
      r.insertsInFlight = (timed.insertMs - before.ms) / wall;
      r.avgBatch = acked / Math.max(1, timed.inserts - before.n);
    }
    return r;
  } finally {
    sampling = false;
    await sampler;
    await collector.close();
    rmSync(spoolDir, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function decodeOnlyRate(bodies: Uint8Array[]): number {
  let spans = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 1000) {
    for (const b of bodies) spans += encodeTraceRequest(decodeTraceRequestProto(b)).rows;
  }
  return spans / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  // Keep benchmark output readable: only warnings and errors from the collector.
  setLogSink((line) => {
    if (!line.includes('"level":"info"')) process.stderr.write(`${line}\n`);
  });
  const bodies = Array.from({ length: DISTINCT_BODIES }, (_, i) => makeBody(i + 1));
  console.log(
    `ingest bench: ${RUNS} runs × ${REQUESTS} requests × ${SPANS} spans (${(bodies[0].length / 1024).toFixed(0)} KiB protobuf each), ` +
      `${CONCURRENCY} concurrent senders, ${os.cpus().length} cores`,
  );

  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sy-bench-data-'));
  process.env.CLICKHOUSE_URL = '';
  const embedded = new TimedStore(await openStore({ dataDir }));
  const discard = new DiscardStore();
  try {
    // Warm-up: JIT, connections, first parts of the table.
    await oneRun(discard, bodies, 40);
    await oneRun(embedded, bodies, 40);
    const warmupRows = Number((await embedded.query('SELECT count() FROM otel_traces', 'TabSeparated')).trim());

    const base: number[] = [];
    const real: number[] = [];
    const cpuPerSpan: number[] = [];
    let acked = 0;
    for (let r = 0; r < RUNS; r++) {
      const b = await oneRun(discard, bodies, REQUESTS);
      const e = await oneRun(embedded, bodies, REQUESTS);
      acked += e.okRequests * SPANS;
      base.push(b.spansPerSec);
      real.push(e.spansPerSec);
      const visible = (x: RunResult) =>
        `stored ${x.stored === x.okRequests * SPANS ? 'all' : `${x.stored} of ${x.okRequests * SPANS}`}, last one ${Math.round(x.drainMs ?? 0)} ms after its ack, ` +
        `≤ ${(x.maxUnstored ?? 0).toLocaleString('en-US')} acked-not-stored`;
      console.log(
        `run ${r + 1}: baseline (discarding store) ${Math.round(b.spansPerSec).toLocaleString('en-US')} spans/s ${JSON.stringify(b.statuses)} ` +
          `(${(b.cpuUsPerSpan ?? 0).toFixed(1)} µs CPU/span); ` +
          `embedded ClickHouse ${Math.round(e.spansPerSec).toLocaleString('en-US')} spans/s ${JSON.stringify(e.statuses)} ` +
          `(${visible(e)}; store busy ${Math.round((e.storeBusy ?? 0) * 100)}% of the run, ${(e.insertsInFlight ?? 0).toFixed(2)} inserts in flight, ` +
          `${Math.round(e.avgBatch ?? 0)} rows per insert, ` +
          `process CPU ${(e.cpuCores ?? 0).toFixed(2)} cores, ${(e.cpuUsPerSpan ?? 0).toFixed(1)} µs/span; baseline ${(b.cpuCores ?? 0).toFixed(2)})`,
      );
      cpuPerSpan.push(e.cpuUsPerSpan ?? 0);
    }
    const stored =
      Number((await embedded.query('SELECT count() FROM otel_traces', 'TabSeparated')).trim()) - warmupRows;
    const mBase = median(base);
    const mReal = median(real);
    console.log(
      `decode+map+encode only (no HTTP, no store): ${Math.round(decodeOnlyRate(bodies)).toLocaleString('en-US')} spans/s`,
    );
    console.log(`median baseline (receiver, discarding store): ${Math.round(mBase).toLocaleString('en-US')} spans/s`);
    console.log(
      `median end to end into embedded ClickHouse:  ${Math.round(mReal).toLocaleString('en-US')} spans/s (target ≥ 50,000)`,
    );
    console.log(`ratio embedded / baseline: ${(mReal / mBase).toFixed(2)}`);
    console.log(`median process CPU per span, embedded: ${median(cpuPerSpan).toFixed(1)} µs`);
    console.log(
      `rows in otel_traces from measured runs: ${stored.toLocaleString('en-US')} (acknowledged: ${acked.toLocaleString('en-US')})`,
    );
    if (stored !== acked) {
      console.error('MISMATCH: acknowledged spans are missing from the store');
      process.exitCode = 1;
    }
  } finally {
    await embedded.inner.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
