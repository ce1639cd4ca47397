// The StateStore behaviour suite, run against the memory store and against Redis (a real
// redis-server started for this file), plus Redis-only checks: several clients as a fleet,
// Redis killed and hung mid-run, NOSCRIPT recovery, key layout, Lua = TypeScript decisions.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budgetWindow } from '../../src/policy/limits/windows.js';
import { MemoryStateStore } from '../../src/policy/state/memory.js';
import { openStateStore } from '../../src/policy/state/open.js';
import { RedisStateStore } from '../../src/policy/state/redis.js';
import {
  SETTLED_ID_KEEP_MS,
  StateStoreUnavailable,
  WINDOW_GRACE_MS,
  type StateStore,
} from '../../src/policy/state/types.js';
import { hasRedisServer, NO_REDIS_MESSAGE, startRedisServer, type RedisServer } from '../helpers/redis.js';

if (!hasRedisServer) console.warn(NO_REDIS_MESSAGE);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

let server: RedisServer | undefined;
let nextPrefix = 0;
const opened: StateStore[] = [];

beforeAll(async () => {
  if (hasRedisServer) server = await startRedisServer();
});
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await server?.stop();
});

/**
 * A fake clock (ms) that tests move by hand. It starts at the real time: Redis still expires
 * keys by its own clock, so a fake time far from it would expire the windows under test.
 */
function fakeClock(start = Date.now()) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms), set: (ms: number) => void (t = ms) };
}

type Kind = 'memory' | 'redis';
function make(kind: Kind, clock?: () => number): StateStore {
  const s =
    kind === 'memory'
      ? new MemoryStateStore({ clock, sweepIntervalMs: 0 })
      : new RedisStateStore({ url: server!.url, keyPrefix: `t${process.pid}-${nextPrefix++}:`, clock });
  opened.push(s);
  return s;
}
async function ready(s: StateStore): Promise<StateStore> {
  if (s instanceof RedisStateStore) expect(await s.waitReady(5000)).toBe(true);
  return s;
}

const RPM10 = { limit: 10, periodMs: 60_000 };
// A window that ends two days from now (real time: Redis expires its keys by the real clock).
const win = { windowId: 'w:test', windowEndsAt: Date.now() + 2 * 86_400_000 };

describe.each<Kind>(['memory', 'redis'])('%s store', (kind) => {
  describe.skipIf(kind === 'redis' && !hasRedisServer)('behaviour', () => {
    it('rate limit 10/min: exactly 10 of 30 concurrent admits pass, with the right headers', async () => {
      const clock = fakeClock();
      const s = await ready(make(kind, clock.now));
      const ds = await Promise.all(range(30).map(() => s.rateLimit('k', { ...RPM10, cost: 1 })));
      const ok = ds.filter((d) => d.allowed);
      expect(ok.length).toBe(10);
      expect(ok.map((d) => d.remaining).sort((a, b) => a - b)).toEqual(range(10));
      expect(ok.map((d) => d.resetMs).sort((a, b) => a - b)).toEqual(range(10).map((i) => (i + 1) * 6000));
      for (const d of ds.filter((d) => !d.allowed))
        expect(d).toEqual({ allowed: false, limit: 10, remaining: 0, resetMs: 60_000, retryAfterMs: 6000 });
    });

    it('rate limit: capacity returns at one unit per interval', async () => {
      const clock = fakeClock();
      const s = await ready(make(kind, clock.now));
      for (const _ of range(10)) expect((await s.rateLimit('k', { ...RPM10, cost: 1 })).allowed).toBe(true);
      clock.advance(5999);
      expect(await s.rateLimit('k', { ...RPM10, cost: 1 })).toMatchObject({
        allowed: false,
        retryAfterMs: 1,
        resetMs: 54_001,
      });
      clock.advance(1);
      expect(await s.rateLimit('k', { ...RPM10, cost: 1 })).toMatchObject({
        allowed: true,
        remaining: 0,
        resetMs: 60_000,
      });
      expect((await s.rateLimit('k', { ...RPM10, cost: 1 })).allowed).toBe(false);
      clock.advance(30_000);
      expect(await s.rateLimit('k', { ...RPM10, cost: 0 })).toMatchObject({
        allowed: true,
        remaining: 5,
        resetMs: 30_000,
        retryAfterMs: 0,
      });
      expect((await s.rateLimit('k', { ...RPM10, cost: 5 })).allowed).toBe(true);
      expect((await s.rateLimit('k', { ...RPM10, cost: 1 })).allowed).toBe(false);
      clock.advance(60_000);
      expect(await s.rateLimit('k', { ...RPM10, cost: 0 })).toMatchObject({ remaining: 10, resetMs: 0 });
      // Keys are independent.
      expect((await s.rateLimit('other', { ...RPM10, cost: 10 })).allowed).toBe(true);
    });

    it('rate limit on the real clock: denied right after the burst, admitted after Retry-After', async () => {
      const s = await ready(make(kind));
      const p = { limit: 2, periodMs: 2000 };
      expect((await s.rateLimit('k', { ...p, cost: 1 })).allowed).toBe(true);
      expect((await s.rateLimit('k', { ...p, cost: 1 })).allowed).toBe(true);
      const d = await s.rateLimit('k', { ...p, cost: 1 });
      expect(d.allowed).toBe(false);
      expect(d.retryAfterMs).toBeGreaterThan(0);
      expect(d.retryAfterMs).toBeLessThanOrEqual(1000);
      await sleep(d.retryAfterMs + 30);
      expect((await s.rateLimit('k', { ...p, cost: 1 })).allowed).toBe(true);
    });

    it('rate limit: a cost above the limit never passes; peeks change nothing', async () => {
      const s = await ready(make(kind, fakeClock().now));
      expect(await s.rateLimit('k', { ...RPM10, cost: 11 })).toMatchObject({
        allowed: false,
        retryAfterMs: Infinity,
        remaining: 10,
      });
      for (const _ of range(5))
        expect(await s.rateLimit('k', { ...RPM10, cost: 0 })).toMatchObject({ allowed: true, remaining: 10 });
      expect((await s.rateLimit('k', { ...RPM10, cost: 10 })).allowed).toBe(true);
    });

    it('rateAdjust: charges push into debt, refunds give back at most a full limit', async () => {
      const clock = fakeClock();
      const s = await ready(make(kind, clock.now));
      const tpm = { limit: 1000, periodMs: 60_000 };
      expect((await s.rateLimit('tpm', { ...tpm, cost: 800 })).allowed).toBe(true); // estimate
      await s.rateAdjust('tpm', { ...tpm, delta: -500 }); // actual usage was 300
      expect(await s.rateLimit('tpm', { ...tpm, cost: 0 })).toMatchObject({ remaining: 700 });
      await s.rateAdjust('tpm', { ...tpm, delta: 1200 }); // a big answer: 1500 used, 500 in debt
      const d = await s.rateLimit('tpm', { ...tpm, cost: 1 });
      expect(d).toMatchObject({ allowed: false, remaining: 0, resetMs: 90_000, retryAfterMs: 30_060 });
      await s.rateAdjust('tpm', { ...tpm, delta: -1_000_000 });
      expect(await s.rateLimit('tpm', { ...tpm, cost: 0 })).toMatchObject({ remaining: 1000, resetMs: 0 });
      expect((await s.rateLimit('tpm', { ...tpm, cost: 1001 })).allowed).toBe(false);
    });

    it('budget: exactly 10 of 100 concurrent reserves fit a budget of 10', async () => {
      const s = await ready(make(kind, fakeClock().now));
      const ds = await Promise.all(
        range(100).map((i) => s.reserve('b', { ...win, limit: 10, amount: 1, reservationId: `r${i}`, ttlMs: 60_000 })),
      );
      expect(ds.filter((d) => d.ok).length).toBe(10);
      for (const d of ds.filter((d) => !d.ok)) expect(d).toEqual({ ok: false, used: 0, reserved: 10, remaining: 0 });
      expect(await s.budgetStatus('b', win)).toEqual({ used: 0, reserved: 10 });
    });

    it('budget: settle below and above the reservation; used never exceeds the limit when actual <= reserved', async () => {
      const s = await ready(make(kind, fakeClock().now));
      const r = (id: string, amount: number, limit = 1000) =>
        s.reserve('b', { ...win, limit, amount, reservationId: id, ttlMs: 60_000 });
      expect(await r('a', 400)).toEqual({ ok: true, used: 0, reserved: 400, remaining: 600 });
      expect(await s.settle('b', { ...win, reservationId: 'a', actual: 150 })).toEqual({ used: 150, reserved: 0 });
      expect(await r('b', 500)).toMatchObject({ ok: true, remaining: 350 });
      expect(await s.settle('b', { ...win, reservationId: 'b', actual: 700 })).toEqual({ used: 850, reserved: 0 }); // more than reserved: spent is spent
      expect(await r('c', 151)).toMatchObject({ ok: false, used: 850, remaining: 150 });
      expect(await r('c', 150)).toMatchObject({ ok: true, remaining: 0 });
      expect(await s.settle('b', { ...win, reservationId: 'c', actual: 0 })).toEqual({ used: 850, reserved: 0 }); // released

      // Many concurrent reserve/settle cycles with actual <= reserved: used stays within the limit.
      const s2 = await ready(make(kind, fakeClock().now));
      let seed = 7;
      const rnd = (n: number) => ((seed = (seed * 48271) % 2147483647), seed % n);
      const limit = 5000;
      await Promise.all(
        range(200).map(async (i) => {
          const amount = 1 + rnd(100);
          const actual = rnd(amount + 1);
          const d = await s2.reserve('b', { ...win, limit, amount, reservationId: `x${i}`, ttlMs: 60_000 });
          expect(d.used + d.reserved).toBeLessThanOrEqual(limit);
          if (d.ok) {
            const st = await s2.settle('b', { ...win, reservationId: `x${i}`, actual });
            expect(st.used).toBeLessThanOrEqual(limit);
          }
        }),
      );
      const st = await s2.budgetStatus('b', win);
      expect(st.reserved).toBe(0);
      expect(st.used).toBeLessThanOrEqual(limit);
    });

    it('budget: an unsettled reservation expires after its ttl and frees the headroom', async () => {
      const clock = fakeClock();
      const s = await ready(make(kind, clock.now));
      expect((await s.reserve('b', { ...win, limit: 10, amount: 10, reservationId: 'lost', ttlMs: 90_000 })).ok).toBe(
        true,
      );
      expect((await s.reserve('b', { ...win, limit: 10, amount: 1, reservationId: 'n1', ttlMs: 90_000 })).ok).toBe(
        false,
      );
      clock.advance(89_999);
      expect(await s.budgetStatus('b', win)).toEqual({ used: 0, reserved: 10 });
      clock.advance(1);
      expect(await s.budgetStatus('b', win)).toEqual({ used: 0, reserved: 0 }); // read-only view skips expired ones
      expect(await s.reserve('b', { ...win, limit: 10, amount: 4, reservationId: 'n2', ttlMs: 90_000 })).toEqual({
        ok: true,
        used: 0,
        reserved: 4,
        remaining: 6,
      });
      // The sidecar that held "lost" comes back and settles after all: the money was spent.
      expect(await s.settle('b', { ...win, reservationId: 'lost', actual: 3 })).toEqual({ used: 3, reserved: 4 });
    });

    it('budget: an unsettled reservation expires on the real clock too', async () => {
      const s = await ready(make(kind));
      expect((await s.reserve('b', { ...win, limit: 5, amount: 5, reservationId: 'lost', ttlMs: 150 })).ok).toBe(true);
      expect((await s.reserve('b', { ...win, limit: 5, amount: 5, reservationId: 'n1', ttlMs: 150 })).ok).toBe(false);
      await sleep(250);
      expect((await s.reserve('b', { ...win, limit: 5, amount: 5, reservationId: 'n2', ttlMs: 60_000 })).ok).toBe(true);
    });

    it('budget: settle is idempotent; re-reserving a live id is a no-op; a settled id cannot be reserved again', async () => {
      const clock = fakeClock();
      const s = await ready(make(kind, clock.now));
      const req = { ...win, limit: 100, amount: 30, reservationId: 'r1', ttlMs: 60_000 };
      expect(await s.reserve('b', req)).toMatchObject({ ok: true, reserved: 30 });
      expect(await s.reserve('b', req)).toMatchObject({ ok: true, reserved: 30 });
      expect(await s.settle('b', { ...win, reservationId: 'r1', actual: 20 })).toEqual({ used: 20, reserved: 0 });
      expect(await s.settle('b', { ...win, reservationId: 'r1', actual: 20 })).toEqual({ used: 20, reserved: 0 });
      await expect(s.reserve('b', req)).rejects.toThrow(RangeError);
      // An id never reserved still counts what was spent, once.
      expect(await s.settle('b', { ...win, reservationId: 'ghost', actual: 5 })).toEqual({ used: 25, reserved: 0 });
      expect(await s.settle('b', { ...win, reservationId: 'ghost', actual: 5 })).toEqual({ used: 25, reserved: 0 });
      // The settled ids are forgotten after SETTLED_ID_KEEP_MS (past the reservation's own expiry).
      clock.advance(60_000 + SETTLED_ID_KEEP_MS);
      expect(await s.settle('b', { ...win, reservationId: 'ghost', actual: 5 })).toEqual({ used: 30, reserved: 0 });
    });

    it('budget: windows roll over in UTC (1d and month), each with its own counter', async () => {
      // One second before the current month ends (real time, see fakeClock): 1d and month both roll over.
      const clock = fakeClock(budgetWindow('month', Date.now()).endsAt! - 1000);
      const s = await ready(make(kind, clock.now));
      for (const period of ['1d', 'month'] as const) {
        const w1 = budgetWindow(period, clock.now());
        const key = `b-${period}`;
        const res = (id: string, w: typeof w1) =>
          s.reserve(key, {
            windowId: w.id,
            windowEndsAt: w.endsAt,
            limit: 10,
            amount: 10,
            reservationId: id,
            ttlMs: 60_000,
          });
        expect((await res(`${period}-1`, w1)).ok).toBe(true);
        await s.settle(key, { windowId: w1.id, windowEndsAt: w1.endsAt, reservationId: `${period}-1`, actual: 10 });
        expect((await res(`${period}-2`, w1)).ok).toBe(false);
        const w2 = budgetWindow(period, w1.endsAt!); // the first ms of the next window
        expect(w2.id).not.toBe(w1.id);
        expect(await res(`${period}-3`, w2)).toMatchObject({ ok: true, used: 0 });
        expect(await s.budgetStatus(key, { windowId: w1.id })).toEqual({ used: 10, reserved: 0 });
      }
      const never = budgetWindow('never', clock.now());
      expect(
        (
          await s.reserve('n', {
            windowId: never.id,
            windowEndsAt: never.endsAt,
            limit: 1,
            amount: 1,
            reservationId: 'x',
            ttlMs: 1000,
          })
        ).ok,
      ).toBe(true);
    });

    it('get/set with a ttl', async () => {
      const s = await ready(make(kind));
      expect(await s.get('nothing')).toBeUndefined();
      const v = Buffer.from([0, 1, 2, 255, 0x7b]);
      await s.set('c1', v, 200);
      await s.set('c2', Buffer.from('kept'), 60_000);
      expect(await s.get('c1')).toEqual(v);
      await sleep(350);
      expect(await s.get('c1')).toBeUndefined();
      expect((await s.get('c2'))?.toString()).toBe('kept');
      expect(await s.ping()).toBe(true);
    });

    it('rejects malformed arguments as RangeError before touching the store', async () => {
      const s = await ready(make(kind));
      await expect(s.rateLimit('k', { limit: 0, periodMs: 1000, cost: 1 })).rejects.toThrow(RangeError);
      await expect(s.rateLimit('k', { limit: 10, periodMs: 1000, cost: -1 })).rejects.toThrow(RangeError);
      await expect(s.rateLimit('', { limit: 10, periodMs: 1000, cost: 1 })).rejects.toThrow(RangeError);
      await expect(s.rateAdjust('k', { limit: 10, periodMs: 1000, delta: 0.5 })).rejects.toThrow(RangeError);
      await expect(
        s.reserve('b', { ...win, limit: 10, amount: 0.25, reservationId: 'r', ttlMs: 1000 }),
      ).rejects.toThrow(RangeError);
      await expect(s.reserve('b', { ...win, limit: 10, amount: 1, reservationId: '', ttlMs: 1000 })).rejects.toThrow(
        RangeError,
      );
      await expect(s.settle('b', { ...win, reservationId: 'r', actual: -3 })).rejects.toThrow(RangeError);
      await expect(s.set('c', Buffer.from('x'), 0)).rejects.toThrow(RangeError);
    });

    it('a closed store rejects as unavailable', async () => {
      const s = await ready(make(kind));
      await s.close();
      await expect(s.rateLimit('k', { ...RPM10, cost: 1 })).rejects.toBeInstanceOf(StateStoreUnavailable);
      expect(await s.ping()).toBe(false);
    });
  });
});

describe.skipIf(!hasRedisServer)('redis store (real redis-server)', () => {
  it('openStateStore builds memory by default and redis from a url', async () => {
    const m = await openStateStore({});
    expect(m.kind).toBe('memory');
    await m.close();
    const r = await openStateStore({ store: 'redis', redis_url: server!.url });
    opened.push(r);
    expect(r.kind).toBe('redis');
    expect(await r.ping()).toBe(true);
    await expect(openStateStore({ store: 'redis' })).rejects.toThrow(/redis_url/);
    await expect(openStateStore({ store: 'redis', redis_url: 'http://x' })).rejects.toThrow(/redis:\/\//);
  });

  it('three clients (three sidecars) firing 30 concurrent admits against 10/min: exactly 10 pass', async () => {
    const prefix = `fleet${nextPrefix++}:`;
    const fleet = [0, 1, 2].map(() => new RedisStateStore({ url: server!.url, keyPrefix: prefix }));
    opened.push(...fleet);
    for (const s of fleet) expect(await s.waitReady(5000)).toBe(true);
    const ds = await Promise.all(range(30).map((i) => fleet[i % 3].rateLimit('vk:app:rpm', { ...RPM10, cost: 1 })));
    expect(ds.filter((d) => d.allowed).length).toBe(10);
    const bs = await Promise.all(
      range(99).map((i) =>
        fleet[i % 3].reserve('vk:app:budget', { ...win, limit: 10, amount: 1, reservationId: `r${i}`, ttlMs: 60_000 }),
      ),
    );
    expect(bs.filter((d) => d.ok).length).toBe(10);
  });

  it('the Lua scripts decide exactly as the TypeScript memory store over a random run', async () => {
    const clock = fakeClock();
    const mem = make('memory', clock.now);
    const red = await ready(make('redis', clock.now));
    let seed = 99;
    const rnd = (n: number) => ((seed = (seed * 48271) % 2147483647), seed % n);
    for (let i = 0; i < 400; i++) {
      clock.advance(rnd(4) === 0 ? 0 : rnd(3000));
      const limit = [7, 10, 13][rnd(3)]; // limits change on "config reload" too
      const key = `k${rnd(2)}`;
      const op = rnd(10);
      if (op < 6) {
        const req = { limit, periodMs: 60_000, cost: rnd(4) };
        expect(await red.rateLimit(key, req)).toEqual(await mem.rateLimit(key, req));
      } else if (op < 7) {
        const req = { limit, periodMs: 60_000, delta: rnd(9) - 4 };
        await Promise.all([red.rateAdjust(key, req), mem.rateAdjust(key, req)]);
      } else if (op < 9) {
        const req = { ...win, limit: 50, amount: rnd(10), reservationId: `r${rnd(40)}`, ttlMs: 1000 + rnd(20_000) };
        const [a, b] = await Promise.allSettled([red.reserve(key, req), mem.reserve(key, req)]);
        expect(a.status).toBe(b.status);
        if (a.status === 'fulfilled' && b.status === 'fulfilled') expect(a.value).toEqual(b.value);
      } else {
        const req = { ...win, reservationId: `r${rnd(40)}`, actual: rnd(12) };
        expect(await red.settle(key, req)).toEqual(await mem.settle(key, req));
        expect(await red.budgetStatus(key, win)).toEqual(await mem.budgetStatus(key, win));
      }
    }
  });

  it('keys: prefixed, hash-tagged per logical key, and expiring', async () => {
    const raw = new Redis(server!.url);
    try {
      const s = await ready(new RedisStateStore({ url: server!.url, keyPrefix: 'layout:' }));
      opened.push(s);
      const endsAt = Date.now() + 3_600_000;
      await s.rateLimit('vk:a', { ...RPM10, cost: 1 });
      await s.reserve('vk:a', {
        windowId: '1d:x',
        windowEndsAt: endsAt,
        limit: 10,
        amount: 1,
        reservationId: 'r',
        ttlMs: 60_000,
      });
      await s.reserve('vk:a', {
        windowId: 'never',
        windowEndsAt: null,
        limit: 10,
        amount: 1,
        reservationId: 'r',
        ttlMs: 60_000,
      });
      await s.set('entry', Buffer.from('v'), 60_000);
      expect((await raw.keys('layout:*')).sort()).toEqual([
        'layout:c:entry',
        'layout:{vk:a}:b:1d:x',
        'layout:{vk:a}:b:1d:x:z',
        'layout:{vk:a}:b:never',
        'layout:{vk:a}:b:never:z',
        'layout:{vk:a}:rl',
      ]);
      const rlTtl = await raw.pttl('layout:{vk:a}:rl');
      expect(rlTtl).toBeGreaterThan(5000);
      expect(rlTtl).toBeLessThanOrEqual(6001);
      for (const k of ['layout:{vk:a}:b:1d:x', 'layout:{vk:a}:b:1d:x:z']) {
        expect(Number(await raw.call('PEXPIRETIME', k))).toBe(endsAt + WINDOW_GRACE_MS);
      }
      expect(await raw.pttl('layout:{vk:a}:b:never')).toBe(-1); // "never" keeps its total
      expect(await raw.hgetall('layout:{vk:a}:b:1d:x')).toEqual({ reserved: '1', 'a:r': '1' });
    } finally {
      raw.disconnect();
    }
  });

  it('recovers from a flushed script cache (NOSCRIPT) without failing a call', async () => {
    const s = await ready(make('redis'));
    expect((await s.rateLimit('k', { ...RPM10, cost: 1 })).allowed).toBe(true);
    const raw = new Redis(server!.url);
    await raw.script('FLUSH');
    raw.disconnect();
    expect((await s.rateLimit('k', { ...RPM10, cost: 1 })).remaining).toBe(8);
    expect((await s.reserve('b', { ...win, limit: 10, amount: 1, reservationId: 'r', ttlMs: 1000 })).ok).toBe(true);
  });
});

describe.skipIf(!hasRedisServer)('redis store when Redis goes away', () => {
  let own: RedisServer;
  beforeAll(async () => {
    own = await startRedisServer();
  });
  afterAll(async () => {
    await own?.stop();
  });

  /** Runs op and returns how it ended and how long it took. */
  async function timed(op: () => Promise<unknown>): Promise<{ ms: number; error?: unknown }> {
    const t0 = performance.now();
    try {
      await op();
      return { ms: performance.now() - t0 };
    } catch (error) {
      return { ms: performance.now() - t0, error };
    }
  }

  it('killed mid-run: operations reject with StateStoreUnavailable within ~1 s; restarted: they succeed again on the same store', async () => {
    const s = new RedisStateStore({ url: own.url, keyPrefix: 'kill:' });
    opened.push(s);
    expect(await s.waitReady(5000)).toBe(true);
    const admit = () => s.rateLimit('k', { limit: 1_000_000, periodMs: 60_000, cost: 1 });
    const reserve = (i: number) =>
      s.reserve('b', { ...win, limit: 1_000_000, amount: 1, reservationId: `r${i}`, ttlMs: 60_000 });

    // In flight while Redis dies: a burst of operations, then SIGKILL.
    const inflight = range(50).map((i) => timed(() => (i % 2 ? admit() : reserve(i))));
    await own.kill();
    const settled = await Promise.all(inflight);
    for (const r of settled) {
      expect(r.ms).toBeLessThan(1500);
      if (r.error) expect(r.error).toBeInstanceOf(StateStoreUnavailable);
    }

    // While it is down: every kind of operation fails fast and typed.
    const ops: (() => Promise<unknown>)[] = [
      admit,
      () => reserve(1000),
      () => s.settle('b', { ...win, reservationId: 'r0', actual: 1 }),
      () => s.budgetStatus('b', win),
      () => s.get('c'),
      () => s.set('c', Buffer.from('v'), 1000),
      () => s.rateAdjust('k', { limit: 10, periodMs: 1000, delta: 1 }),
    ];
    for (let round = 0; round < 3; round++) {
      for (const op of ops) {
        const r = await timed(op);
        expect(r.error).toBeInstanceOf(StateStoreUnavailable);
        expect(r.ms).toBeLessThan(1200);
      }
      await sleep(300);
    }
    expect(await s.ping()).toBe(false);

    // Back on the same port (empty): the same store reconnects by itself.
    await own.restart();
    const deadline = Date.now() + 8000;
    let ok = false;
    while (!ok && Date.now() < deadline) {
      ok = (await timed(admit)).error === undefined;
      if (!ok) await sleep(100);
    }
    expect(ok).toBe(true);
    expect((await reserve(2000)).ok).toBe(true);
    expect(await s.ping()).toBe(true);
  });

  it('hung (SIGSTOP): operations time out as StateStoreUnavailable; resumed: they succeed', async () => {
    const s = new RedisStateStore({ url: own.url, keyPrefix: 'hang:', commandTimeoutMs: 500 });
    opened.push(s);
    expect(await s.waitReady(5000)).toBe(true);
    const pid = own.pid()!;
    process.kill(pid, 'SIGSTOP');
    try {
      const t0 = performance.now();
      const err = await s.rateLimit('k', { ...RPM10, cost: 1 }).catch((e) => e);
      expect(err).toBeInstanceOf(StateStoreUnavailable);
      expect(performance.now() - t0).toBeLessThan(1200);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const deadline = Date.now() + 8000;
    let ok = false;
    while (!ok && Date.now() < deadline) {
      ok = await s.rateLimit('k', { ...RPM10, cost: 1 }).then(
        () => true,
        () => false,
      );
      if (!ok) await sleep(100);
    }
    expect(ok).toBe(true);
  });

  it('a store opened while Redis is down starts anyway and connects when Redis comes up', async () => {
    await own.kill();
    const t0 = performance.now();
    const s = await openStateStore(
      { store: 'redis', redis_url: own.url },
      { connectWaitMs: 300, redis: { keyPrefix: 'late:' } },
    );
    opened.push(s);
    expect(performance.now() - t0).toBeLessThan(1000);
    await expect(s.rateLimit('k', { ...RPM10, cost: 1 })).rejects.toBeInstanceOf(StateStoreUnavailable);
    await own.restart();
    const deadline = Date.now() + 8000;
    let ok = false;
    while (!ok && Date.now() < deadline) {
      ok = await s.rateLimit('k', { ...RPM10, cost: 1 }).then(
        () => true,
        () => false,
      );
      if (!ok) await sleep(100);
    }
    expect(ok).toBe(true);
  });
});
