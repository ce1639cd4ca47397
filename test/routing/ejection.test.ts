// Slow-target ejection: thresholds, the group cap, cooldown and the half-open probe (fake clock).
import { describe, expect, it } from 'vitest';
import { DEFAULT_EJECTION, findSlow, type GroupMember } from '../../src/routing/ejection.js';
import { HealthRegistry } from '../../src/routing/health.js';

const o = { ...DEFAULT_EJECTION, min_gap_ms: 50 };
const m = (key: string, ewmaMs: number, samples = 20, over: Partial<GroupMember> = {}): GroupMember => ({
  key,
  ewmaMs,
  samples,
  ejected: false,
  broken: false,
  ...over,
});

describe('findSlow', () => {
  it('ejects above factor × the best healthy sibling, not at or below it', () => {
    expect(findSlow([m('a', 100), m('b', 301), m('c', 120)], o)).toEqual([{ key: 'b', ewmaMs: 301, bestMs: 100 }]);
    expect(findSlow([m('a', 100), m('b', 300), m('c', 120)], o)).toEqual([]);
  });

  it('needs min_samples on both sides', () => {
    expect(findSlow([m('a', 100), m('b', 900, 19), m('c', 120)], o)).toEqual([]);
    expect(findSlow([m('a', 100, 19), m('b', 900)], o)).toEqual([]);
  });

  it('needs the absolute gap too: 3 ms against 1 ms is noise, not a gray failure', () => {
    expect(findSlow([m('a', 1), m('b', 3.5)], { ...o, min_gap_ms: 250 })).toEqual([]);
  });

  it('compares against healthy siblings only (not ejected, breaker not open)', () => {
    const members = [m('a', 10, 20, { broken: true }), m('b', 15, 20, { ejected: true }), m('c', 100), m('d', 320)];
    expect(findSlow(members, o)).toEqual([{ key: 'd', ewmaMs: 320, bestMs: 100 }]);
  });

  it('ejects at most half of a group, slowest first', () => {
    const four = [m('a', 100), m('b', 500), m('c', 900), m('d', 700)];
    expect(findSlow(four, o).map((s) => s.key)).toEqual(['c', 'd']);
    const oneOut = [m('a', 100), m('b', 500, 20, { ejected: true }), m('c', 900), m('d', 700)];
    expect(findSlow(oneOut, o).map((s) => s.key)).toEqual(['c']);
    // two targets: one may go; three: still one
    expect(findSlow([m('a', 100), m('b', 500)], o).map((s) => s.key)).toEqual(['b']);
    expect(findSlow([m('a', 100), m('b', 500), m('c', 600)], o).map((s) => s.key)).toEqual(['c']);
  });

  it('does nothing when disabled', () => {
    expect(findSlow([m('a', 100), m('b', 900)], { ...o, enabled: false })).toEqual([]);
  });
});

describe('HealthRegistry with ejection', () => {
  function setup() {
    let t = 1_000_000;
    const clock = { now: () => t, advance: (ms: number) => (t += ms) };
    const h = new HealthRegistry(5, 30_000, clock.now, { ...o, cooldown_ms: 5_000 }, 10_000);
    const group = ['fast', 'slow'];
    const feed = (key: string, ms: number, n: number) => {
      const out = [];
      for (let i = 0; i < n; i++) {
        clock.advance(10);
        h.attemptStarted(key);
        out.push(...h.attemptEnded(key, ms, true, group));
      }
      return out;
    };
    return { h, clock, feed, group };
  }

  it('ejects a target 6× slower after the minimum samples, then probes it once after the cooldown', () => {
    const { h, clock, feed, group } = setup();
    expect(feed('fast', 20, 20)).toEqual([]);
    expect(feed('slow', 120, 19)).toEqual([]); // 19 samples: not yet
    const changes = feed('slow', 120, 1);
    expect(changes).toEqual([{ action: 'eject', key: 'slow', ewmaMs: 120, bestMs: 20 }]);
    expect(h.state('slow')).toBe('open');
    expect(h.snapshot()).toMatchObject({ slow: 'open' });
    clock.advance(5_000);
    expect(h.state('slow')).toBe('half_open');
    h.attemptStarted('slow'); // the probe
    expect(h.state('slow')).toBe('open'); // one probe at a time
    // still slow: out for another cooldown
    expect(h.attemptEnded('slow', 130, true, group)).toMatchObject([{ action: 'eject', key: 'slow' }]);
    expect(h.state('slow')).toBe('open');
    clock.advance(5_000);
    h.attemptStarted('slow');
    // recovered: back in the group
    expect(h.attemptEnded('slow', 25, true, group)).toMatchObject([{ action: 'return', key: 'slow' }]);
    expect(h.state('slow')).toBe('closed');
  });

  it('a probe cancelled before it was slow gives no verdict: the next request probes', () => {
    const { h, clock, feed, group } = setup();
    feed('fast', 20, 20);
    feed('slow', 120, 20);
    expect(h.state('slow')).toBe('open');
    clock.advance(5_000);
    h.attemptStarted('slow');
    expect(h.attemptEnded('slow', 30, false, group)).toEqual([]);
    expect(h.state('slow')).toBe('half_open');
  });

  it('an open breaker and an ejection: the target is out while either holds it out', () => {
    const { h, feed } = setup();
    feed('fast', 20, 20);
    feed('slow', 120, 20);
    for (let i = 0; i < 5; i++) h.failure('fast');
    expect(h.state('fast')).toBe('open');
    expect(h.state('slow')).toBe('open');
    h.success('fast');
    expect(h.state('fast')).toBe('closed');
  });
});
