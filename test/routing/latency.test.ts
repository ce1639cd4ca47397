// PeakEWMA and the latency balancer's decisions, on a fake clock.
import { describe, expect, it } from 'vitest';
import { latencyPick, rankAll, weightedPick } from '../../src/routing/balancer.js';
import { decide } from '../../src/routing/decide.js';
import { LatencyBook, PeakEwma, UNMEASURED_PENALTY } from '../../src/routing/peak-ewma.js';
import { ROOT } from '../../src/routing/tree.js';
import type { TargetSpec } from '../../src/config/schema.js';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/** A fixed sequence of random numbers, repeated. */
const seq = (...xs: number[]) => {
  let i = 0;
  return () => xs[i++ % xs.length];
};

describe('PeakEwma', () => {
  it('jumps to a slower sample at once and decays towards faster ones over the decay time', () => {
    const c = clock();
    const p = new PeakEwma(10_000, c.now());
    p.observe(100, c.now());
    expect(p.value(c.now())).toBe(100);
    p.observe(600, c.advance(10)); // peak: at once
    expect(p.value(c.now())).toBe(600);
    c.advance(10_000); // one decay time later, a fast sample: weight e^-1 on the old cost
    p.observe(100, c.now());
    expect(p.value(c.now())).toBeCloseTo(600 * Math.exp(-1) + 100 * (1 - Math.exp(-1)), 6);
  });

  it('decays towards 0 while idle, so a target that stopped getting traffic is tried again', () => {
    const c = clock();
    const p = new PeakEwma(10_000, c.now());
    p.observe(120, c.now());
    c.advance(10_000 * Math.log(6)); // 120 ms decays to the 20 ms of a fast sibling after tau·ln 6
    expect(p.value(c.now())).toBeCloseTo(20, 6);
  });
});

describe('LatencyBook', () => {
  it('orders targets by PeakEWMA × (in flight + 1)', () => {
    const c = clock();
    const b = new LatencyBook(10_000, c.now);
    b.observe('fast', 20);
    b.observe('slow', 120);
    expect(b.score('fast')).toBeLessThan(b.score('slow'));
    // five requests in flight on the fast one: 20 × 6 = 120, now even with the slow one at 120 × 1
    for (let i = 0; i < 5; i++) b.started('fast');
    expect(b.score('fast')).toBeCloseTo(b.score('slow'), 6);
    b.started('fast');
    expect(b.score('fast')).toBeGreaterThan(b.score('slow'));
    b.ended('fast');
    b.ended('fast');
    expect(b.score('fast')).toBeLessThan(b.score('slow'));
  });

  it('an outstanding request older than the estimate counts as its age', () => {
    const c = clock();
    const b = new LatencyBook(10_000, c.now);
    b.observe('t', 2000);
    const old = b.started('t');
    c.advance(1000);
    b.started('t');
    expect(b.score('t')).toBeCloseTo(2000 * Math.exp(-0.1) * 3, 6); // younger than its cost: the cost
    c.advance(7000); // the first has waited 8 s: the target costs at least that
    expect(b.score('t')).toBe(8000 * 3);
    b.ended('t', old);
    expect(b.score('t')).toBe(7000 * 2); // the other one is 7 s old
  });

  it('an unmeasured target is free until it has a request in flight, then heavily penalised', () => {
    const b = new LatencyBook(10_000, clock().now);
    expect(b.score('new')).toBe(0);
    b.started('new');
    expect(b.score('new')).toBeGreaterThanOrEqual(UNMEASURED_PENALTY);
  });

  it('failed and cancelled attempts only raise the figures (censored samples)', () => {
    const c = clock();
    const b = new LatencyBook(10_000, c.now);
    b.observe('t', 100);
    c.advance(1000);
    b.observeAtLeast('t', 5); // failed fast: says nothing about its speed
    expect(b.ewma('t')).toEqual({ ms: 100, samples: 1 });
    b.observeAtLeast('t', 900); // cut off at 900 ms: at least that slow
    expect(b.ewma('t').ms).toBeGreaterThan(100);
    expect(b.ewma('t').samples).toBe(2);
  });
});

describe('balancers', () => {
  it('weightedPick follows the weights', () => {
    expect(weightedPick([0, 1, 2], [1, 0, 3], () => 0.1)).toBe(0);
    expect(weightedPick([0, 1, 2], [1, 0, 3], () => 0.3)).toBe(2);
  });

  it('latencyPick draws two distinct weighted candidates and keeps the lower score', () => {
    const score = (i: number) => [50, 10, 90][i];
    // draws 0 then (among 1, 2) 1: 1 wins on score
    expect(latencyPick([0, 1, 2], [1, 1, 1], score, seq(0.1, 0.1))).toBe(1);
    // draws 2 then 0: 0 wins
    expect(latencyPick([0, 1, 2], [1, 1, 1], score, seq(0.9, 0.1))).toBe(0);
    // one candidate: no comparison
    expect(latencyPick([2], [1, 1, 1], score, seq(0.5))).toBe(2);
  });

  it('the slowest of three is chosen only when drawn against nothing faster: never, with two fast siblings', () => {
    const score = (i: number) => [20, 20, 120][i];
    let slow = 0;
    const rng = seq(0.05, 0.93, 0.41, 0.77, 0.12, 0.68, 0.99, 0.33, 0.51, 0.02);
    for (let n = 0; n < 1000; n++) if (latencyPick([0, 1, 2], [1, 1, 1], score, rng) === 2) slow++;
    expect(slow).toBe(0);
  });

  it('rankAll gives every candidate once, the pick first', () => {
    const order = rankAll([0, 1, 2], (c) => c[c.length - 1]);
    expect(order).toEqual([2, 1, 0]);
  });
});

describe('decide with balancer: latency', () => {
  const lb: TargetSpec = {
    strategy: { mode: 'loadbalance', balancer: 'latency' },
    targets: [{ provider: '@a' }, { provider: '@b' }, { provider: '@c' }],
  };
  const scores: Record<string, number> = { '@a': 20, '@b': 25, '@c': 120 };
  const input = (over: Record<string, unknown> = {}) => ({
    metadata: {},
    params: { model: 'm' },
    health: () => 'closed' as const,
    rng: seq(0.9, 0.9), // draws @c, then @b
    score: (k: string) => scores[k.split('|')[0]],
    ...over,
  });

  it('prefers the faster of the two drawn', () => {
    expect(decide(lb, ROOT, input())).toEqual({ order: [1] });
  });

  it('without scores it is the weighted draw (the default balancer)', () => {
    const weighted: TargetSpec = { ...lb, strategy: { mode: 'loadbalance' } };
    expect(decide(weighted, ROOT, input())).toEqual({ order: [2] });
  });

  it('ranked (for hedging) lists every healthy target, open ones last', () => {
    const health = (k: string) => (k.startsWith('@a|') ? ('open' as const) : ('closed' as const));
    const d = decide(lb, ROOT, input({ ranked: true, health, rng: seq(0.9, 0.9, 0.1) }));
    expect(d).toEqual({ order: [1, 2, 0] });
  });
});
