// Outage behaviour end to end through HTTP: every acknowledged span is fsynced in the spool (the
// write-ahead log) first; spans sent while the store fails stay there, are replayed in order
// when it returns, and survive a restart.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from '../../src/collector/index.js';
import { encodeTraceRequestProto } from '../../src/collector/otlp-proto.js';
import { decodeTraceRequestProto } from '../../src/collector/otlp-proto.js';
import { encodeTraceRowsJson } from '../store/json-rows.js';
import { MemoryStore, mapTraceRequest, protoRequest, protoSpan, tempDir, waitFor } from './helpers.js';

const running: RunningCollector[] = [];
const dirs: (() => void)[] = [];
afterEach(async () => {
  for (const c of running.splice(0)) await c.close();
  for (const d of dirs.splice(0)) d();
});

async function start(store: MemoryStore, spoolDir: string, extra: Record<string, unknown> = {}) {
  const c = await startCollector({
    store,
    spoolDir,
    host: '127.0.0.1',
    port: 0,
    flushIntervalMs: 10,
    retryIntervalMs: 20,
    maxRetryIntervalMs: 50,
    ...extra,
  });
  running.push(c);
  return c;
}

function send(c: RunningCollector, names: string[]) {
  const body = encodeTraceRequestProto(protoRequest(names.map((name) => protoSpan({ name }))));
  return fetch(`${c.url}/v1/traces`, {
    method: 'POST',
    body: new Uint8Array(body),
    headers: { 'content-type': 'application/x-protobuf' },
  });
}

function names(from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => `s${from + i}`);
}

function spoolFiles(dir: string): string[] {
  return readdirSync(path.join(dir, 'spans')).filter((f) => f.endsWith('.wal'));
}

describe('durable writes', () => {
  it('spools during an outage and replays everything in order when the store returns', async () => {
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    const store = new MemoryStore();
    const c = await start(store, dir);

    expect((await send(c, names(0, 5))).status).toBe(200);
    await waitFor(() => store.traces.length === 5);

    store.down = true;
    for (let i = 5; i < 50; i += 5) expect((await send(c, names(i, i + 5))).status).toBe(200);
    expect(spoolFiles(dir).length).toBeGreaterThan(0);
    // Acknowledged rows count as spooled once the store refused them (or arrived while it was down).
    await waitFor(async () => /switchyard_collector_spans_spooled_total 45\b/.test(await c.metricsText()));
    expect(store.traces).toHaveLength(5);
    const during = await c.metricsText();
    expect(during).toMatch(/switchyard_collector_spans_spooled_total 45/);
    expect(during).toMatch(/switchyard_collector_spans_store_up 0/);

    store.down = false;
    // While the spool drains, new spans queue behind it so order holds.
    expect((await send(c, names(50, 55))).status).toBe(200);
    await waitFor(() => store.traces.length === 55);
    expect(store.traces.map((r) => r.SpanName)).toEqual(names(0, 55));
    // The last segment is removed from disk (and counted) just after its rows reach the store.
    // s50-s54 are spooled too when they arrive while the spool drains (50 replayed), or written
    // directly when a slow request arrives after it drained (45): either way every spooled row
    // is replayed.
    const counter = (text: string, name: string) => Number(new RegExp(`spans_${name}_total (\\d+)`).exec(text)?.[1]);
    await waitFor(async () => {
      const m = await c.metricsText();
      return spoolFiles(dir).length === 0 && counter(m, 'replayed') === counter(m, 'spooled');
    });
    const after = await c.metricsText();
    expect([45, 50]).toContain(counter(after, 'replayed'));
    expect(after).toMatch(/switchyard_collector_spans_dropped_total 0/);
  });

  it('keeps the spool across a restart and replays it on start', async () => {
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    const down = new MemoryStore();
    down.down = true;
    const first = await start(down, dir);
    for (let i = 0; i < 30; i += 10) expect((await send(first, names(i, i + 10))).status).toBe(200);
    await first.close();
    running.splice(running.indexOf(first), 1);
    expect(spoolFiles(dir).length).toBeGreaterThan(0);
    expect(down.traces).toHaveLength(0);

    const store = new MemoryStore();
    const second = await start(store, dir);
    // New spans sent right after start land after the spooled ones.
    expect((await send(second, names(30, 35))).status).toBe(200);
    // The writer deletes a segment file only after its insert answered, so rows are in the
    // store a moment before the file is gone: wait for both, not the rows alone.
    await waitFor(() => store.traces.length === 35 && spoolFiles(dir).length === 0);
    expect(store.traces.map((r) => r.SpanName)).toEqual(names(0, 35));
  });

  it('replays a segment an earlier version wrote in its JSON-lines format (SYW1 records) before new rows', async () => {
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    // The write-ahead log as the version before Native blocks left it: one record per request.
    const records = [names(0, 3), names(3, 5)].map((batch) => {
      const rows = mapTraceRequest(
        decodeTraceRequestProto(encodeTraceRequestProto(protoRequest(batch.map((name) => protoSpan({ name }))))),
      ).rows;
      const payload = encodeTraceRowsJson(rows);
      const header = Buffer.alloc(16);
      header.write('1WYS', 0, 'latin1'); // 0x53595731 little-endian
      header.writeUInt32LE(rows.length, 4);
      header.writeUInt32LE(payload.length, 8);
      header.writeUInt32LE(crc32(payload), 12);
      return Buffer.concat([header, payload]);
    });
    mkdirSync(path.join(dir, 'spans'), { recursive: true });
    writeFileSync(path.join(dir, 'spans', '0000000000000003.wal'), Buffer.concat(records));

    const store = new MemoryStore();
    const c = await start(store, dir);
    expect((await send(c, names(5, 7))).status).toBe(200);
    // Segment files go once their insert answered, just after the rows are in the store.
    await waitFor(() => store.traces.length === 7 && spoolFiles(dir).length === 0);
    expect(store.traces.map((r) => r.SpanName)).toEqual(names(0, 7));
    expect(store.traces[0].Timestamp).toMatch(/^\d{19}$/);
  });

  it('flushes buffered spans on close', async () => {
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    const store = new MemoryStore();
    const c = await start(store, dir, { flushIntervalMs: 60_000, batchSize: 1000 });
    const pending = send(c, names(0, 3));
    await waitFor(async () => (await c.metricsText()).includes('switchyard_collector_spans_queued 3'));
    expect(store.traces).toHaveLength(0);
    await c.close();
    expect((await pending).status).toBe(200);
    expect(store.traces).toHaveLength(3);
  });

  it('spools on close when the store write hangs past the close bound', async () => {
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    const store = new MemoryStore();
    store.gate = new Promise(() => undefined); // never answers
    const c = await start(store, dir, { closeTimeoutMs: 100 });
    const pending = send(c, names(0, 4));
    await waitFor(() => store.insertCalls === 1);
    await c.close();
    expect((await pending).status).toBe(200);
    expect(spoolFiles(dir)).toHaveLength(1);

    const next = new MemoryStore();
    await start(next, dir);
    await waitFor(() => next.traces.length === 4);
  });

  it('answers 503 with Retry-After (counted as dropped) when the store is down and the spool is full', async () => {
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    const store = new MemoryStore();
    store.down = true;
    const c = await start(store, dir, { maxSpoolBytes: 4000 });
    let status = 200;
    let sent = 0;
    while (status === 200 && sent < 100) {
      const res = await send(c, names(sent, sent + 5));
      status = res.status;
      if (status === 503) expect(res.headers.get('retry-after')).toBeTruthy();
      sent += 5;
    }
    expect(status).toBe(503);
    expect(await c.metricsText()).toMatch(/switchyard_collector_spans_dropped_total 5/);
    // Everything acknowledged before the 503 is still there once the store comes back.
    store.down = false;
    await waitFor(() => store.traces.length === sent - 5);
    expect(store.traces.map((r) => r.SpanName)).toEqual(names(0, sent - 5));
  });
});
