// Test helpers: an in-memory SpanStore double whose availability the test controls, and
// small HTTP helpers for talking to a collector on 127.0.0.1.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TRACE_COLUMNS } from '../../src/store/rows.js';
import { encodeTraceRequest } from '../../src/collector/map-spans.js';
import type { ExportTraceRequest } from '../../src/collector/otlp-model.js';
import { readNativeBlocks } from './native-reader.js';
import type { FeedbackRow, OtelTraceRow, SpanStore } from '../../src/store/types.js';

/** One JSON value per line, as the store's JSON encodings write them. */
function jsonLines<T>(payload: Buffer): T[] {
  return payload
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T);
}

/** '1700000000.123456789' → '1700000000123456789' (the inverse of the JSON encoding). */
function dateTime64ToNanos(s: string): string {
  const [sec, frac = ''] = s.split('.');
  return BigInt(sec + frac.padEnd(9, '0')).toString();
}

/** Rows back from the bytes the collector sends a store (encodeTraceRows: Native blocks). */
export function decodeTraceRows(payload: Buffer): OtelTraceRow[] {
  return readNativeBlocks(payload) as unknown as OtelTraceRow[];
}

/** encodeTraceRequest's block read back as rows: the column mapping as a user sees it. */
export function mapTraceRequest(req: ExportTraceRequest): {
  rows: OtelTraceRow[];
  rejected: number;
  firstError: string;
} {
  const { payload, rejected, firstError } = encodeTraceRequest(req);
  return { rows: decodeTraceRows(payload), rejected, firstError };
}

/** Rows back from spool records of format 1 (encodeTraceRowsJson: JSONCompactEachRow). */
export function decodeTraceRowsJson(payload: Buffer): OtelTraceRow[] {
  return jsonLines<unknown[]>(payload).map((values) => {
    const row = Object.fromEntries(TRACE_COLUMNS.map((c, i) => [c, values[i]])) as unknown as OtelTraceRow;
    row.Timestamp = dateTime64ToNanos(row.Timestamp);
    row['Events.Timestamp'] = row['Events.Timestamp'].map(dateTime64ToNanos);
    return row;
  });
}

export function decodeFeedbackRows(payload: Buffer): FeedbackRow[] {
  return jsonLines<FeedbackRow & { Timestamp: string }>(payload).map((r) => ({
    ...r,
    Timestamp: Math.round(Number(r.Timestamp) * 1000),
  }));
}

export class MemoryStore implements SpanStore {
  traces: OtelTraceRow[] = [];
  feedback: FeedbackRow[] = [];
  /** Each successful insertTraces call's row count, in order. */
  traceBatches: number[] = [];
  down = false;
  /** When set, inserts wait for this promise before answering. */
  gate: Promise<void> | undefined;
  insertCalls = 0;

  async insertTraces(rows: OtelTraceRow[]): Promise<void> {
    this.insertCalls++;
    if (this.gate !== undefined) await this.gate;
    if (this.down) throw new Error('store down');
    this.traces.push(...rows);
    this.traceBatches.push(rows.length);
  }
  async insertFeedback(rows: FeedbackRow[]): Promise<void> {
    if (this.gate !== undefined) await this.gate;

    if (this.down) throw new Error('store down');
    this.feedback.push(...rows);
  }
  insertEncoded(kind: 'traces' | 'tracesJson' | 'feedback', payload: Buffer): Promise<void> {
    if (kind === 'feedback') return this.insertFeedback(decodeFeedbackRows(payload));
    return this.insertTraces(kind === 'traces' ? decodeTraceRows(payload) : decodeTraceRowsJson(payload));
  }
  async query(): Promise<string> {
    return '';
  }
  async ping(): Promise<boolean> {
    return !this.down;
  }
  async close(): Promise<void> {}
}

export function tempDir(prefix = 'sy-collector-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Polls until `check` returns true or `timeoutMs` passes. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5000, stepMs = 20): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

/**
 * Retries `check` (which throws while its expectations fail) until it passes or `timeoutMs`
 * passes: a 200 means the rows are fsynced in the spool; they are queryable shortly after.
 */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 5000, stepMs = 20): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() >= until) throw err;
      await new Promise((r) => setTimeout(r, stepMs));
    }
  }
}

export function hexBytes(hex: string): Buffer {
  return Buffer.from(hex, 'hex');
}

let counter = 0;
/** A valid protobufjs-shaped span object with unique ids. */
export function protoSpan(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter++;
  const n = counter.toString(16).padStart(8, '0');
  return {
    traceId: hexBytes(`0af7651916cd43dd8448eb21${n}`),
    spanId: hexBytes(`b7ad6b71${n}`),
    name: `span-${counter}`,
    kind: 2,
    startTimeUnixNano: '1700000000000000000',
    endTimeUnixNano: '1700000000250000000',
    ...overrides,
  };
}

export function protoRequest(spans: Record<string, unknown>[], service = 'test-svc'): Record<string, unknown> {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [{ scope: { name: 'test-scope', version: '1.2.3' }, spans }],
      },
    ],
  };
}
