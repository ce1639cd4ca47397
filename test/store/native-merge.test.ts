// Merging a spool segment's Native blocks (one per export request) into one before the insert:
// the merged block must hold exactly the rows of the blocks, in order, as the engine reads them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTraceRequest } from '../../src/collector/map-spans.js';
import { decodeTraceRequestProto, encodeTraceRequestProto } from '../../src/collector/otlp-proto.js';
import { EmbeddedStore, parseJsonEachRow } from '../../src/store/embedded.js';
import { mergeNativeBlocks } from '../../src/store/native-merge.js';
import { NativeWriter } from '../../src/store/native-writer.js';
import { TRACE_COLUMNS } from '../../src/store/rows.js';
import { hexBytes, protoRequest, protoSpan } from '../collector/helpers.js';
import { readNativeBlocks } from '../collector/native-reader.js';
import { tempDataDir } from './helpers.js';

let store: EmbeddedStore;
const tmp = tempDataDir('native-merge');
beforeAll(async () => {
  store = await EmbeddedStore.open({ dataDir: tmp.dir });
});
afterAll(async () => {
  await store?.close();
  tmp.cleanup();
});

/** Blocks as the collector writes them, each with its own dictionaries, events and links. */
function requestBlock(tag: string, i: number, spans: number): Buffer {
  const list = Array.from({ length: spans }, (_, k) =>
    protoSpan({
      name: `${tag} op-${i}-${k % 3}`,
      kind: 1 + ((i + k) % 5),
      attributes: [
        { key: 'tag', value: { stringValue: tag } },
        { key: `only.block.${i}`, value: { intValue: k } },
        { key: 'shared', value: { stringValue: `v${k}` } },
      ],
      status: { code: k % 3 },
      events:
        k % 2
          ? [
              {
                timeUnixNano: '1700000000100000000',
                name: `ev-${i}`,
                attributes: [{ key: `e${i}`, value: { boolValue: true } }],
              },
            ]
          : [],
      links:
        k % 3 === 0
          ? [
              {
                traceId: hexBytes('0af7651916cd43dd8448eb211c80319c'),
                spanId: hexBytes('b7ad6b7169203331'),
                attributes: [{ key: `l${i}`, value: { stringValue: 'x' } }],
              },
            ]
          : [],
    }),
  );
  return encodeTraceRequest(decodeTraceRequestProto(encodeTraceRequestProto(protoRequest(list, `svc-${i % 2}`))))
    .payload;
}

function blockCount(payload: Buffer): number {
  // Every block starts with its column count and row count, then the first column 'Timestamp'.
  let n = 0;
  for (let at = payload.indexOf('\u0009Timestamp'); at !== -1; at = payload.indexOf('\u0009Timestamp', at + 1)) n++;
  return n;
}

async function readBack(tag: string): Promise<Record<string, unknown>[]> {
  const cols = TRACE_COLUMNS.map((c) => `\`${c}\``).join(', ');
  return parseJsonEachRow(
    await store.query(
      `SELECT ${cols} FROM otel_traces WHERE SpanAttributes['tag'] = '${tag}' ORDER BY SpanId`,
      'JSONEachRow',
    ),
  );
}

describe('mergeNativeBlocks', () => {
  it('turns a segment of request blocks into one block with the same rows, in order', () => {
    const segment = Buffer.concat([
      requestBlock('order', 1, 5),
      requestBlock('order', 2, 1),
      requestBlock('order', 3, 7),
    ]);
    const merged = mergeNativeBlocks(segment);
    expect(blockCount(segment)).toBe(3);
    expect(blockCount(merged)).toBe(1);
    expect(readNativeBlocks(merged)).toEqual(readNativeBlocks(segment));
    // Blocks with the very same dictionaries (one sender's steady state) take the copying path.
    const same = Buffer.concat([requestBlock('same', 4, 6), requestBlock('same', 4, 6), requestBlock('same', 4, 2)]);
    expect(readNativeBlocks(mergeNativeBlocks(same))).toEqual(readNativeBlocks(same));
  });

  it('stores the same rows on the real engine as the blocks inserted one by one', async () => {
    const blocks = Array.from({ length: 6 }, (_, i) => requestBlock('engine', i, 4 + i));
    const merged = mergeNativeBlocks(Buffer.concat(blocks));
    expect(blockCount(merged)).toBe(1);
    await store.insertFile('INSERT INTO otel_traces', 'Native', merged);
    const once = await readBack('engine');
    expect(once).toHaveLength(blocks.reduce((n, b) => n + readNativeBlocks(b).length, 0));
    // The same rows again, unmerged, under another tag: identical but for it.
    const again = Array.from({ length: 6 }, (_, i) => requestBlock('engine2', i, 4 + i));
    for (const b of again) await store.insertFile('INSERT INTO otel_traces', 'Native', b);
    const strip = (rows: Record<string, unknown>[]) =>
      rows.map((r) => ({
        ...r,
        TraceId: '',
        SpanId: '',
        ParentSpanId: '',
        SpanName: String(r.SpanName).replace(/^engine2? /, ''),
        SpanAttributes: { ...(r.SpanAttributes as object), tag: '' },
      }));
    expect(strip(once)).toEqual(strip(await readBack('engine2')));
  });

  it('widens the indexes when the united dictionary passes 256 values', async () => {
    // Each block's span names fit 1-byte indexes; together they need 2.
    const blocks = Array.from(
      { length: 3 },
      (_, i) =>
        encodeTraceRequest(
          decodeTraceRequestProto(
            encodeTraceRequestProto(
              protoRequest(
                Array.from({ length: 200 }, (_, k) =>
                  protoSpan({ name: `wide-${i}-${k}`, attributes: [{ key: 'tag', value: { stringValue: 'wide' } }] }),
                ),
              ),
            ),
          ),
        ).payload,
    );
    const merged = mergeNativeBlocks(Buffer.concat(blocks));
    expect(blockCount(merged)).toBe(1);
    await store.insertFile('INSERT INTO otel_traces', 'Native', merged);
    const names = (await readBack('wide')).map((r) => r.SpanName);
    expect(new Set(names).size).toBe(600);
    expect(names.sort()).toEqual(blocks.flatMap((b) => readNativeBlocks(b).map((r) => r.SpanName)).sort());
  });

  it('leaves a payload it cannot merge as it is: one block, blocks of other columns, unknown types', () => {
    const one = requestBlock('as-is', 1, 3);
    expect(mergeNativeBlocks(one)).toBe(one);
    const other = new NativeWriter();
    other.block(1, 1);
    other.column('Timestamp', 'DateTime64(9)');
    other.u64(0);
    const mixed = Buffer.concat([one, other.finish()]);
    expect(mergeNativeBlocks(mixed)).toBe(mixed);
    const odd = new NativeWriter();
    odd.block(1, 1);
    odd.column('x', 'Float32');
    odd.raw(Buffer.alloc(4), 0, 4);
    const unknown = Buffer.concat([odd.finish(), odd.finish()]);
    expect(mergeNativeBlocks(unknown)).toBe(unknown);
  });
});
