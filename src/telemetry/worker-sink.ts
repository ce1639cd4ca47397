// The request thread's side of the export worker: batches request records (a structured clone
// per batch, not per span), bounds what is queued (beyond it spans are dropped and counted, so a
// stuck worker or backend never grows memory or slows a request), and proxies /metrics, flush
// and shutdown.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { logger } from '../logger.js';
import type { PipelineOptions } from './pipeline.js';
import type { PriceTable } from './pricing.js';
import type { RecordSink } from './recorder.js';
import type { RequestRecord } from './records.js';
import { RecordEncoder } from './record-codec.js';
import { type FromWorker, SHUTDOWN_FLUSH_MS, type ToWorker } from './worker-protocol.js';

/** Records wait at most this long before they cross to the worker (short: records held longer
 *  survive young-generation GCs and cost more to collect). */
const BATCH_MS = 20;
const BATCH_MAX = 256;

/** Heap bounds for the worker. Its young-generation cost is the spans it holds between exports
 *  (every scavenge copies them), so a 16 MB young generation with small export batches
 *  (pipeline.ts) scavenges a fifth as long as the earlier 4 MB with 512-span batches: --trace-gc
 *  under c=50 gave ~8 vs ~35-50 µs of GC per request. The old generation is capped so a
 *  sidecar's memory stays predictable under a pod limit: the worker's live set is its modules
 *  plus the bounded span queue (~8 KB a span is generous). */
function resourceLimits(maxQueuedSpans: number): ResourceLimits {
  return { maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: 32 + Math.ceil((maxQueuedSpans * 8) / 1024) };
}

function startWorker(options: PipelineOptions, env: NodeJS.ProcessEnv, limits: ResourceLimits): Worker {
  const compiled = new URL('./export-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(compiled)))
    return new Worker(compiled, { workerData: { options }, env, resourceLimits: limits });
  // Running from TypeScript sources (tests, tsx): load the worker through tsx as well.
  const source = new URL('./export-worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(boot, { eval: true, workerData: { options }, env, resourceLimits: limits });
}

export class WorkerSink implements RecordSink {
  private readonly worker: Worker;
  /** Records are encoded as they arrive (record-codec.ts), so the objects die young here. */
  private readonly encoder = new RecordEncoder();
  private batchRecords = 0;
  private batchSpans = 0;
  private inflightSpans = 0;
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;
  private dead = false;
  private closing = false;
  private nextId = 1;
  private readonly calls = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  constructor(
    options: PipelineOptions,
    env: NodeJS.ProcessEnv,
    private readonly maxQueuedSpans: number,
  ) {
    this.worker = startWorker(options, env, resourceLimits(maxQueuedSpans));
    this.worker.unref();
    this.worker.on('message', (m: FromWorker) => {
      if (m.t === 'ack') {
        this.inflightSpans -= m.spans;
        return;
      }
      const call = this.calls.get(m.id);
      this.calls.delete(m.id);
      if (m.error !== undefined) call?.reject(new Error(m.error));
      else call?.resolve(m.value);
    });
    const stop = (why: string) => {
      if (this.dead) return;
      this.dead = true;
      if (!this.closing)
        logger.error('telemetry export worker stopped; spans are dropped from now on', { reason: why });
      for (const c of this.calls.values()) c.reject(new Error(`telemetry export worker stopped: ${why}`));
      this.calls.clear();
    };
    this.worker.on('error', (err) => stop(String(err)));
    this.worker.on('exit', (code) => stop(`exit ${code}`));
  }

  submit(record: RequestRecord): void {
    const spans = 1 + record.attempts.length;
    if (this.dead || this.inflightSpans + this.batchSpans + spans > this.maxQueuedSpans) {
      this.dropped += spans;
      return;
    }
    this.encoder.add(record);
    this.batchRecords++;
    this.batchSpans += spans;
    if (this.batchRecords >= BATCH_MAX) this.post();
    else this.timer ??= setTimeout(() => this.post(), BATCH_MS).unref();
  }

  setPricing(table: PriceTable | undefined): void {
    this.send({ t: 'pricing', table });
  }

  metricsText(): Promise<{ contentType: string; body: string }> {
    return this.call('metrics') as Promise<{ contentType: string; body: string }>;
  }

  async flush(): Promise<void> {
    await this.call('flush');
  }

  async shutdown(): Promise<void> {
    const done = this.call('shutdown').catch(() => undefined);
    await Promise.race([done, new Promise((r) => setTimeout(r, SHUTDOWN_FLUSH_MS + 500).unref())]);
    this.closing = true;
    await this.worker.terminate();
  }

  private post(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.batchRecords === 0 && this.dropped === 0) return;
    this.send({ t: 'records', batch: this.encoder.take(), spans: this.batchSpans, dropped: this.dropped });
    this.inflightSpans += this.batchSpans;
    this.batchRecords = 0;
    this.batchSpans = 0;
    this.dropped = 0;
  }

  private call(t: 'metrics' | 'flush' | 'shutdown'): Promise<unknown> {
    this.post(); // what was recorded before the call is part of its answer
    if (this.dead) return Promise.reject(new Error('telemetry export worker stopped'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      this.send({ t, id });
    });
  }

  private send(m: ToWorker): void {
    if (!this.dead) this.worker.postMessage(m);
  }
}
