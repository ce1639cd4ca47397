// Serialises store rows as JSONEachRow lines. JSON escaping makes any string (quotes,
// newlines, NULs, unicode) safe, and ClickHouse parses "seconds.fraction" into DateTime64
// exactly, which a nanosecond integer is not (it would be read as seconds).
import type { FeedbackRow, OtelTraceRow } from './types.js';

/** '1700000000123456789' (ns since epoch) -> '1700000000.123456789'. */
export function nanosToDateTime64(ns: string): string {
  if (!/^\d{1,20}$/.test(ns)) throw new Error(`invalid nanosecond timestamp: ${JSON.stringify(ns).slice(0, 40)}`);
  const padded = ns.padStart(10, '0');
  return `${padded.slice(0, -9) || '0'}.${padded.slice(-9)}`;
}

function millisToDateTime64(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`invalid millisecond timestamp: ${ms}`);
  const whole = Math.floor(ms);
  return `${Math.floor(whole / 1000)}.${String(whole % 1000).padStart(3, '0')}`;
}

export function traceRowJson(row: OtelTraceRow): string {
  return JSON.stringify({
    ...row,
    Timestamp: nanosToDateTime64(row.Timestamp),
    'Events.Timestamp': row['Events.Timestamp'].map(nanosToDateTime64),
  });
}

export function feedbackRowJson(row: FeedbackRow): string {
  return JSON.stringify({ ...row, Timestamp: millisToDateTime64(row.Timestamp) });
}

export function toJsonEachRow<T>(rows: readonly T[], line: (row: T) => string): Buffer {
  return Buffer.from(rows.map(line).join('\n') + '\n', 'utf8');
}
