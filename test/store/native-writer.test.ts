// The Native encoding of otel_traces rows, checked by the real engine: the same rows inserted as
// Native blocks (the collector's encoding) and as JSONCompactEachRow (the text encoding, parsed
// by ClickHouse itself) must read back identically, column for column, with the materialized
// views fed the same way.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedStore, parseJsonEachRow } from '../../src/store/embedded.js';
import { encodeTraceRows, TRACE_COLUMNS } from '../../src/store/rows.js';
import type { OtelTraceRow } from '../../src/store/types.js';
import { tempDataDir } from './helpers.js';
import { encodeTraceRowsJson } from './json-rows.js';
import { requestSpans } from './spans.js';

let store: EmbeddedStore;
const tmp = tempDataDir('native');

beforeAll(async () => {
  store = await EmbeddedStore.open({ dataDir: tmp.dir });
});
afterAll(async () => {
  await store?.close();
  tmp.cleanup();
});

/** Rows that exercise every encoding path: multi-byte and long strings, events, links, edges. */
function awkwardRows(tag: string): OtelTraceRow[] {
  const [server, client] = requestSpans({
    atMs: Date.UTC(2026, 10, 30, 12, 0, 0),
    attempts: [{ provider: 'openai', model: 'gpt-4o', durationMs: 812.5, costUsd: 0.0125 }],
    metadata: { team: 'søk ✓', long: 'x'.repeat(300) },
  });
  const long = 'é'.repeat(100) + '🚀'.repeat(50) + 'z'.repeat(20_000); // varint lengths of 2 and 3 bytes
  return [
    { ...server, StatusMessage: tag },
    {
      ...client,
      StatusMessage: tag,
      TraceState: 'congo=t61rcWkgMzE',
      StatusCode: 'Error',
      SpanAttributes: {
        ...client.SpanAttributes,
        'quote"and\\back': 'tab\tnew\nline\u0000nul',
        [long.slice(0, 60)]: long,
      },
      'Events.Timestamp': ['1764504000123456789', '1764504000999999999'],
      'Events.Name': ['gen_ai.first_chunk', 'switchyard.backoff'],
      'Events.Attributes': [{}, { 'switchyard.backoff_ms': '250', ключ: 'значение' }],
      'Links.TraceId': ['0af7651916cd43dd8448eb211c80319c'],
      'Links.SpanId': ['b7ad6b7169203331'],
      'Links.TraceState': [''],
      'Links.Attributes': [{ 'link.kind': 'retry-of' }],
    },
    // Edges: empty strings and maps, zero duration.
    {
      ...client,
      SpanId: '00f067aa0ba902b7',
      StatusMessage: tag,
      SpanName: '',
      ServiceName: '',
      ResourceAttributes: {},
      SpanAttributes: {},
      Duration: '0',
    },
  ];
}

async function readBack(tag: string): Promise<Record<string, unknown>[]> {
  const cols = TRACE_COLUMNS.map((c) => `\`${c}\``).join(', ');
  return parseJsonEachRow(
    await store.query(
      `SELECT ${cols} FROM otel_traces WHERE StatusMessage = '${tag}' ORDER BY Timestamp, SpanId`,
      'JSONEachRow',
    ),
  );
}

describe('Native encoding of otel_traces rows', () => {
  it('reads back exactly as the same rows parsed by ClickHouse from JSON', async () => {
    const native = awkwardRows('native');
    // Other trace ids, so the views' rows of each insert can be told apart (the first hex digit
    // changed: a random id may start with 'f' already).
    const json = native.map((r) => ({
      ...r,
      StatusMessage: 'json',
      TraceId: `${r.TraceId[0] === 'f' ? 'e' : 'f'}${r.TraceId.slice(1)}`,
    }));
    await store.insertEncoded('traces', encodeTraceRows(native));
    await store.insertEncoded('tracesJson', encodeTraceRowsJson(json));
    const [a, b] = [await readBack('native'), await readBack('json')];
    expect(a).toHaveLength(3);
    const same = (r: Record<string, unknown>) => ({
      ...r,
      StatusMessage: 'json',
      TraceId: (r.TraceId as string).slice(1),
    });
    expect(a.map(same)).toEqual(b.map(same));
    // And what a user reads is what was sent, not merely what JSON gave too.
    const errored = a.find((r) => r.StatusCode === 'Error')!;
    expect(errored['Events.Attributes']).toEqual(native[1]['Events.Attributes']);
    expect(errored.SpanAttributes).toEqual(native[1].SpanAttributes);
    expect(errored['Events.Timestamp']).toEqual(['2025-11-30 12:00:00.123456789', '2025-11-30 12:00:00.999999999']);
  });

  it("stores timestamps the text encoding cannot: the epoch, and past DateTime64(9)'s range (saturated)", async () => {
    const [, client] = awkwardRows('edge-ts');
    await store.insertEncoded(
      'traces',
      encodeTraceRows([
        { ...client, Timestamp: '0', SpanId: 'aaaaaaaaaaaaaaaa' },
        { ...client, Timestamp: '18446744073709551615', SpanId: 'bbbbbbbbbbbbbbbb' },
      ]),
    );
    const back = await readBack('edge-ts');
    expect(back.map((r) => [r.SpanId, r.Timestamp])).toEqual([
      ['aaaaaaaaaaaaaaaa', '1970-01-01 00:00:00.000000000'],
      ['bbbbbbbbbbbbbbbb', '2262-04-11 23:47:16.854775807'],
    ]);
  });

  it('concatenated blocks (a spool segment of several requests) insert as one payload', async () => {
    const batches = [1, 2, 3].map((i) =>
      awkwardRows(`multi`).map((r) => ({ ...r, TraceId: r.TraceId.slice(0, 31) + i })),
    );
    await store.insertEncoded('traces', Buffer.concat(batches.map((b) => encodeTraceRows(b))));
    const back = await readBack('multi');
    expect(back).toHaveLength(9);
    expect(new Set(back.map((r) => r.TraceId)).size).toBe(3);
  });

  it('reads back LowCardinality columns whose dictionaries need 1-, 2- and 4-byte indexes', async () => {
    const [, client] = awkwardRows('wide-dict');
    // 300 span names (> 256: 2-byte indexes); 70,000 distinct attribute keys (> 65,536: 4 bytes).
    const rows = Array.from({ length: 300 }, (_, i) => ({
      ...client,
      SpanId: `1${i.toString(16).padStart(15, '0')}`,
      SpanName: `op-${i}`,
      SpanAttributes: Object.fromEntries(Array.from({ length: i < 100 ? 700 : 1 }, (_, k) => [`k.${i}.${k}`, `v${k}`])),
      'Events.Timestamp': [client.Timestamp],
      'Events.Name': [i % 2 ? 'retry' : ''],
      'Events.Attributes': [{}],
    }));
    await store.insertEncoded('traces', encodeTraceRows(rows));
    const back = await readBack('wide-dict');
    expect(back).toHaveLength(300);
    const bySpan = new Map(back.map((r) => [r.SpanId, r]));
    for (const row of rows) {
      const got = bySpan.get(row.SpanId)!;
      expect(got.SpanName).toBe(row.SpanName);
      expect(got.SpanAttributes).toEqual(row.SpanAttributes);
      expect(got['Events.Name']).toEqual(row['Events.Name']);
      expect(got.StatusCode).toBe(row.StatusCode);
    }
  });

  it('feeds llm_attempts like the text encoding does', async () => {
    const q = (tag: string) =>
      store.query(
        `SELECT Provider, Model, DurationMs, CostUSD, Error FROM llm_attempts WHERE TraceId IN (SELECT TraceId FROM otel_traces WHERE StatusMessage = '${tag}') ORDER BY Timestamp FORMAT JSONEachRow`,
        'JSONEachRow',
      );
    const native = parseJsonEachRow(await q('native'));
    expect(native).toHaveLength(1);
    expect(native).toEqual(parseJsonEachRow(await q('json')));
    expect(native[native.length - 1]).toMatchObject({
      Provider: 'openai',
      Model: 'gpt-4o',
      DurationMs: 812.5,
      CostUSD: 0.0125,
      Error: true,
    });
  });

  it('refuses a batch with a malformed number instead of storing a wrong value', () => {
    const [row] = awkwardRows('bad');
    expect(() => encodeTraceRows([{ ...row, Timestamp: '17e8' }])).toThrow(/nanosecond timestamp/);
    expect(() => encodeTraceRows([{ ...row, Duration: '-5' }])).toThrow(/UInt64/);
  });

  it('leaves no payload file behind, after a good insert or a failed one, and stays usable', async () => {
    const spill = path.join(tmp.dir, 'switchyard-inserts');
    await store.insertEncoded('traces', encodeTraceRows(awkwardRows('spill')));
    await expect(store.insertEncoded('traces', Buffer.from('not a native block'))).rejects.toThrow();
    expect(readdirSync(spill)).toEqual([]);
    expect(await readBack('spill')).toHaveLength(3);
  });
});
