import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCollectorMetrics } from '../../src/collector/metrics.js';
import { Spool } from '../../src/collector/spool.js';
import { DurableWriter } from '../../src/collector/writer.js';
import type { OtelTraceRow } from '../../src/store/types.js';
import { MemoryStore, tempDir, waitFor } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function writer(
  store: MemoryStore,
  opts: Partial<{
    batchSize: number;
    flushIntervalMs: number;
    eagerFlushRows: number;
    healthCheckIntervalMs: number;
    maxConcurrentWrites: number;
    concurrentWriteRows: number;
  }>,
  spoolDir?: string,
) {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  return new DurableWriter<OtelTraceRow>({
    maxConcurrentWrites: opts.maxConcurrentWrites,
    concurrentWriteRows: opts.concurrentWriteRows,
    name: 'spans',
    insert: (rows) => store.insertTraces(rows),
    ping: () => store.ping(),
    spool: await Spool.open<OtelTraceRow>(spoolDir ?? tmp.dir, 1e9),
    metrics: createCollectorMetrics().spans,
    batchSize: opts.batchSize ?? 100,
    flushIntervalMs: opts.flushIntervalMs ?? 50,
    eagerFlushRows: opts.eagerFlushRows ?? 10,
    maxBufferedRows: 10_000,
    retryIntervalMs: 10,
    maxRetryIntervalMs: 20,
    insertTimeoutMs: 5_000,
    healthCheckIntervalMs: opts.healthCheckIntervalMs ?? 0,
  });
}

const rows = (n: number, tag = 'r') => Array.from({ length: n }, (_, i) => ({ SpanName: `${tag}${i}` }) as OtelTraceRow);

describe('DurableWriter batching', () => {
  it('holds a small batch until the flush interval, then writes it', async () => {
    const store = new MemoryStore();
    const w = await writer(store, { flushIntervalMs: 600, eagerFlushRows: 10 });
    const t0 = Date.now();
    const done = w.submit(rows(3));
    await new Promise((r) => setTimeout(r, 30));
    expect(store.traces).toHaveLength(0);
    await done;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(590);
    expect(store.traceBatches).toEqual([3]);
    await w.close(1000);
  });

  it('writes at once when enough rows wait and no write is running', async () => {
    const store = new MemoryStore();
    const w = await writer(store, { flushIntervalMs: 10_000, eagerFlushRows: 10 });
    const t0 = Date.now();
    await w.submit(rows(12));
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(store.traceBatches).toEqual([12]);
    await w.close(1000);
  });

  it('groups requests that arrive during a write into the next batch, capped at batchSize', async () => {
    const store = new MemoryStore();
    let open!: () => void;
    store.gate = new Promise<void>((r) => (open = r));
    const w = await writer(store, { batchSize: 25, eagerFlushRows: 5, flushIntervalMs: 10_000 });
    const first = w.submit(rows(5, 'a'));
    await waitFor(() => store.insertCalls === 1);
    const later = [w.submit(rows(10, 'b')), w.submit(rows(10, 'c')), w.submit(rows(10, 'd'))];
    expect(w.bufferedRows).toBe(35);
    store.gate = undefined;
    open();
    await Promise.all([first, ...later]);
    // 5 first, then b+c (20, d would pass 25), then d.
    expect(store.traceBatches).toEqual([5, 20, 10]);
    await w.close(1000);
  });

  it('refuses new rows after close', async () => {
    const store = new MemoryStore();
    const w = await writer(store, {});
    await w.close(1000);
    await expect(w.submit(rows(1))).rejects.toThrow(/shutting down/);
  });

  it('switches to the spool when an idle health ping fails, without trying the dead store first', async () => {
    const store = new MemoryStore();
    const w = await writer(store, { healthCheckIntervalMs: 30, flushIntervalMs: 10 });
    store.down = true;
    await new Promise((r) => setTimeout(r, 120));
    const calls = store.insertCalls;
    await w.submit(rows(2));
    expect(store.insertCalls).toBe(calls);
    expect(store.traces).toHaveLength(0);
    store.down = false;
    await waitFor(() => store.traces.length === 2);
    await w.close(1000);
  });
});

/** A store whose inserts each wait until the test settles them (or, once `autoOk`, succeed). */
class ManualStore extends MemoryStore {
  calls: { rows: OtelTraceRow[]; ok(): void; fail(): void }[] = [];
  autoOk = false;
  async insertTraces(rows: OtelTraceRow[]): Promise<void> {
    this.insertCalls++;
    let ok!: () => void;
    let fail!: () => void;
    const answer = new Promise<void>((res, rej) => {
      ok = res;
      fail = () => rej(new Error('store down'));
    });
    this.calls.push({ rows, ok, fail });
    if (this.autoOk) ok();
    await answer;
    this.traces.push(...rows);
    this.traceBatches.push(rows.length);
  }
}

const spoolFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

describe('DurableWriter concurrent writes', () => {
  for (const failing of [0, 1]) {
    it(`overlaps two store writes; when write ${failing + 1} of 2 fails its batch is spooled, then replayed, nothing lost`, async () => {
      const store = new ManualStore();
      const tmp = tempDir();
      cleanups.push(tmp.cleanup);
      const w = await writer(store, { batchSize: 5, eagerFlushRows: 5, flushIntervalMs: 10_000, maxConcurrentWrites: 2 }, tmp.dir);
      const a = w.submit(rows(5, 'a'));
      const b = w.submit(rows(5, 'b'));
      // Both writes are in the store at once, neither answered yet.
      await waitFor(() => store.calls.length === 2);
      expect(store.calls.map((c) => c.rows[0].SpanName)).toEqual(['a0', 'b0']);
      // A third batch waits for a free slot.
      const c = w.submit(rows(5, 'c'));
      await new Promise((r) => setTimeout(r, 30));
      expect(store.calls).toHaveLength(2);

      // One write fails: its batch, and only it, is fsynced in the spool, and its sender answered.
      store.calls[failing].fail();
      await [a, b][failing];
      const failed = failing ? 'b' : 'a';
      expect(spoolFiles(tmp.dir)).toHaveLength(1);
      const spooledRows = JSON.parse(readFileSync(path.join(tmp.dir, spoolFiles(tmp.dir)[0]), 'utf8')) as OtelTraceRow[];
      expect(spooledRows.map((r) => r.SpanName)).toEqual(rows(5, failed).map((r) => r.SpanName));
      // The other one still lands; from here the store takes everything.
      store.autoOk = true;
      store.calls[1 - failing].ok();
      for (const call of store.calls.slice(2)) call.ok();
      await Promise.all([a, b, c]);
      await waitFor(() => spoolFiles(tmp.dir).length === 0 && store.traces.length === 15);
      const names = store.traces.map((r) => r.SpanName).sort();
      expect(names).toEqual([...rows(5, 'a'), ...rows(5, 'b'), ...rows(5, 'c')].map((r) => r.SpanName).sort());
      await w.close(1000);
    });
  }

  it('starts a second write only once concurrentWriteRows rows wait', async () => {
    const store = new ManualStore();
    const w = await writer(store, { batchSize: 100, eagerFlushRows: 5, flushIntervalMs: 10_000, maxConcurrentWrites: 2, concurrentWriteRows: 20 });
    const first = w.submit(rows(5, 'a'));
    await waitFor(() => store.calls.length === 1);
    const small = w.submit(rows(10, 'b'));
    await new Promise((r) => setTimeout(r, 30));
    expect(store.calls).toHaveLength(1);
    const more = w.submit(rows(10, 'c'));
    await waitFor(() => store.calls.length === 2);
    expect(store.calls[1].rows).toHaveLength(20);
    for (const call of store.calls) call.ok();
    await Promise.all([first, small, more]);
    await w.close(1000);
  });
});
