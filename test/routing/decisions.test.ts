// The pure parts: conditions, routing decisions under health, backoff, Retry-After, breakers.
import { describe, expect, it } from 'vitest';
import { matches } from '../../src/routing/conditions.js';
import { decide } from '../../src/routing/decide.js';
import { backoffMs, retryAfterMs } from '../../src/routing/backoff.js';
import { HealthRegistry } from '../../src/routing/health.js';
import { inherit, ROOT } from '../../src/routing/tree.js';
import type { TargetSpec } from '../../src/config/schema.js';

const input = (over: Partial<Parameters<typeof decide>[2]> = {}) => ({
  metadata: {},
  params: { model: 'm' },
  health: () => 'closed' as const,
  rng: () => 0.5,
  ...over,
});

describe('conditions', () => {
  const inp = {
    metadata: { plan: 'paid', tier: '3', region: 'eu-west' },
    params: { model: 'gpt-4o', temperature: 0.7, nested: { a: 1 } },
  };
  it.each([
    [{ 'metadata.plan': 'paid' }, true],
    [{ 'metadata.plan': { $eq: 'free' } }, false],
    [{ 'metadata.plan': { $ne: 'free' } }, true],
    [{ 'metadata.tier': { $gt: 2 } }, true],
    [{ 'metadata.tier': { $gte: 3, $lt: 4 } }, true],
    [{ 'metadata.tier': { $lte: 2 } }, false],
    [{ 'params.temperature': { $lt: 1 } }, true],
    [{ 'params.model': { $in: ['gpt-4o', 'gpt-4.1'] } }, true],
    [{ 'params.model': { $nin: ['gpt-4o'] } }, false],
    [{ 'metadata.region': { $regex: '^eu-' } }, true],
    [{ 'params.nested.a': 1 }, true],
    [{ 'metadata.missing': { $eq: 'x' } }, false],
    [{ $and: [{ 'metadata.plan': 'paid' }, { 'params.model': { $regex: '^gpt' } }] }, true],
    [{ $or: [{ 'metadata.plan': 'free' }, { 'metadata.tier': { $gt: 5 } }] }, false],
  ])('%j → %s', (q, want) => {
    expect(matches(q as Record<string, unknown>, inp)).toBe(want);
  });
  it('rejects unknown operators', () => {
    expect(() => matches({ 'metadata.plan': { $like: 'x' } }, inp)).toThrow(/unknown operator/);
  });
});

describe('decide', () => {
  const fb: TargetSpec = {
    strategy: { mode: 'fallback' },
    targets: [{ provider: '@a' }, { provider: '@b' }, { provider: '@c' }],
  };
  it('fallback keeps config order when all are healthy', () => {
    expect(decide(fb, inherit(ROOT, fb), input())).toEqual({ order: [0, 1, 2] });
  });
  it('fallback moves open-breaker targets to the end (routing around a degraded provider)', () => {
    const health = (k: string) => (k.startsWith('@a|') ? ('open' as const) : ('closed' as const));
    expect(decide(fb, inherit(ROOT, fb), input({ health }))).toEqual({ order: [1, 2, 0] });
  });
  it('loadbalance picks by weight and skips unhealthy and zero-weight targets', () => {
    const lb: TargetSpec = {
      strategy: { mode: 'loadbalance' },
      targets: [
        { provider: '@a', weight: 1 },
        { provider: '@b', weight: 0 },
        { provider: '@c', weight: 3 },
      ],
    };
    expect(decide(lb, ROOT, input({ rng: () => 0.1 }))).toEqual({ order: [0] });
    expect(decide(lb, ROOT, input({ rng: () => 0.3 }))).toEqual({ order: [2] });
    const health = (k: string) => (k.startsWith('@c|') ? ('open' as const) : ('closed' as const));
    expect(decide(lb, ROOT, input({ rng: () => 0.9, health }))).toEqual({ order: [0] });
    const zero: TargetSpec = { strategy: { mode: 'loadbalance' }, targets: [{ provider: '@a', weight: 0 }] };
    expect(decide(zero, ROOT, input())).toEqual({ error: expect.stringMatching(/weight > 0/) });
  });
  it('conditional without a match and without a default is an error, not a hang', () => {
    const c: TargetSpec = {
      // biome-ignore lint/suspicious/noThenProperty: Portkey's conditional routing names the target field `then`
      strategy: { mode: 'conditional', conditions: [{ query: { 'metadata.x': 'y' }, then: 'a' }] },

      targets: [{ name: 'a', provider: '@a' }],
    };
    expect(decide(c, ROOT, input())).toEqual({ error: expect.stringMatching(/no condition matched/) });
  });
  it('is deterministic given its inputs', () => {
    const lb: TargetSpec = { strategy: { mode: 'loadbalance' }, targets: [{ provider: '@a' }, { provider: '@b' }] };
    const a = decide(lb, ROOT, input({ rng: () => 0.7 }));
    const b = decide(lb, ROOT, input({ rng: () => 0.7 }));
    expect(a).toEqual(b);
  });
});

describe('inheritance', () => {
  it('children inherit retry, timeouts and override_params; the child wins', () => {
    const parent = inherit(ROOT, {
      retry: { attempts: 2 },
      request_timeout: 1000,
      override_params: { model: 'x', temperature: 0 },
      provider: '@a',
    });
    const child = inherit(parent, { request_timeout: 500, override_params: { model: 'y' }, provider: '@b' });
    expect(child).toMatchObject({
      retry: { attempts: 2 },
      request_timeout: 500,
      override_params: { model: 'y', temperature: 0 },
    });
  });
});

describe('backoff and Retry-After', () => {
  it('grows exponentially with jitter and is capped', () => {
    expect(backoffMs(0, 200, 5000, () => 0)).toBe(100);
    expect(backoffMs(0, 200, 5000, () => 1)).toBe(200);
    expect(backoffMs(3, 200, 5000, () => 1)).toBe(1600);
    expect(backoffMs(10, 200, 5000, () => 1)).toBe(5000);
    for (let i = 0; i < 50; i++) {
      const v = backoffMs(2, 200, 5000);
      expect(v).toBeGreaterThanOrEqual(400);
      expect(v).toBeLessThanOrEqual(800);
    }
  });
  it('parses retry-after-ms, seconds and HTTP-dates', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs({ 'retry-after-ms': '250' }, now)).toBe(250);
    expect(retryAfterMs({ 'retry-after': '2' }, now)).toBe(2000);
    expect(retryAfterMs({ 'retry-after': '0.5' }, now)).toBe(500);
    expect(retryAfterMs({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }, now)).toBe(3000);
    expect(retryAfterMs({ 'retry-after': 'Wed, 31 Dec 2025 00:00:00 GMT' }, now)).toBe(0);
    expect(retryAfterMs({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(retryAfterMs({}, now)).toBeUndefined();
    expect(retryAfterMs({ 'retry-after-ms': '100', 'retry-after': '9' }, now)).toBe(100);
  });
});

describe('breakers', () => {
  it('open after N failures, half-open after the cooldown, re-opened by a failure, closed by a success', () => {
    let t = 0;
    const h = new HealthRegistry(3, 1000, () => t);
    h.failure('k');
    h.failure('k');
    expect(h.state('k')).toBe('closed');
    h.failure('k');
    expect(h.state('k')).toBe('open');
    t = 1000;
    expect(h.state('k')).toBe('half_open');
    h.failure('k');
    expect(h.state('k')).toBe('open');
    t = 2000;
    expect(h.state('k')).toBe('half_open');
    h.success('k');
    expect(h.state('k')).toBe('closed');
  });

  it('half-open admits one probe at a time; the others see it open until the probe answers', () => {
    let t = 0;
    const h = new HealthRegistry(2, 1000, () => t);
    h.failure('k');
    h.failure('k');
    t = 1000;
    expect(h.state('k')).toBe('half_open');
    h.attemptStarted('k'); // the probe
    expect(h.state('k')).toBe('open');
    h.attemptStarted('k'); // a request that went there anyway (last resort) is no second probe
    t = 1500;
    expect(h.state('k')).toBe('open');
    h.failure('k'); // the probe failed: open for a whole cooldown again
    t = 2400;
    expect(h.state('k')).toBe('open');
    t = 2500;
    expect(h.state('k')).toBe('half_open');
    h.attemptStarted('k');
    h.attemptSettled('k'); // no verdict (cancelled, 4xx): the next request may probe
    expect(h.state('k')).toBe('half_open');
    h.attemptStarted('k');
    t = 3500; // a probe that never reported stops holding the breaker after a cooldown
    expect(h.state('k')).toBe('half_open');
    h.attemptStarted('k');
    h.success('k');
    expect(h.state('k')).toBe('closed');
    h.attemptStarted('k'); // closed: nothing to probe
    expect(h.state('k')).toBe('closed');
  });
});
