// DurableWriter through its write-ahead spool: acknowledgements after fsync, large inserts
// decoupled from request size, the visibility bound, crash recovery, ordered replay, limits.
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCollectorMetrics } from '../../src/collector/metrics.js';
import { Spool } from '../../src/collector/spool.js';
import { BufferFullError, DurableWriter } from '../../src/collector/writer.js';
import type { OtelTraceRow } from '../../src/store/types.js';
import { MemoryStore, tempDir, waitFor } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

// These rows carry only a name: a plain JSON-lines codec stands in for the store encoding.
const encode = (rs: OtelTraceRow[]) => Buffer.from(rs.map((r) => `${JSON.stringify(r)}\n`).join(''));
const decode = (b: Buffer) =>
  b
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as OtelTraceRow);

type Opts = Partial<{
  batchSize: number;
  flushIntervalMs: number;
  eagerFlushRows: number;
  healthCheckIntervalMs: number;
  maxConcurrentWrites: number;
  concurrentWriteRows: number;
  maxBufferedRows: number;
}>;

async function writer(store: MemoryStore, opts: Opts, spoolDir?: string) {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const metrics = createCollectorMetrics();
  const w = new DurableWriter<OtelTraceRow>({
    maxConcurrentWrites: opts.maxConcurrentWrites,
    concurrentWriteRows: opts.concurrentWriteRows,
    name: 'spans',
    encode,
    insert: (payload) => store.insertTraces(decode(payload)),
    ping: () => store.ping(),
    spool: await Spool.open(spoolDir ?? tmp.dir, 1e9),
    metrics: metrics.spans,
    batchSize: opts.batchSize ?? 100,
    flushIntervalMs: opts.flushIntervalMs ?? 50,
    eagerFlushRows: opts.eagerFlushRows ?? 10,
    maxBufferedRows: opts.maxBufferedRows ?? 10_000,
    retryIntervalMs: 10,
    maxRetryIntervalMs: 20,
    insertTimeoutMs: 5_000,
    healthCheckIntervalMs: opts.healthCheckIntervalMs ?? 0,
  });
  return Object.assign(w, { metricsText: () => metrics.registry.metrics() });
}

const rows = (n: number, tag = 'r') =>
  Array.from({ length: n }, (_, i) => ({ SpanName: `${tag}${i}` }) as OtelTraceRow);
const names = (rs: OtelTraceRow[]) => rs.map((r) => r.SpanName);
const walFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.wal'))
    .sort();

describe('DurableWriter: acknowledged once fsynced, inserted in large batches', () => {
  it('acknowledges before the store answers: the rows are in the spool file', async () => {
    const store = new MemoryStore();
    store.gate = new Promise(() => undefined); // the store never answers
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const w = await writer(store, { eagerFlushRows: 1000, flushIntervalMs: 60_000 }, tmp.dir);
    await w.submit(rows(3, 'a'));
    expect(store.traces).toHaveLength(0);
    const [file] = walFiles(tmp.dir);
    expect(readFileSync(path.join(tmp.dir, file), 'utf8')).toContain('"SpanName":"a2"');
  });

  it('groups many small requests into one insert, and inserts a small batch within the flush interval', async () => {
    const store = new MemoryStore();
    const w = await writer(store, { batchSize: 1000, eagerFlushRows: 50, flushIntervalMs: 300 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => w.submit(rows(5, `q${i}-`))));
    // 50 rows in 10 requests: one insert, not ten.
    await waitFor(() => store.traces.length === 50);
    expect(store.traceBatches).toEqual([50]);

    // Below eagerFlushRows: visible once the interval passed (the documented visibility delay).
    const t0 = Date.now();
    await w.submit(rows(3, 'late'));
    await waitFor(() => store.traces.length === 53, 2000, 5);
    const delay = Date.now() - t0;
    expect(delay).toBeGreaterThanOrEqual(290);
    expect(delay).toBeLessThan(1000);
    await w.close(1000);
  });

  it('caps an insert at batchSize rows', async () => {
    const store = new MemoryStore();
    let open!: () => void;
    store.gate = new Promise<void>((r) => (open = r));
    const w = await writer(store, { batchSize: 25, eagerFlushRows: 5, flushIntervalMs: 10_000 });
    await w.submit(rows(5, 'a'));
    await waitFor(() => store.insertCalls === 1);
    // While that insert runs, 30 more rows arrive: b+c (20; d would pass 25), then d.
    for (const t of ['b', 'c', 'd']) await w.submit(rows(10, t));
    store.gate = undefined;
    open();
    await waitFor(() => store.traces.length === 35);
    expect(store.traceBatches).toEqual([5, 20, 10]);
    expect(names(store.traces)).toEqual(
      [...rows(5, 'a'), ...rows(10, 'b'), ...rows(10, 'c'), ...rows(10, 'd')].map((r) => r.SpanName),
    );
    await w.close(1000);
  });

  it('answers 429 (counted as refused) once maxBufferedRows acknowledged rows are not yet stored', async () => {
    const store = new MemoryStore();
    store.gate = new Promise(() => undefined);
    const w = await writer(store, { maxBufferedRows: 20, eagerFlushRows: 5 });
    await w.submit(rows(15));
    await expect(w.submit(rows(10))).rejects.toBeInstanceOf(BufferFullError);
    expect(await w.metricsText()).toMatch(/switchyard_collector_spans_refused_total 10\b/);
  });

  it('refuses new rows after close', async () => {
    const store = new MemoryStore();
    const w = await writer(store, {});
    await w.close(1000);
    await expect(w.submit(rows(1))).rejects.toThrow(/shutting down/);
  });

  it('stops trying the store when an idle health ping fails, and replays once it answers', async () => {
    const store = new MemoryStore();
    const w = await writer(store, { healthCheckIntervalMs: 30, flushIntervalMs: 10 });
    store.down = true;
    await new Promise((r) => setTimeout(r, 120));
    const calls = store.insertCalls;
    await w.submit(rows(2));
    await new Promise((r) => setTimeout(r, 50));
    expect(store.insertCalls).toBe(calls);
    store.down = false;
    await waitFor(() => store.traces.length === 2);
    await w.close(1000);
  });
});

describe('DurableWriter: crash recovery', () => {
  it('keeps acknowledged rows across a crash before their insert; the next start stores them exactly once', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const hung = new MemoryStore();
    hung.gate = new Promise(() => undefined);
    const first = await writer(hung, { eagerFlushRows: 8, flushIntervalMs: 10 }, tmp.dir);
    for (let i = 0; i < 4; i++) await first.submit(rows(5, `c${i}-`));
    // "Crash": the first writer is abandoned as it is (never closed, its inserts never answer),
    // and a torn record from a write that never completed (never acknowledged) ends the file.
    const files = walFiles(tmp.dir);
    appendFileSync(path.join(tmp.dir, files.at(-1)!), Buffer.from([0x31, 0x57, 0x59, 0x53, 9, 0, 0, 0]));

    const store = new MemoryStore();
    const second = await writer(store, {}, tmp.dir);
    await waitFor(() => walFiles(tmp.dir).length === 0 && store.traces.length === 20);
    await new Promise((r) => setTimeout(r, 50));
    expect(names(store.traces)).toEqual([0, 1, 2, 3].flatMap((i) => names(rows(5, `c${i}-`))));
    expect(await second.metricsText()).toMatch(/switchyard_collector_spans_replayed_total 20\b/);
    await second.close(1000);
  });
});

describe('Spool: segments from before the write-ahead log', () => {
  it('replays a legacy <seq>-<rows>.json segment before newer rows', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    writeFileSync(path.join(tmp.dir, '0000000000000007-2.json'), JSON.stringify(rows(2, 'old')));
    const spool = await Spool.open(tmp.dir, 1e9, { legacyEncode: (rs) => encode(rs as OtelTraceRow[]) });
    expect(spool.rows).toBe(2);
    const store = new MemoryStore();
    const w = new DurableWriter<OtelTraceRow>({
      name: 'spans',
      encode,
      insert: (payload) => store.insertTraces(decode(payload)),
      ping: () => store.ping(),
      spool,
      metrics: createCollectorMetrics().spans,
      batchSize: 100,
      flushIntervalMs: 10,
      eagerFlushRows: 10,
      maxBufferedRows: 1000,
      retryIntervalMs: 10,
      maxRetryIntervalMs: 20,
      insertTimeoutMs: 5000,
      healthCheckIntervalMs: 0,
    });
    await w.submit(rows(1, 'new'));
    // A segment's file goes once its insert answered: just after its rows reach the store.
    await waitFor(() => store.traces.length === 3 && readdirSync(tmp.dir).length === 0);
    expect(names(store.traces)).toEqual(['old0', 'old1', 'new0']);
    expect(readdirSync(tmp.dir)).toEqual([]);
    await w.close(1000);
  });
});

/** A store whose inserts each wait until the test settles them (or, once `autoOk`, succeed). */
class ManualStore extends MemoryStore {
  calls: { rows: OtelTraceRow[]; ok(): void; fail(): void }[] = [];
  autoOk = false;
  async insertTraces(rs: OtelTraceRow[]): Promise<void> {
    this.insertCalls++;
    let ok!: () => void;
    let fail!: () => void;
    const answer = new Promise<void>((res, rej) => {
      ok = res;
      fail = () => rej(new Error('store down'));
    });
    this.calls.push({ rows: rs, ok, fail });
    if (this.autoOk) ok();
    await answer;
    this.traces.push(...rs);
    this.traceBatches.push(rs.length);
  }
}

describe('DurableWriter concurrent inserts', () => {
  for (const failing of [0, 1]) {
    it(`overlaps two inserts; when insert ${failing + 1} of 2 fails its rows stay in the spool and are replayed, nothing lost`, async () => {
      const store = new ManualStore();
      const tmp = tempDir();
      cleanups.push(tmp.cleanup);
      const w = await writer(
        store,
        { batchSize: 5, eagerFlushRows: 5, flushIntervalMs: 10_000, maxConcurrentWrites: 2 },
        tmp.dir,
      );
      await w.submit(rows(5, 'a'));
      await w.submit(rows(5, 'b'));
      // Both inserts are in the store at once, neither answered yet.
      await waitFor(() => store.calls.length === 2);
      expect(store.calls.map((c) => c.rows[0].SpanName)).toEqual(['a0', 'b0']);
      // A third batch is acknowledged too, and waits for a free slot.
      await w.submit(rows(5, 'c'));
      await new Promise((r) => setTimeout(r, 30));
      expect(store.calls).toHaveLength(2);

      store.calls[failing].fail();
      await waitFor(async () => /switchyard_collector_spans_store_up 0/.test(await w.metricsText()));
      store.autoOk = true;
      store.calls[1 - failing].ok();
      await waitFor(() => walFiles(tmp.dir).length === 0 && store.traces.length === 15);
      expect(names(store.traces).sort()).toEqual(
        [...rows(5, 'a'), ...rows(5, 'b'), ...rows(5, 'c')].map((r) => r.SpanName).sort(),
      );
      await w.close(1000);
    });
  }

  it('starts a second insert only once concurrentWriteRows rows wait', async () => {
    const store = new ManualStore();
    const w = await writer(store, {
      batchSize: 100,
      eagerFlushRows: 5,
      flushIntervalMs: 10_000,
      maxConcurrentWrites: 2,
      concurrentWriteRows: 20,
    });
    await w.submit(rows(5, 'a'));
    await waitFor(() => store.calls.length === 1);
    await w.submit(rows(10, 'b'));
    await new Promise((r) => setTimeout(r, 30));
    expect(store.calls).toHaveLength(1);
    await w.submit(rows(10, 'c'));
    await waitFor(() => store.calls.length === 2);
    expect(store.calls[1].rows).toHaveLength(20);
    for (const call of store.calls) call.ok();
    await w.close(1000);
  });
});

describe('spool seal', () => {
  it('answers a seal() made while an earlier seal() is closing the segment (close() hung on it)', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const spool = await Spool.open(tmp.dir, 1e9);
    const appended = spool.append(Buffer.from('row'), 1, () => false);
    const first = spool.seal(); // a write+sync is running: waits for it
    await appended; // the flush loop is now closing the segment for `first`
    const second = spool.seal();
    const outcome = await Promise.race([
      Promise.all([first, second]).then(() => 'sealed'),
      new Promise((r) => setTimeout(r, 2000, 'still waiting')),
    ]);
    expect(outcome).toBe('sealed');
    await spool.close();
  });
});
