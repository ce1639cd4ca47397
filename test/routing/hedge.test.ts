// The hedge budget (token bucket), the p95 window and the race's decisions.
import { describe, expect, it } from 'vitest';
import { LatencyWindow, TokenBucket } from '../../src/routing/hedge-budget.js';
import { Race, runRace, type RaceRunResult, type Slot } from '../../src/routing/hedge.js';
import { AbortReason } from '../../src/routing/outcome.js';

describe('TokenBucket', () => {
  it('allows a burst down to half the bucket, then hedges at the budget rate', () => {
    const b = new TokenBucket(0.05, 10);
    let hedges = 0;
    // every request wants a hedge (a global slowdown)
    for (let i = 0; i < 1000; i++) {
      b.request();
      if (b.tryHedge()) hedges++;
    }
    // 5 from the burst (10 → 5 tokens), then one per 20 requests
    expect(hedges).toBeGreaterThanOrEqual(50);
    expect(hedges).toBeLessThanOrEqual(5 + 1000 * 0.05);
    expect(b.tokens).toBeGreaterThanOrEqual(5 - 1e-9);
  });

  it('failures spend the budget too: hedging stops while they outrun it', () => {
    const b = new TokenBucket(0.05, 10);
    for (let i = 0; i < 6; i++) b.failure();
    expect(b.tokens).toBe(4);
    expect(b.tryHedge()).toBe(false);
    // the bucket refills at 0.05 a request: 40 requests to get back above 5 + 1
    for (let i = 0; i < 39; i++) b.request();
    expect(b.tryHedge()).toBe(false);
    for (let i = 0; i < 2; i++) b.request();
    expect(b.tryHedge()).toBe(true);
  });

  it('never holds more than its size', () => {
    const b = new TokenBucket(1, 10);
    for (let i = 0; i < 100; i++) b.request();
    expect(b.tokens).toBe(10);
  });
});

describe('LatencyWindow', () => {
  it('has no p95 before its minimum samples, then the 95th percentile of the last ones', () => {
    const w = new LatencyWindow(100, 1, 20);
    for (let i = 1; i <= 19; i++) w.add(i);
    expect(w.p95()).toBeUndefined();
    for (let i = 20; i <= 100; i++) w.add(i);
    expect(w.p95()).toBe(95);
    for (let i = 0; i < 100; i++) w.add(1000 + i); // the window forgets old samples
    expect(w.p95()).toBe(1094);
  });
});

/** A scripted runner: child i settles after delays[i] ms (fake: we drive it by hand). */
function scripted() {
  const calls: Array<{ child: number; slot: Slot; settle: (r: RaceRunResult) => void }> = [];
  const run = (child: number, slot: Slot) =>
    new Promise<RaceRunResult>((resolve) => {
      calls.push({ child, slot, settle: resolve });
      slot.signal.addEventListener('abort', () => resolve({ ok: false, outcome: 'cancelled' }));
    });
  return { calls, run };
}
const tick = () => new Promise((r) => setTimeout(r, 0));
/** Polls (bounded): timers on a loaded machine fire late, never early. */
async function until(ok: () => boolean, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
}

describe('runRace', () => {
  it('starts the next candidate after the delay; the first to claim wins and the other is aborted', async () => {
    const { calls, run } = scripted();
    const race = new Race();
    const budget = new TokenBucket(0.05);
    const p = runRace(
      { candidates: [2, 0, 1], maxAttempts: 2, delayMs: 5, budget, fallback: () => true },
      race,
      new AbortController().signal,
      run,
    );
    await tick();
    expect(calls.map((c) => c.child)).toEqual([2]);
    await until(() => calls.length >= 2);
    await new Promise((r) => setTimeout(r, 30)); // room for a wrong third start
    expect(calls.map((c) => c.child)).toEqual([2, 0]); // one hedge: max_attempts 2
    expect(calls[1].slot.hedge).toBe(true);
    expect(calls[0].slot.hedge).toBe(false);
    expect(calls[1].slot.claim()).toBe(true);
    expect(calls[0].slot.signal.aborted).toBe(true);
    expect((calls[0].slot.signal.reason as AbortReason).kind).toBe('hedge');
    expect(calls[0].slot.claim()).toBe(false);
    calls[1].settle({ ok: true });
    const sum = await p;
    expect(sum).toEqual({ result: { ok: true }, hedges: 1, throttled: 0 });
  });

  it('tells the caller which attempts are overdue when the delay passes, hedge or not', async () => {
    const { calls, run } = scripted();
    const overdue: string[][] = [];
    const p = runRace(
      {
        candidates: [0, 1],
        maxAttempts: 2,
        delayMs: 1,
        budget: new TokenBucket(0.05),
        fallback: () => true,
        overdue: (slots) => overdue.push(slots.map((s) => s.current?.key ?? '?')),
      },
      new Race(),
      new AbortController().signal,
      (child, slot) => {
        slot.current = { key: `t${child}`, startedAt: 0 };
        return run(child, slot);
      },
    );
    await until(() => calls.length >= 2);
    expect(overdue).toEqual([['t0']]);
    calls[1].slot.claim();
    calls[1].settle({ ok: true });
    await p;
  });

  it('no hedge when the budget refuses: counted as throttled, the primary still answers', async () => {
    const { calls, run } = scripted();
    const budget = new TokenBucket(0, 10);
    for (let i = 0; i < 5; i++) budget.failure();
    let asked = 0;
    const tryHedge = budget.tryHedge.bind(budget);
    budget.tryHedge = () => {
      asked++;
      return tryHedge();
    };
    const p = runRace(
      { candidates: [0, 1], maxAttempts: 2, delayMs: 1, budget, fallback: () => true },
      new Race(),
      new AbortController().signal,
      run,
    );
    await until(() => asked > 0); // the delay passed and the budget was asked
    expect(calls).toHaveLength(1);
    calls[0].slot.claim();
    calls[0].settle({ ok: true });
    expect(await p).toMatchObject({ hedges: 0, throttled: 1 });
  });

  it('a failure with nothing else running falls back at once when the group allows it', async () => {
    const { calls, run } = scripted();
    const p = runRace(
      { candidates: [0, 1], maxAttempts: 2, delayMs: undefined, budget: new TokenBucket(0.05), fallback: () => true },
      new Race(),
      new AbortController().signal,
      run,
    );
    await tick();
    calls[0].settle({ ok: false, outcome: 'http_error' });
    await tick();
    expect(calls.map((c) => c.child)).toEqual([0, 1]);
    expect(calls[1].slot.hedge).toBe(false); // a fallback, not a hedge
    calls[1].slot.claim();
    calls[1].settle({ ok: true });
    expect(await p).toMatchObject({ result: { ok: true }, hedges: 0 });
  });

  it('the client leaving aborts every slot', async () => {
    const { calls, run } = scripted();
    const client = new AbortController();
    const p = runRace(
      { candidates: [0, 1], maxAttempts: 2, delayMs: 1, budget: new TokenBucket(0.05), fallback: () => true },
      new Race(),
      client.signal,
      run,
    );
    await until(() => calls.length >= 2);
    expect(calls).toHaveLength(2);
    client.abort(new AbortReason('client'));
    const sum = await p;
    expect(sum.result).toEqual({ ok: false, outcome: 'cancelled' });
    expect(calls.every((c) => c.slot.signal.aborted)).toBe(true);
  });

  it('a nested race claims through its enclosing slot', () => {
    const outer = new Race();
    const signal = new AbortController().signal;
    const a = outer.slot(false, signal);
    const b = outer.slot(true, signal);
    const inner = new Race(b);
    const bx = inner.slot(false, b.signal);
    expect(bx.hedge).toBe(true); // a hedge's subtree is a hedge
    expect(a.claim()).toBe(true);
    expect(bx.claim()).toBe(false);
    expect(bx.signal.aborted).toBe(true);
  });
});
