// The decode pool: bodies decoded on a worker thread give exactly what the request thread would
// (rows, rejections, 400 reasons), and a worker that dies neither hangs nor loses requests.
import { afterEach, describe, expect, it } from 'vitest';
import { decodeExport } from '../../src/collector/decode-job.js';
import { DecodePool } from '../../src/collector/decode-pool.js';
import { encodeTraceRequestProto } from '../../src/collector/otlp-proto.js';
import { decodeTraceRows, protoRequest, protoSpan, waitFor } from './helpers.js';

const pools: DecodePool[] = [];
afterEach(async () => {
  for (const p of pools.splice(0)) await p.close();
});

async function pool(threads: number): Promise<DecodePool> {
  const p = new DecodePool(threads);
  pools.push(p);
  expect(await p.ready()).toBe(true);
  expect(p.size).toBe(threads);
  return p;
}

const body = () =>
  encodeTraceRequestProto(
    protoRequest([
      protoSpan({ name: 'chat gpt-4o' }),
      protoSpan({ name: 'bad', traceId: new Uint8Array(16) }),
      protoSpan({ name: 'ü ✓' }),
    ]),
  );

describe('decode pool', () => {
  it('decodes in the request thread until a worker is ready', async () => {
    const p = new DecodePool(1);
    pools.push(p);
    expect(p.size).toBe(0); // still loading its modules
    expect(await p.decode('proto', body())).toMatchObject({ ok: true, rows: 2, rejected: 1 });
  });

  it('decodes on a worker exactly as in the request thread', async () => {
    const b = body();
    const inline = decodeExport('proto', b);
    const viaWorker = await (await pool(1)).decode('proto', b);
    expect(viaWorker).toMatchObject({ ok: true, rows: 2, rejected: 1, firstError: 'trace_id is all zeroes' });
    if (!viaWorker.ok || !inline.ok) throw new Error('unreachable');
    expect(Buffer.from(viaWorker.payload)).toEqual(Buffer.from(inline.payload));
    expect(decodeTraceRows(Buffer.from(viaWorker.payload)).map((r) => r.SpanName)).toEqual(['chat gpt-4o', 'ü ✓']);
  });

  it('moves a body it is handed over to the worker, copies one it is not, and decodes both alike', async () => {
    const p = await pool(1);
    const b = body();
    const inline = decodeExport('proto', b);
    if (!inline.ok) throw new Error('unreachable');
    const owned = Buffer.allocUnsafeSlow(b.length);
    owned.set(b);
    const moved = await p.decode('proto', owned, { transfer: true });
    expect(owned.byteLength).toBe(0); // detached: it went to the worker
    // A view into a larger buffer is not the caller's to give away: copied, left intact.
    const shared = Buffer.concat([Buffer.alloc(8), b]).subarray(8);
    const copied = await p.decode('proto', shared, { transfer: true });
    expect(shared.byteLength).toBe(b.length);
    for (const r of [moved, copied]) {
      if (!r.ok) throw new Error('unreachable');
      expect(Buffer.from(r.payload)).toEqual(Buffer.from(inline.payload));
    }
  });

  it('answers a bad body with the reason the 400 carries', async () => {
    const r = await (await pool(1)).decode('proto', new Uint8Array([0x0a, 0xff, 0xff]));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/^invalid ExportTraceServiceRequest protobuf: /);
    const j = await (await pool(1)).decode('json', Buffer.from('{"resourceSpans": 7}'));
    expect(j.ok).toBe(false);
  });

  it('keeps answering when its worker dies: in-flight tasks fail, later ones decode', async () => {
    const p = await pool(1);
    const threads = (p as unknown as { threads: { worker: { terminate(): Promise<number> } }[] }).threads;
    const inFlight = p.decode('proto', body());
    await threads[0].worker.terminate();
    await expect(inFlight).rejects.toThrow(/decode worker exited/);
    expect(p.size).toBe(0);
    // No thread alive: decoded in the request thread meanwhile, then a new worker takes over.
    expect(await p.decode('proto', body())).toMatchObject({ ok: true, rows: 2 });
    await waitFor(() => p.size === 1);
    expect(await p.decode('proto', body())).toMatchObject({ ok: true, rows: 2 });
  });
});
