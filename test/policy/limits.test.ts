// Pure limit math: GCRA in exact integer arithmetic (checked against a BigInt rational
// reference), UTC budget windows, micro-USD conversion.
import { describe, expect, it } from 'vitest';
import { gcraAdjust, gcraCheck, gcraTake, type GcraState } from '../../src/policy/limits/gcra.js';
import { budgetWindow, isBudgetPeriod } from '../../src/policy/limits/windows.js';
import { microsToUsd, usdToMicros, usdToMicrosCeil } from '../../src/policy/limits/money.js';

const T0 = Date.UTC(2026, 11, 1, 12) * 1000; // µs

describe('GCRA', () => {
  it('admits a burst of exactly the limit, then one unit per interval', () => {
    const p = { limit: 10, periodMs: 60_000 };
    let s: GcraState | undefined;
    const remaining: number[] = [];
    for (let i = 0; i < 10; i++) {
      const d = gcraTake(s, T0, p, 1);
      expect(d.allowed).toBe(true);
      remaining.push(d.remaining);
      expect(d.resetUs).toBe((i + 1) * 6_000_000);
      s = d.next!;
    }
    expect(remaining).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    const denied = gcraTake(s, T0, p, 1);
    expect(denied).toMatchObject({
      allowed: false,
      remaining: 0,
      resetUs: 60_000_000,
      retryAfterUs: 6_000_000,
      next: undefined,
    });
    expect(gcraTake(s, T0 + 5_999_999, p, 1)).toMatchObject({ allowed: false, retryAfterUs: 1 });
    const back = gcraTake(s, T0 + 6_000_000, p, 1);
    expect(back).toMatchObject({ allowed: true, remaining: 0 });
    // After a whole idle period the full burst is back.
    expect(gcraTake(back.next!, T0 + 6_000_000 + 60_000_000, p, 0)).toMatchObject({
      allowed: true,
      remaining: 10,
      resetUs: 0,
    });
  });

  it('is exact when the interval is not a whole number of microseconds (7 per minute)', () => {
    const p = { limit: 7, periodMs: 60_000 };
    let s: GcraState | undefined;
    for (let i = 0; i < 7; i++) s = gcraTake(s, T0, p, 1).next!;
    const d = gcraTake(s, T0, p, 1);
    expect(d.allowed).toBe(false);
    expect(d.retryAfterUs).toBe(8_571_429); // ceil(60e6 / 7)
    expect(gcraTake(s, T0 + 8_571_428, p, 1).allowed).toBe(false);
    expect(gcraTake(s, T0 + 8_571_429, p, 1).allowed).toBe(true);
    // 7 intervals later exactly the full burst is back, not a microsecond before.
    expect(gcraTake(s, T0 + 59_999_999, p, 0).remaining).toBe(6);
    expect(gcraTake(s, T0 + 60_000_000, p, 0).remaining).toBe(7);
  });

  it('charges several units at once and never admits more than the limit', () => {
    const p = { limit: 100, periodMs: 1000 };
    const a = gcraTake(undefined, T0, p, 60);
    expect(a).toMatchObject({ allowed: true, remaining: 40 });
    expect(gcraTake(a.next!, T0, p, 41)).toMatchObject({ allowed: false, remaining: 40, retryAfterUs: 10_000 });
    expect(gcraTake(a.next!, T0, p, 40)).toMatchObject({ allowed: true, remaining: 0 });
    expect(gcraTake(undefined, T0, p, 101).allowed).toBe(false);
  });

  it('adjust: charges push into debt, refunds never create credit beyond a full limit', () => {
    const p = { limit: 10, periodMs: 10_000 }; // 1 unit per second
    const debt = gcraAdjust(undefined, T0, p, 15)!;
    const d = gcraTake(debt, T0, p, 1);
    expect(d).toMatchObject({ allowed: false, remaining: 0, resetUs: 15_000_000, retryAfterUs: 6_000_000 });
    expect(gcraAdjust(debt, T0, p, -15)).toBeNull();
    expect(gcraAdjust(debt, T0, p, -100)).toBeNull(); // no credit: a full limit at most
    expect(gcraTake(gcraAdjust(debt, T0, p, -6) ?? undefined, T0, p, 0)).toMatchObject({ remaining: 1 });
  });

  it('agrees with a BigInt rational reference over 20,000 random steps', () => {
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let run = 0; run < 40; run++) {
      const L = [1, 3, 7, 10, 13, 600, 200_000][rnd(7)];
      const periodMs = [1000, 7000, 60_000, 3_600_000][rnd(4)];
      if (periodMs * 1000 * L > Number.MAX_SAFE_INTEGER) continue;
      const p = { limit: L, periodMs };
      const P = BigInt(periodMs * 1000);
      const BL = BigInt(L);
      let tatL = 0n; // reference: TAT * L in µs/L units
      let s: GcraState | undefined;
      let now = T0;
      for (let i = 0; i < 500; i++) {
        now += rnd(3) === 0 ? 0 : rnd(Math.ceil((periodMs * 1000) / L) * 2 + 1);
        const nowL = BigInt(now) * BL;
        const cur = tatL > nowL ? tatL : nowL;
        if (rnd(5) === 0) {
          const delta = rnd(2 * L + 1) - L;
          let n = cur + BigInt(delta) * P;
          if (n < nowL) n = nowL;
          tatL = n;
          const ns = gcraAdjust(s, now, p, delta);
          s = ns ?? undefined;
          continue;
        }
        const cost = rnd(Math.max(2, Math.floor(L / 2)) + 1);
        const next = cur + BigInt(cost) * P;
        const allowed = next - nowL <= P * BL;
        const backlog = allowed ? next - nowL : cur - nowL;
        const remRef = backlog >= P * BL ? 0n : (P * BL - backlog) / P;
        const d = gcraTake(s, now, p, cost);
        expect(d.allowed).toBe(allowed);
        expect(BigInt(d.remaining)).toBe(remRef);
        const ceilDiv = (a: bigint) => (a + BL - 1n) / BL;
        expect(BigInt(d.resetUs)).toBe(ceilDiv(backlog));
        expect(BigInt(d.retryAfterUs)).toBe(allowed ? 0n : ceilDiv(next - nowL - P * BL));
        if (allowed) {
          tatL = next;
          if (d.next) s = d.next;
        }
      }
    }
  });

  it('rejects parameters that are not exact-safe', () => {
    expect(() => gcraCheck({ limit: 0, periodMs: 1000 })).toThrow(RangeError);
    expect(() => gcraCheck({ limit: 1.5, periodMs: 1000 })).toThrow(RangeError);
    expect(() => gcraCheck({ limit: 10, periodMs: 0 })).toThrow(RangeError);
    expect(() => gcraCheck({ limit: 1e9, periodMs: 86_400_000 })).toThrow(/too fine/);
    expect(() => gcraCheck({ limit: 150_000_000, periodMs: 60_000 })).not.toThrow();
  });
});

describe('budget windows (UTC)', () => {
  const at = (iso: string) => Date.parse(iso);

  it('1d rolls over at midnight UTC', () => {
    expect(budgetWindow('1d', at('2026-12-01T23:59:59.999Z'))).toEqual({
      id: '1d:2026-12-01',
      startsAt: at('2026-12-01T00:00:00Z'),
      endsAt: at('2026-12-02T00:00:00Z'),
    });
    expect(budgetWindow('1d', at('2026-12-02T00:00:00.000Z')).id).toBe('1d:2026-12-02');
  });

  it('month is the calendar month, December into January and leap February', () => {
    expect(budgetWindow('month', at('2026-12-31T23:59:59.999Z'))).toEqual({
      id: 'month:2026-12',
      startsAt: at('2026-12-01T00:00:00Z'),
      endsAt: at('2027-01-01T00:00:00Z'),
    });
    expect(budgetWindow('month', at('2027-01-01T00:00:00Z')).id).toBe('month:2027-01');
    expect(budgetWindow('month', at('2028-02-29T12:00:00Z'))).toMatchObject({
      id: 'month:2028-02',
      endsAt: at('2028-03-01T00:00:00Z'),
    });
  });

  it('7d runs Monday to Monday (ISO weeks) unless anchored', () => {
    // 2026-11-30 is a Monday.
    expect(new Date(at('2026-11-30T00:00:00Z')).getUTCDay()).toBe(1);
    expect(budgetWindow('7d', at('2026-12-06T23:59:59Z'))).toEqual({
      id: '7d:2026-11-30',
      startsAt: at('2026-11-30T00:00:00Z'),
      endsAt: at('2026-12-07T00:00:00Z'),
    });
    expect(budgetWindow('7d', at('2026-12-07T00:00:00Z')).id).toBe('7d:2026-12-07');
    const anchored = budgetWindow('7d', at('2026-12-06T10:00:00Z'), { anchorMs: at('2026-01-01T09:30:00Z') });
    expect(anchored).toEqual({
      id: '7d:2026-12-03T09:30:00.000Z',
      startsAt: at('2026-12-03T09:30:00Z'),
      endsAt: at('2026-12-10T09:30:00Z'),
    });
  });

  it('30d counts 30-day blocks from the epoch or the anchor', () => {
    const w = budgetWindow('30d', at('2026-12-01T00:00:00Z'));
    expect((w.startsAt / 86_400_000) % 30).toBe(0);
    expect(w.endsAt! - w.startsAt).toBe(30 * 86_400_000);
    expect(w.startsAt <= at('2026-12-01T00:00:00Z') && at('2026-12-01T00:00:00Z') < w.endsAt!).toBe(true);
    expect(w.id).toBe(`30d:${new Date(w.startsAt).toISOString().slice(0, 10)}`);
    expect(budgetWindow('30d', w.endsAt!).startsAt).toBe(w.endsAt);
    expect(budgetWindow('30d', w.endsAt! - 1).id).toBe(w.id);
    const anchored = budgetWindow('30d', at('2026-12-01T00:00:00Z'), { anchorMs: at('2026-11-15T00:00:00Z') });
    expect(anchored).toMatchObject({ id: '30d:2026-11-15', endsAt: at('2026-12-15T00:00:00Z') });
  });

  it('never is one window without an end; unknown periods throw', () => {
    expect(budgetWindow('never', Date.now())).toEqual({ id: 'never', startsAt: 0, endsAt: null });
    expect(isBudgetPeriod('month')).toBe(true);
    expect(isBudgetPeriod('1w')).toBe(false);
    expect(() => budgetWindow('1w' as never, Date.now())).toThrow(/unknown period/);
  });
});

describe('micro-USD', () => {
  it('converts exactly and sums without drift', () => {
    expect(usdToMicros(0.1 + 0.2)).toBe(300_000);
    expect(usdToMicros(0.0000005)).toBe(1);
    expect(usdToMicrosCeil(0.1)).toBe(100_000);
    expect(usdToMicrosCeil(0.0000001)).toBe(1);
    let sum = 0;
    for (let i = 0; i < 1000; i++) sum += usdToMicros(0.000123);
    expect(microsToUsd(sum)).toBe(0.123);
    expect(() => usdToMicros(-1)).toThrow(RangeError);
    expect(() => usdToMicros(NaN)).toThrow(RangeError);
  });
});
