// Argument checks shared by both stores: a bad amount is a caller bug and throws RangeError
// before anything reaches the store, the same way for memory and Redis.
import { gcraCheck } from '../limits/gcra.js';
import type { RateAdjustRequest, RateRequest, ReserveRequest, SettleRequest } from './types.js';

function int(what: string, v: unknown, min: number): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
    throw new RangeError(`${what} must be an integer >= ${min} (got ${String(v)})`);
}
function str(what: string, v: unknown): void {
  if (typeof v !== 'string' || v.length === 0) throw new RangeError(`${what} must be a non-empty string`);
}
function windowEnd(v: unknown): void {
  if (v !== null && (typeof v !== 'number' || !Number.isSafeInteger(v)))
    throw new RangeError('windowEndsAt must be an integer (ms since the epoch) or null');
}
/** |units| * period(µs) must stay exact. */
function units(what: string, v: number, periodMs: number): void {
  if (Math.abs(v) * periodMs * 1000 > Number.MAX_SAFE_INTEGER)
    throw new RangeError(`${what} ${v} is too large for a ${periodMs} ms period`);
}

export function checkKey(key: unknown): void {
  str('key', key);
}

export function checkRate(key: string, r: RateRequest): void {
  checkKey(key);
  gcraCheck(r);
  int('cost', r.cost, 0);
  units('cost', r.cost, r.periodMs);
}

export function checkAdjust(key: string, r: RateAdjustRequest): void {
  checkKey(key);
  gcraCheck(r);
  int('delta', r.delta, Number.MIN_SAFE_INTEGER);
  units('delta', r.delta, r.periodMs);
}

export function checkReserve(key: string, r: ReserveRequest): void {
  checkKey(key);
  str('windowId', r.windowId);
  windowEnd(r.windowEndsAt);
  int('limit', r.limit, 0);
  int('amount', r.amount, 0);
  str('reservationId', r.reservationId);
  int('ttlMs', r.ttlMs, 1);
}

export function checkSettle(key: string, r: SettleRequest): void {
  checkKey(key);
  str('windowId', r.windowId);
  windowEnd(r.windowEndsAt);
  str('reservationId', r.reservationId);
  int('actual', r.actual, 0);
}

export function checkTtl(ttlMs: number): void {
  int('ttlMs', ttlMs, 1);
}
