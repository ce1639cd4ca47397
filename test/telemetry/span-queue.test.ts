// The sidecar's span queue against a receiver on 127.0.0.1 that is slower than the sender: it
// refuses (503) for a while, then answers one request at a time, late. Every span arrives,
// none is dropped, the disk queue was used and is empty afterwards; past its disk budget spans
// are dropped and counted.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeTraceRequestProto } from '../../src/collector/otlp-proto.js';
import { QueuedSpanExporter } from '../../src/telemetry/queued-exporter.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface SlowReceiver {
  endpoint: string;
  names: Set<string>;
  requests: number;
  refused: number;
}

/** Answers 503 until `refuseUntil`, then one request at a time, each `delayMs` late. */
async function slowReceiver(refuseMs: number, delayMs: number): Promise<SlowReceiver> {
  const state: SlowReceiver = { endpoint: '', names: new Set(), requests: 0, refused: 0 };
  const refuseUntil = Date.now() + refuseMs;
  let busy: Promise<void> = Promise.resolve();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.requests++;
      if (Date.now() < refuseUntil) {
        state.refused++;
        res.writeHead(503, { 'retry-after': '0' }).end();
        return;
      }
      busy = busy.then(
        () =>
          new Promise<void>((done) =>
            setTimeout(() => {
              const r = decodeTraceRequestProto(Buffer.concat(chunks));
              for (const rs of r.resourceSpans ?? [])
                for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) state.names.add(s.name ?? '');
              res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
              done();
            }, delayMs),
          ),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  server.on('connection', (s) => cleanups.push(() => void s.destroy()));
  state.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

function spoolDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sy-span-queue-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function tracer(exporter: QueuedSpanExporter) {
  // Small batches, sent often: many requests queue up behind the slow receiver.
  const provider = new BasicTracerProvider({
    spanProcessors: [
      new BatchSpanProcessor(exporter, { maxExportBatchSize: 20, scheduledDelayMillis: 5, maxQueueSize: 10_000 }),
    ],
  });
  cleanups.push(() => provider.shutdown());
  return { tracer: provider.getTracer('test'), provider };
}

const walFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.wal'));

describe('span queue (the sidecar waits on disk for a slow receiver)', () => {
  it('a receiver slower than the sender loses no span, and the disk queue drains', async () => {
    const rx = await slowReceiver(300, 15);
    const dir = spoolDir();
    let dropped = 0;
    const exporter = new QueuedSpanExporter(
      { OTEL_EXPORTER_OTLP_ENDPOINT: rx.endpoint, OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '2000' },
      undefined,
      { dir, maxBytes: 64 * 1024 * 1024 },
      (n) => (dropped += n),
    );
    const { tracer: t, provider } = tracer(exporter);
    const N = 2000;
    let sawDisk = 0;
    for (let i = 0; i < N; i++) {
      t.startSpan(`s${i}`).end();
      if (i % 100 === 0) {
        await new Promise((r) => setImmediate(r));
        sawDisk = Math.max(sawDisk, exporter.queue.queuedSpans);
      }
    }
    await provider.forceFlush();
    // Bounded wait: 60 rounds of flush (each returns once idle or backing off) and a short pause.
    for (let i = 0; i < 60 && rx.names.size < N; i++) {
      sawDisk = Math.max(sawDisk, exporter.queue.queuedSpans);
      await exporter.forceFlush();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(rx.refused).toBeGreaterThan(0);
    expect(sawDisk).toBeGreaterThan(0);
    expect(dropped).toBe(0);
    expect(rx.names.size).toBe(N);
    expect(exporter.queue.queuedSpans).toBe(0);
    expect(walFiles(dir)).toEqual([]);
  }, 30_000);

  it('past its disk budget spans are dropped and counted, never held in memory', async () => {
    const rx = await slowReceiver(60_000, 0); // refuses for the whole test
    const dir = spoolDir();
    let dropped = 0;
    const exporter = new QueuedSpanExporter(
      { OTEL_EXPORTER_OTLP_ENDPOINT: rx.endpoint, OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '500' },
      undefined,
      { dir, maxBytes: 8 * 1024 },
      (n) => (dropped += n),
    );
    const { tracer: t, provider } = tracer(exporter);
    for (let i = 0; i < 1000; i++) t.startSpan(`s${i}`).end();
    await provider.forceFlush();
    for (let i = 0; i < 50 && exporter.queue.queuedSpans + dropped + rx.names.size < 1000; i++)
      await new Promise((r) => setTimeout(r, 100));
    const onDisk = exporter.queue.queuedSpans;
    expect(onDisk).toBeGreaterThan(0);
    expect(dropped).toBeGreaterThan(0);
    expect(onDisk + dropped).toBe(1000);
  }, 30_000);
});
